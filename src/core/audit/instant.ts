/**
 * Milliseconds since the epoch of a statement timestamp that validateStatement has accepted
 * (DESIGN 2: `YYYY-MM-DDTHH:MM:SSZ`, a real UTC instant), by arithmetic on the digits: the auditor
 * compares every entry's validFrom with the latest earlier one (backdating, DESIGN 8), and
 * formats.ts's timestampMillis (a regular expression and Date objects) shows in its profile. Any
 * other string goes to timestampMillis, so the result is always the same.
 */
import { timestampMillis } from '../statements/formats.ts';

const DAY_MS = 86_400_000;

function digits(s: string, from: number, n: number): number {
  let v = 0;
  for (let i = from; i < from + n; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/**
 * Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant, "chrono-Compatible Low-Level
 * Date Algorithms", days_from_civil).
 */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

const SHAPE = '0000-00-00T00:00:00Z';

export function instantOf(s: string): number | null {
  if (s.length !== 20) return timestampMillis(s);
  for (const i of [4, 7, 10, 13, 16, 19]) if (s.charCodeAt(i) !== SHAPE.charCodeAt(i)) return timestampMillis(s);
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  const hour = digits(s, 11, 2);
  const minute = digits(s, 14, 2);
  const second = digits(s, 17, 2);
  // Out-of-range fields (which validateStatement refuses anyway) are left to the exact parser.
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > 28 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) {
    return timestampMillis(s);
  }
  return daysFromCivil(year, month, day) * DAY_MS + ((hour * 60 + minute) * 60 + second) * 1000;
}
