/**
 * Value formats of DESIGN section 2 as plain predicates: timestamps, names, links, digests and the
 * I-JSON string rules. validate.ts turns a false into a coded error naming the member.
 */
import { DIGEST_RE } from '../bytes.ts';
import { AccordError } from '../errors.ts';

// YYYY-MM-DDTHH:MM:SSZ: RFC 3339 section 5.6 restricted to UTC and whole seconds (DESIGN 2).
// Read by arithmetic on the digits, not a regular expression and Date objects: every statement
// the server admits and every entry an audit reads has two or three timestamps, and this showed
// in both profiles. test/core/statements/timestamp.test.ts checks it against Date.
const SHAPE = '0000-00-00T00:00:00Z';
const SEPARATORS = [4, 7, 10, 13, 16, 19];
const DAY_MS = 86_400_000;

/** The decimal value of n ASCII digits at `from`, or -1 if any is not one ("\d" without /u). */
function digits(s: string, from: number, n: number): number {
  let v = 0;
  for (let i = from; i < from + n; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) {
    // Proleptic Gregorian leap years (RFC 3339 appendix C).
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    return leap ? 29 : 28;
  }
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Days from 1970-01-01 to a proleptic Gregorian date, exact for every year (H. Hinnant,
 * "chrono-Compatible Low-Level Date Algorithms", days_from_civil): ECMAScript time counts the
 * same days (ECMA-262 21.4.1.3, no leap seconds).
 */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/**
 * Parses a statement timestamp to milliseconds since the epoch, or null if it is not exactly
 * `YYYY-MM-DDTHH:MM:SSZ` naming a real calendar instant. A leap second (`:60`) is refused: it has
 * no unambiguous instant in ECMAScript time, and no signatory needs one.
 */
export function timestampMillis(s: unknown): number | null {
  if (typeof s !== 'string' || s.length !== 20) return null;
  for (const i of SEPARATORS) if (s.charCodeAt(i) !== SHAPE.charCodeAt(i)) return null;
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  const hour = digits(s, 11, 2);
  const minute = digits(s, 14, 2);
  const second = digits(s, 17, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return null;
  return daysFromCivil(year, month, day) * DAY_MS + ((hour * 60 + minute) * 60 + second) * 1000;
}

export function isTimestamp(s: unknown): s is string {
  return timestampMillis(s) !== null;
}

/** The statement timestamp of an instant, truncated to whole seconds. */
export function nowTimestamp(date: Date = new Date()): string {
  const t = date instanceof Date ? date.getTime() : NaN;
  if (!Number.isFinite(t)) throw new AccordError('BAD_DATE', 'not a valid date');
  const iso = new Date(t).toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ for years 0000-9999
  if (!/^\d{4}-/.test(iso)) throw new AccordError('BAD_DATE', `year out of range for a statement timestamp: ${iso}`);
  return `${iso.slice(0, 19)}Z`;
}

/** Counts Unicode code points, stopping early once past `limit` (hostile strings can be long). */
export function codePointLength(s: string, limit = Infinity): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // A high surrogate followed by a low surrogate is one code point.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
    if (n > limit) return n;
  }
  return n;
}

// RFC 7493 section 2.1 (I-JSON) forbids noncharacters (Unicode 3.2 definition: U+FDD0-U+FDEF and
// the last two code points of every plane).
const NONCHARACTER_RE = new RegExp(
  '[\\uFDD0-\\uFDEF\\uFFFE\\uFFFF' +
    Array.from({ length: 16 }, (_, p) => `\\u{${(p + 1).toString(16)}FFFE}\\u{${(p + 1).toString(16)}FFFF}`).join('') +
    ']',
  'u',
);
// In a /u character class the surrogate range matches only unpaired surrogates (RFC 7493 2.1).
const LONE_SURROGATE_RE = /[\uD800-\uDFFF]/u;

export function hasNoncharacter(s: string): boolean {
  return NONCHARACTER_RE.test(s);
}

export function hasLoneSurrogate(s: string): boolean {
  return LONE_SURROGATE_RE.test(s);
}

// DESIGN 2: "control or bidirectional formatting characters" are category Cc and U+061C, U+200E,
// U+200F, U+202A-U+202E, U+2066-U+2069.
const FORBIDDEN_NAME_CHAR_RE = /[\p{Cc}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u;

export function hasForbiddenNameChar(s: string): boolean {
  return FORBIDDEN_NAME_CHAR_RE.test(s);
}

export function isNfc(s: string): boolean {
  // normalize() throws RangeError only for a bad form argument, never for the string itself.
  return s.normalize('NFC') === s;
}

/**
 * Parses with the WHATWG URL Standard (the global URL, as in Node and browsers), as DESIGN 2
 * requires; null if it does not parse.
 */
export function parseWhatwgUrl(s: string): URL | null {
  try {
    return new URL(s);
  } catch {
    return null;
  }
}

export function isDigest(s: unknown): s is string {
  return typeof s === 'string' && DIGEST_RE.test(s);
}

/** Two capital ASCII letters (DESIGN 2; ISO 3166-1 alpha-2 shape). */
export function isCountryCode(s: unknown): s is string {
  return typeof s === 'string' && /^[A-Z]{2}$/.test(s);
}
