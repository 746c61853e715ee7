/**
 * core/json/canonical-scan.ts as an auditor relies on it: whatever it accepts is exactly the
 * RFC 8785 form of the value it parses to, with the member places it reports; what it refuses
 * only costs time (the caller takes the full path). And what the registry logs is inside the
 * accepted subset, so the auditor's fast path is the one taken on a sound log.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromUtf8, utf8 } from '../../src/core/bytes.ts';
import { canonicalize } from '../../src/core/json/canonical.ts';
import { MAX_SCAN_DEPTH, parseIfCanonical, rangesWithout, scanCanonicalObject, type MemberSpan } from '../../src/core/json/canonical-scan.ts';
import { parseStrictJson } from '../../src/core/json/strict-parse.ts';
import { LogBuilder } from '../audit/log-builder.ts';
import { vectorMirrorEntries } from '../helpers/mirror.ts';

function scan(text: string): MemberSpan[] | null {
  return scanCanonicalObject(utf8(text));
}

/** The claim the auditor relies on, checked for one accepted text. */
function expectSound(bytes: Uint8Array, spans: MemberSpan[]): void {
  const text = fromUtf8(bytes);
  const value = JSON.parse(text) as Record<string, unknown>;
  expect(canonicalize(value)).toBe(text);
  expect(spans.map((s) => s.name)).toEqual(Object.keys(value));
  for (const s of spans) {
    expect(fromUtf8(bytes.subarray(s.keyStart, s.valueStart))).toBe(`${JSON.stringify(s.name)}:`);
    expect(fromUtf8(bytes.subarray(s.valueStart, s.valueEnd))).toBe(canonicalize(value[s.name]));
  }
  // The strict parser accepts it too and reads the same value, which parseIfCanonical returns.
  expect(parseStrictJson(bytes)).toEqual(value);
  expect(parseIfCanonical(bytes)?.value).toEqual(value);
}

/** One printable ASCII character. */
const asciiChar = fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 });
/** Characters of every class the scanner treats differently, noncharacters (I-JSON refuses them) aside. */
const specialChars = ['\u0000', '\u0007', '\b', '\t', '\n', '\u000b', '\f', '\r', '\u001f', '"', '\\', '/', '\u007f', '\u0080', 'é', '\u2028', '\uFDCF', '\uFDF0', '\uFFFD', '𝄞', '\u{10FFFD}'];
/** Strings the subset holds. */
const subsetString = fc.string({ unit: fc.oneof(fc.constantFrom(...specialChars), asciiChar), maxLength: 12 });
/** Strings with noncharacters too. */
const anyString = fc.string({ unit: fc.oneof(fc.constantFrom(...specialChars, '\uFDD0', '\uFDEF', '\uFFFE', '\uFFFF', '\u{1FFFE}', '\u{10FFFF}'), asciiChar), maxLength: 12 });
/** Member names in the accepted subset: printable ASCII needing no escape, not empty, not all digits. */
const subsetName = fc.string({ unit: asciiChar, minLength: 1, maxLength: 8 }).filter((s) => !/^[0-9]+$/.test(s) && !/["\\]/.test(s));
const subsetInteger = fc.integer({ min: -(10 ** 15) + 1, max: 10 ** 15 - 1 });

const { subsetValue } = fc.letrec((tie) => ({
  subsetValue: fc.oneof({ depthSize: 'small' }, subsetString, subsetInteger, fc.boolean(), fc.constant(null), tie('array'), tie('object')),
  array: fc.array(tie('subsetValue'), { maxLength: 4 }),
  object: fc.dictionary(subsetName, tie('subsetValue'), { maxKeys: 5 }),
}));
const subsetObject = fc.dictionary(subsetName, subsetValue, { maxKeys: 6 });

/** Any JSON value: names and numbers outside the subset too. */
const { anyValue } = fc.letrec((tie) => ({
  anyValue: fc.oneof({ depthSize: 'small' }, anyString, fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null), tie('array'), tie('object')),
  array: fc.array(tie('anyValue'), { maxLength: 4 }),
  object: fc.dictionary(fc.oneof(anyString, subsetName), tie('anyValue'), { maxKeys: 5 }),
}));

describe('scanCanonicalObject', () => {
  it('accepts the JCS form of any object inside the subset and reports its members (property)', () => {
    fc.assert(
      fc.property(subsetObject, (o) => {
        const bytes = utf8(canonicalize(o));
        const spans = scanCanonicalObject(bytes);
        expect(spans).not.toBeNull();
        expectSound(bytes, spans as MemberSpan[]);
      }),
      { numRuns: 400 },
    );
  });

  it('accepts only texts that are the JCS form of their value, however the value was written (property)', () => {
    const writings = (v: unknown): string[] => [canonicalize(v), JSON.stringify(v), JSON.stringify(v, null, 1), JSON.stringify(v).replace(/"([a-z])/, '"\\u00$1')];
    let accepted = 0;
    fc.assert(
      fc.property(fc.dictionary(fc.oneof(anyString, subsetName), anyValue, { maxKeys: 6 }), (o) => {
        for (const text of writings(o)) {
          const bytes = utf8(text);
          const spans = scanCanonicalObject(bytes);
          if (spans !== null) {
            accepted++;
            expectSound(bytes, spans);
          }
        }
      }),
      { numRuns: 400 },
    );
    expect(accepted).toBeGreaterThan(100);
  });

  it('accepts no byte-level corruption of a canonical text that is not itself canonical (property)', () => {
    fc.assert(
      fc.property(subsetObject, fc.nat(), fc.integer({ min: 0, max: 255 }), (o, at, byte) => {
        const bytes = utf8(canonicalize(o));
        bytes[at % bytes.length] = byte;
        const spans = scanCanonicalObject(bytes);
        if (spans === null) return;
        // Accepted: it must be valid UTF-8 and the JCS form of what it parses to.
        expectSound(bytes, spans);
      }),
      { numRuns: 2000 },
    );
  });

  const refused: [string, string][] = [
    ['whitespace between tokens', '{"a": 1}'],
    ['whitespace around the object', ' {"a":1}'],
    ['a trailing newline', '{"a":1}\n'],
    ['members out of order', '{"b":1,"a":2}'],
    ['a repeated member', '{"a":1,"a":1}'],
    ['an all-digit member name (JavaScript enumerates it first)', '{"1":1,"a":2}'],
    ['an empty member name', '{"":1}'],
    ['an escaped member name', '{"\\u0061":1}'],
    ['a non-ASCII member name', '{"é":1}'],
    ['negative zero', '{"a":-0}'],
    ['a fraction', '{"a":1.5}'],
    ['an exponent', '{"a":1e3}'],
    ['a leading zero', '{"a":01}'],
    ['a plus sign', '{"a":+1}'],
    ['an integer of 16 digits', '{"a":1234567890123456}'],
    ['an escaped solidus', '{"a":"\\/"}'],
    ['an escape JSON.stringify does not write', '{"a":"\\u0041"}'],
    ['an uppercase hex escape', '{"a":"\\u001F"}'],
    ['a \\u escape of a control with a short form', '{"a":"\\u0008"}'],
    ['an escaped lone surrogate', '{"a":"\\ud800"}'],
    ['a raw control character', '{"a":"x\u0001"}'],
    ['a truncated string', '{"a":"x'],
    ['a truncated escape', '{"a":"\\u00'],
    ['an array at the top', '[1]'],
    ['a string at the top', '"a"'],
    ['trailing bytes', '{"a":1}{}'],
    ['a trailing comma', '{"a":1,}'],
    ['a misspelled literal', '{"a":tru}'],
    ['an empty input', ''],
  ];
  for (const [what, text] of refused) {
    it(`refuses ${what}`, () => {
      expect(scan(text)).toBeNull();
    });
  }

  it('accepts what JSON.stringify writes for controls, quotes, backslashes and non-ASCII text', () => {
    const o = { a: '\u0000\u0007\b\t\n\u000b\f\r\u001f"\\/\u007f\u2028é𝄞\uFDCF\uFDF0\uFFFD\u{10FFFD}', b: [-1, 0, 999999999999999, true, false, null, {}, []], c: {} };
    const text = canonicalize(o);
    const spans = scan(text);
    expect(spans?.map((s) => s.name)).toEqual(['a', 'b', 'c']);
    expectSound(utf8(text), spans as MemberSpan[]);
  });

  it('refuses noncharacters (I-JSON 2.1), as the strict parser does', () => {
    for (const ch of ['\uFDD0', '\uFDEF', '\uFFFE', '\uFFFF', '\u{1FFFE}', '\u{1FFFF}', '\u{10FFFE}', '\u{10FFFF}']) {
      const bytes = utf8(canonicalize({ a: `x${ch}y` }));
      expect(scanCanonicalObject(bytes)).toBeNull();
      expect(parseIfCanonical(bytes)).toBeNull();
      expect(() => parseStrictJson(bytes)).toThrow(expect.objectContaining({ code: 'JSON_NONCHARACTER' }));
    }
  });

  it('refuses ill-formed UTF-8: overlong forms, surrogates, code points above U+10FFFF, stray bytes', () => {
    const wrap = (...b: number[]) => Uint8Array.from([...utf8('{"a":"'), ...b, ...utf8('"}')]);
    for (const bad of [[0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xf0, 0x80, 0x80, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf5, 0x80, 0x80, 0x80], [0x80], [0xc3], [0xe2, 0x82]]) {
      expect(scanCanonicalObject(wrap(...bad))).toBeNull();
    }
    for (const good of [[0xc3, 0xa9], [0xe0, 0xa0, 0x80], [0xed, 0x9f, 0xbf], [0xf0, 0x90, 0x80, 0x80], [0xf4, 0x8f, 0xbf, 0xbd]]) {
      expect(scanCanonicalObject(wrap(...good))).not.toBeNull();
    }
  });

  it(`accepts nesting ${MAX_SCAN_DEPTH} deep and refuses one level more, without deep recursion trouble`, () => {
    const nest = (n: number) => `${'{"a":'.repeat(n - 1)}{}${'}'.repeat(n - 1)}`;
    expect(scan(nest(MAX_SCAN_DEPTH))).not.toBeNull();
    expect(scan(nest(MAX_SCAN_DEPTH + 1))).toBeNull();
    expect(scan(`{"a":${'['.repeat(100_000)}`)).toBeNull();
  });

  it('accepts every canonical entry of the vector mirrors and of the registry (the fast path is the one taken)', async () => {
    let n = 0;
    for (const e of await vectorMirrorEntries()) {
      let canonical: boolean;
      try {
        canonical = canonicalize(parseStrictJson(e)) === fromUtf8(e);
      } catch {
        canonical = false;
      }
      if (!canonical) continue;
      n++;
      const spans = scanCanonicalObject(e);
      expect(spans).not.toBeNull();
      expectSound(e, spans as MemberSpan[]);
    }
    const { log, accord, a } = LogBuilder.basic();
    log.pledge(a, accord, { name: 'Zürich \u00e9t\u00e9 "quoted" \\ back' });
    log.withdraw(a);
    for (const bytes of log.bytes) {
      n++;
      expect(scanCanonicalObject(bytes)).not.toBeNull();
    }
    expect(n).toBeGreaterThan(700);
  });
});

describe('rangesWithout', () => {
  const cut = (text: string, name: string): string | null => {
    const bytes = utf8(text);
    const ranges = rangesWithout(scanCanonicalObject(bytes) as MemberSpan[], name, bytes.length);
    return ranges === null ? null : ranges.map(([s, e]) => fromUtf8(bytes.subarray(s, e))).join('');
  };

  it('cuts the first, a middle, the last and the only member, leaving the JCS form of the rest', () => {
    const o = { a: [1, { x: 'y' }], m: 'mid', z: { q: null } };
    const text = canonicalize(o);
    for (const name of ['a', 'm', 'z'] as const) {
      const rest: Record<string, unknown> = { ...o };
      delete rest[name];
      expect(cut(text, name)).toBe(canonicalize(rest));
    }
    expect(cut('{"only":{"a":1}}', 'only')).toBe('{}');
  });

  it('says null for a member that is not there', () => {
    expect(cut('{"a":1}', 'b')).toBeNull();
  });

  it('cuts any member of any object in the subset as canonicalize would leave it (property)', () => {
    fc.assert(
      fc.property(subsetObject.filter((o) => Object.keys(o).length > 0), fc.nat(), (o, k) => {
        const keys = Object.keys(o);
        const name = keys[k % keys.length] as string;
        const rest = Object.fromEntries(Object.entries(o).filter(([key]) => key !== name));
        expect(cut(canonicalize(o), name)).toBe(canonicalize(rest));
      }),
      { numRuns: 300 },
    );
  });
});
