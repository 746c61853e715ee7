/** instantOf (core/audit/instant.ts) gives exactly what formats.ts's timestampMillis gives. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { instantOf } from '../../src/core/audit/instant.ts';
import { timestampMillis } from '../../src/core/statements/formats.ts';

const pad = (v: number, w: number): string => String(v).padStart(w, '0');

describe('instantOf', () => {
  it('agrees with timestampMillis on every shape of timestamp, valid or not (property)', () => {
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
          expect(instantOf(t)).toBe(timestampMillis(t));
        },
      ),
      { numRuns: 20_000 },
    );
  });

  it('agrees on leap days, the ends of the range and strings of other shapes', () => {
    for (const t of ['2024-02-29T00:00:00Z', '2023-02-29T00:00:00Z', '1900-02-29T12:00:00Z', '2000-02-29T23:59:59Z', '0000-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '1970-01-01T00:00:00Z', '2026-11-22T10:00:00+00:00', '2026-11-22 10:00:00Z', '', 'x'.repeat(20)]) {
      expect(instantOf(t)).toBe(timestampMillis(t));
    }
  });
});
