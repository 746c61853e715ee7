/** The auditor's record of every entry hash (core/audit/hash-index.ts): "no entry's bytes appear twice". */
import { describe, expect, it } from 'vitest';
import { HashIndex } from '../../src/core/audit/hash-index.ts';
import { sha256, utf8 } from '../../src/core/bytes.ts';

const h = (n: number): Uint8Array => sha256(utf8(`entry ${n}`));

describe('HashIndex', () => {
  it('records new hashes and answers the first index of one seen before', () => {
    const idx = new HashIndex();
    for (let i = 0; i < 5000; i++) expect(idx.addOrGet(h(i), i)).toBe(-1);
    expect(idx.size).toBe(5000);
    expect(idx.addOrGet(h(1234), 9000)).toBe(1234);
    expect(idx.addOrGet(h(1234), 9001)).toBe(1234);
    expect(idx.addOrGet(h(0), 9002)).toBe(0);
    expect(idx.size).toBe(5000);
  });

  it('tells apart hashes that share their first bytes (the slot) but not the rest', () => {
    const idx = new HashIndex(4);
    const base = h(1);
    const twins = Array.from({ length: 300 }, (_, i) => {
      const t = Uint8Array.from(base);
      t[31] = i & 0xff;
      t[30] = i >> 8;
      return t;
    });
    twins.forEach((t, i) => expect(idx.addOrGet(t, i)).toBe(-1));
    twins.forEach((t, i) => expect(idx.addOrGet(t, 1000 + i)).toBe(i));
  });

  it('grows past what it reserved, and reserves no more than its bound for a huge claimed size', () => {
    const idx = new HashIndex(2 ** 53);
    for (let i = 0; i < 3000; i++) idx.addOrGet(h(i), i);
    const small = new HashIndex(10);
    for (let i = 0; i < 3000; i++) small.addOrGet(h(i), i);
    for (let i = 0; i < 3000; i += 7) expect(small.addOrGet(h(i), -5)).toBe(i);
  });

  it('refuses a hash that is not 32 bytes', () => {
    expect(() => new HashIndex().addOrGet(new Uint8Array(31), 0)).toThrow(/32 bytes/);
  });
});
