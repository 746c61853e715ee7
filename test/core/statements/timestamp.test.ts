/**
 * timestampMillis (core/statements/formats.ts) reads timestamps by arithmetic; these tests hold it
 * to an independent reading with a regular expression and Date (ECMA-262 time), valid or not.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTimestamp, timestampMillis } from '../../../src/core/statements/formats.ts';

const pad = (v: number, w: number): string => String(v).padStart(w, '0');

/** The reference: DESIGN 2's shape by regular expression, the instant by Date, a real date only. */
function reference(s: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/.exec(s);
  if (m === null) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (hour > 23 || minute > 59 || second > 59 || month < 1 || month > 12 || day < 1) return null;
  const d = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0-99 to 1900-1999.
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  // A day past the month's end rolls over into the next month: not a real date.
  if (d.getUTCDate() !== day || d.getUTCMonth() !== month - 1) return null;
  return d.getTime();
}

describe('timestampMillis', () => {
  it('agrees with Date on every field combination, in range or not (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 9999 }),
        fc.integer({ min: 0, max: 13 }),
        fc.integer({ min: 0, max: 32 }),
        fc.integer({ min: 0, max: 24 }),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 0, max: 60 }),
        (y, mo, d, h, mi, s) => {
          const t = `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}T${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}Z`;
          expect(timestampMillis(t)).toBe(reference(t));
        },
      ),
      { numRuns: 20_000 },
    );
  });

  it('agrees on arbitrary strings of the right length (property)', () => {
    const chars = fc.constantFrom(...'0123456789-T:Z +./٣'.split(''));
    fc.assert(
      fc.property(fc.array(chars, { minLength: 20, maxLength: 20 }), (cs) => {
        const t = cs.join('');
        expect(timestampMillis(t)).toBe(reference(t));
      }),
      { numRuns: 5_000 },
    );
  });

  it('reads leap days, the ends of the range and the epoch as Date does', () => {
    for (const t of ['2024-02-29T00:00:00Z', '2000-02-29T23:59:59Z', '0000-01-01T00:00:00Z', '0000-02-29T00:00:00Z', '0099-12-31T23:59:59Z', '9999-12-31T23:59:59Z', '1970-01-01T00:00:00Z', '1969-12-31T23:59:59Z']) {
      expect(timestampMillis(t)).toBe(reference(t));
      expect(timestampMillis(t)).not.toBeNull();
    }
    expect(timestampMillis('1970-01-01T00:00:00Z')).toBe(0);
    expect(timestampMillis('2026-11-22T10:00:00Z')).toBe(Date.parse('2026-11-22T10:00:00Z'));
  });

  it('refuses dates that do not exist, leap seconds and other shapes', () => {
    for (const t of ['2023-02-29T00:00:00Z', '1900-02-29T12:00:00Z', '2026-04-31T00:00:00Z', '2026-13-01T00:00:00Z', '2026-00-10T00:00:00Z', '2026-01-00T00:00:00Z', '2026-06-30T23:59:60Z', '2026-06-30T24:00:00Z', '2026-11-22T10:00:00+00:00', '2026-11-22 10:00:00Z', '2026-11-22T10:00:00.000Z', '2026-11-22t10:00:00z', '+02026-11-22T10:00Z', '', 'x'.repeat(20)]) {
      expect(timestampMillis(t)).toBeNull();
      expect(isTimestamp(t)).toBe(false);
    }
    for (const v of [null, undefined, 20, {}, ['2026-11-22T10:00:00Z']]) expect(timestampMillis(v)).toBeNull();
  });
});
