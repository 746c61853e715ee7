import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { utf8 } from '../../src/core/bytes.ts';
import { AccordError } from '../../src/core/errors.ts';
import { canonicalBytes, canonicalize } from '../../src/core/json/canonical.ts';
import { MAX_JSON_BYTES, MAX_JSON_DEPTH, parseStrictJson } from '../../src/core/json/strict-parse.ts';

const JCS_DIR = new URL('../../../shared/vectors/jcs/', import.meta.url);

/** Runs fn and returns the AccordError it throws (fails the test if it throws anything else or nothing). */
function refusal(fn: () => unknown): AccordError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AccordError);
    return e as AccordError;
  }
  throw new Error('expected an AccordError, but the call returned');
}

function codeOf(input: string | Uint8Array, opts?: Parameters<typeof parseStrictJson>[1]): string {
  return refusal(() => parseStrictJson(input, opts)).code;
}

function hasNoncharacter(s: string): boolean {
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if ((cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe) return true;
  }
  return false;
}

function valueHasNoncharacter(v: unknown): boolean {
  if (typeof v === 'string') return hasNoncharacter(v);
  if (Array.isArray(v)) return v.some(valueHasNoncharacter);
  if (v !== null && typeof v === 'object') {
    return Object.entries(v).some(([k, x]) => hasNoncharacter(k) || valueHasNoncharacter(x));
  }
  return false;
}

describe('parseStrictJson', () => {
  describe('on the RFC 8785 test vectors (cyberphone testdata)', () => {
    const names = readdirSync(new URL('input/', JCS_DIR)).filter((n) => n.endsWith('.json')).sort();

    it('finds the vector files', () => {
      expect(names.length).toBeGreaterThanOrEqual(6);
    });

    for (const name of names) {
      it(`canonicalizes input/${name} to output/${name} byte for byte`, () => {
        const input = new Uint8Array(readFileSync(new URL(`input/${name}`, JCS_DIR)));
        const expected = new Uint8Array(readFileSync(new URL(`output/${name}`, JCS_DIR)));
        const value = parseStrictJson(input);
        expect(Buffer.from(canonicalBytes(value)).toString('hex')).toBe(Buffer.from(expected).toString('hex'));
        // The strict parser agrees with JSON.parse wherever both accept.
        expect(value).toEqual(JSON.parse(new TextDecoder().decode(input)));
      });
    }
  });

  describe('when the input is well-formed I-JSON', () => {
    it('parses every kind of value at the top level', () => {
      expect(parseStrictJson(' {"a":[1,-0.5,2e3,true,false,null,"x"]} ')).toEqual({ a: [1, -0.5, 2000, true, false, null, 'x'] });
      expect(parseStrictJson('"s"')).toBe('s');
      expect(parseStrictJson('0')).toBe(0);
      expect(parseStrictJson('null')).toBeNull();
      expect(parseStrictJson('[]')).toEqual([]);
      expect(parseStrictJson('{}')).toEqual({});
    });

    it('unescapes every RFC 8259 escape, including a surrogate pair', () => {
      expect(parseStrictJson(String.raw`"\" \\ \/ \b \f \n \r \t \u00e9 \uD83D\uDE02 \u20AC"`)).toBe('" \\ / \b \f \n \r \t é 😂 €');
    });

    it('accepts literal non-BMP characters from bytes and from strings', () => {
      expect(parseStrictJson(utf8('["😂"]'))).toEqual(['😂']);
      expect(parseStrictJson('["😂"]')).toEqual(['😂']);
    });

    it('accepts any finite double, including integers beyond 2^53 (rounded as JSON.parse does)', () => {
      expect(parseStrictJson('9007199254740993')).toBe(9007199254740992);
      expect(parseStrictJson('1.7976931348623157e308')).toBe(Number.MAX_VALUE);
      expect(parseStrictJson('-0')).toBe(-0);
      expect(parseStrictJson('5e-324')).toBe(5e-324);
      expect(parseStrictJson('1e-400')).toBe(0);
    });

    it(`accepts nesting of exactly MAX_JSON_DEPTH (${MAX_JSON_DEPTH}) levels`, () => {
      const text = '['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH);
      expect(canonicalize(parseStrictJson(text))).toBe(text);
    });

    it(`accepts exactly MAX_JSON_BYTES (${MAX_JSON_BYTES}) bytes`, () => {
      const text = `"${'é'.repeat((MAX_JSON_BYTES - 2) / 2)}"`;
      expect(utf8(text).length).toBe(MAX_JSON_BYTES);
      expect(parseStrictJson(text)).toHaveLength((MAX_JSON_BYTES - 2) / 2);
      expect(parseStrictJson(utf8(text))).toHaveLength((MAX_JSON_BYTES - 2) / 2);
    });
  });

  describe('when the input is not RFC 8259 JSON', () => {
    const bad: Array<[string, string]> = [
      ['empty input', ''],
      ['only whitespace', ' \n'],
      ['a trailing comma in an array', '[1,]'],
      ['a trailing comma in an object', '{"a":1,}'],
      ['single quotes', "{'a':1}"],
      ['an unquoted name', '{a:1}'],
      ['a leading zero', '01'],
      ['a bare minus', '-'],
      ['a leading plus', '+1'],
      ['a fraction without digits', '1.'],
      ['an exponent without digits', '1e'],
      ['a leading dot', '.5'],
      ['NaN', 'NaN'],
      ['Infinity', 'Infinity'],
      ['a truncated literal', 'tru'],
      ['a capitalised literal', 'True'],
      ['two values', '1 2'],
      ['trailing garbage', '{}x'],
      ['an unterminated string', '"abc'],
      ['an unterminated array', '[1'],
      ['a raw control character in a string', '"a\u0001b"'],
      ['a raw tab in a string', '"a\tb"'],
      ['an unknown escape', String.raw`"\x41"`],
      ['a short \\u escape', String.raw`"\u12"`],
      ['a non-hex \\u escape', String.raw`"\u12G4"`],
      ['a comment', '[1 /* c */]'],
      ['a non-JSON whitespace (U+00A0)', '\u00a0[]'],
      ['a missing colon', '{"a" 1}'],
      ['a missing value', '{"a":}'],
    ];
    for (const [what, text] of bad) {
      it(`fails with JSON_SYNTAX on ${what}`, () => {
        const e = refusal(() => parseStrictJson(text));
        expect(e.code).toBe('JSON_SYNTAX');
        expect(e.message).toMatch(/at position \d+/);
      });
    }

    it('reports the position of the offending character', () => {
      const e = refusal(() => parseStrictJson('{"a": [1, 2,, 3]}'));
      expect(e.message).toContain('position 12');
      expect(e.details).toEqual({ position: 12 });
    });

    it('fails with JSON_SYNTAX on a byte order mark, as bytes or as a string', () => {
      expect(codeOf(Uint8Array.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]))).toBe('JSON_SYNTAX');
      expect(codeOf('\ufeff{}')).toBe('JSON_SYNTAX');
    });

    it('fails with JSON_SYNTAX on input that is neither a string nor bytes', () => {
      expect(codeOf(42 as unknown as string)).toBe('JSON_SYNTAX');
    });
  });

  describe('when the input breaks an I-JSON rule', () => {
    it('fails with JSON_DUPLICATE_KEY on a repeated member name', () => {
      expect(codeOf('{"a":1,"a":2}')).toBe('JSON_DUPLICATE_KEY');
    });

    it('fails with JSON_DUPLICATE_KEY when names are equal only after unescaping', () => {
      expect(codeOf(String.raw`{"a":1,"\u0061":2}`)).toBe('JSON_DUPLICATE_KEY');
      expect(codeOf(String.raw`{"\/":1,"/":2}`)).toBe('JSON_DUPLICATE_KEY');
      expect(codeOf(String.raw`{"x":{"__proto__":1,"\u005f_proto__":2}}`)).toBe('JSON_DUPLICATE_KEY');
    });

    it('accepts names that differ only in case or normalization', () => {
      expect(parseStrictJson('{"a":1,"A":2,"\u00e9":3,"e\u0301":4}')).toEqual({ a: 1, A: 2, '\u00e9': 3, 'e\u0301': 4 });
    });

    const lone: Array<[string, string]> = [
      ['a lone high surrogate escape in a value', String.raw`["\uD800"]`],
      ['a lone low surrogate escape in a value', String.raw`["\uDFFF"]`],
      ['a lone surrogate escape in a member name', String.raw`{"\uDBFF":1}`],
      ['a high surrogate escape followed by a non-surrogate escape', String.raw`"\uD83D\u0041"`],
      ['a high surrogate escape followed by another high one', String.raw`"\uD83D\uD83D"`],
      ['reversed surrogate escapes', String.raw`"\uDE02\uD83D"`],
      ['a high surrogate escape at the end of the string', String.raw`"a\uD83D"`],
      ['a literal lone surrogate in string input', '"\ud800"'],
      ['a literal low surrogate after an escaped high one', '"\\uD83D\ude02"'],
    ];
    for (const [what, text] of lone) {
      it(`fails with JSON_LONE_SURROGATE on ${what}`, () => {
        expect(codeOf(text)).toBe('JSON_LONE_SURROGATE');
      });
    }

    it('fails with JSON_NUMBER_RANGE on numbers beyond the double range', () => {
      expect(codeOf('1e400')).toBe('JSON_NUMBER_RANGE');
      expect(codeOf('[-1e309]')).toBe('JSON_NUMBER_RANGE');
      expect(codeOf('{"n":1' + '0'.repeat(400) + '}')).toBe('JSON_NUMBER_RANGE');
    });

    const nonchars: Array<[string, string]> = [
      ['an escaped U+FDD0', String.raw`"\uFDD0"`],
      ['a literal U+FDEF', '"\ufdef"'],
      ['an escaped U+FFFE', String.raw`"\uFFFE"`],
      ['a literal U+FFFF', '"\uffff"'],
      ['U+1FFFE escaped as a surrogate pair', String.raw`"\uD83F\uDFFE"`],
      ['a literal U+10FFFF', '"\u{10ffff}"'],
      ['a noncharacter in a member name', '{"\ufdd5":1}'],
    ];
    for (const [what, text] of nonchars) {
      it(`fails with JSON_NONCHARACTER on ${what}`, () => {
        expect(codeOf(text)).toBe('JSON_NONCHARACTER');
        expect(codeOf(utf8(text))).toBe('JSON_NONCHARACTER');
      });
    }

    it('accepts the characters just outside the noncharacter ranges', () => {
      expect(parseStrictJson('["\ufdcf","\ufdf0","\ufffd","\u{1fffd}"]')).toEqual(['\ufdcf', '\ufdf0', '\ufffd', '\u{1fffd}']);
    });
  });

  describe('when the input is too big', () => {
    it(`fails with JSON_TOO_DEEP beyond MAX_JSON_DEPTH (${MAX_JSON_DEPTH}) nested arrays`, () => {
      const depth = MAX_JSON_DEPTH + 1;
      expect(codeOf('['.repeat(depth) + ']'.repeat(depth))).toBe('JSON_TOO_DEEP');
    });

    it('fails with JSON_TOO_DEEP on objects and arrays mixed, and on hostile depth without recursion trouble', () => {
      expect(codeOf('{"a":'.repeat(40) + '[' .repeat(30) + ']'.repeat(30) + '}'.repeat(40))).toBe('JSON_TOO_DEEP');
      expect(codeOf('['.repeat(60000))).toBe('JSON_TOO_DEEP');
    });

    it('honours opts.maxDepth', () => {
      expect(codeOf('[[1]]', { maxDepth: 1 })).toBe('JSON_TOO_DEEP');
      expect(parseStrictJson('[[1]]', { maxDepth: 2 })).toEqual([[1]]);
      expect(codeOf('[]', { maxDepth: 0 })).toBe('JSON_TOO_DEEP');
    });

    it(`fails with JSON_TOO_LARGE beyond MAX_JSON_BYTES (${MAX_JSON_BYTES}) bytes, counted in UTF-8`, () => {
      const text = `"${'é'.repeat((MAX_JSON_BYTES - 2) / 2)}" `;
      expect(text.length).toBeLessThan(MAX_JSON_BYTES);
      expect(codeOf(text)).toBe('JSON_TOO_LARGE');
      expect(codeOf(utf8(text))).toBe('JSON_TOO_LARGE');
      expect(codeOf(new Uint8Array(MAX_JSON_BYTES + 1).fill(0x20))).toBe('JSON_TOO_LARGE');
    });

    it('honours opts.maxBytes', () => {
      expect(codeOf('[1,2,3]', { maxBytes: 6 })).toBe('JSON_TOO_LARGE');
      expect(parseStrictJson('[1,2,3]', { maxBytes: 7 })).toEqual([1, 2, 3]);
      const big = `[${'1,'.repeat(40000)}1]`;
      expect(parseStrictJson(big, { maxBytes: 100_000 })).toHaveLength(40001);
    });

    it('refuses nonsensical options with BAD_ARGUMENT', () => {
      expect(codeOf('[]', { maxBytes: -1 })).toBe('BAD_ARGUMENT');
      expect(codeOf('[]', { maxDepth: 1e6 })).toBe('BAD_ARGUMENT');
      expect(codeOf('[]', { maxDepth: Number.NaN })).toBe('BAD_ARGUMENT');
    });
  });

  describe('when the bytes are not UTF-8', () => {
    const bad: Array<[string, number[]]> = [
      ['a stray continuation byte', [0x22, 0x80, 0x22]],
      ['a truncated sequence', [0x22, 0xc3, 0x22]],
      ['an overlong encoding of "/"', [0x22, 0xc0, 0xaf, 0x22]],
      ['an encoded surrogate (CESU-8)', [0x22, 0xed, 0xa0, 0x80, 0x22]],
      ['a code point beyond U+10FFFF', [0x22, 0xf4, 0x90, 0x80, 0x80, 0x22]],
      ['a 0xFF byte', [0x5b, 0xff, 0x5d]],
    ];
    for (const [what, bytes] of bad) {
      it(`fails with BAD_UTF8 on ${what}`, () => {
        expect(codeOf(Uint8Array.from(bytes))).toBe('BAD_UTF8');
      });
    }
  });

  describe('with a member named "__proto__"', () => {
    const text = '{"__proto__":{"polluted":true},"b":1}';

    it('keeps it as an own member and leaves the prototype alone', () => {
      const v = parseStrictJson(text) as Record<string, unknown>;
      expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
      expect(Object.keys(v)).toEqual(['__proto__', 'b']);
      expect(Object.getOwnPropertyDescriptor(v, '__proto__')?.value).toEqual({ polluted: true });
      expect((v as { polluted?: unknown }).polluted).toBeUndefined();
      expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    });

    it('builds the same value as JSON.parse, compared with toEqual', () => {
      expect(parseStrictJson(text)).toEqual(JSON.parse(text));
    });

    it('canonicalizes with the member in place', () => {
      expect(canonicalize(parseStrictJson('{"z":0,"__proto__":{"b":2,"a":1}}'))).toBe('{"__proto__":{"a":1,"b":2},"z":0}');
    });

    it('keeps other Object.prototype names as ordinary members', () => {
      const v = parseStrictJson('{"constructor":1,"hasOwnProperty":2,"toString":3}') as Record<string, unknown>;
      expect(v).toEqual({ constructor: 1, hasOwnProperty: 2, toString: 3 });
      expect(canonicalize(v)).toBe('{"constructor":1,"hasOwnProperty":2,"toString":3}');
    });
  });

  describe('on arbitrary JSON values (property)', () => {
    const anyJson = fc.jsonValue({ stringUnit: 'binary', maxDepth: 6 });

    it('canonicalizes JSON.stringify(v) the same as v itself, and equals JSON.parse', () => {
      fc.assert(
        fc.property(anyJson.filter((v) => !valueHasNoncharacter(v)), (v) => {
          const text = JSON.stringify(v);
          const parsed = parseStrictJson(text, { maxBytes: 1 << 22 });
          expect(canonicalize(parsed)).toBe(canonicalize(v));
          expect(parsed).toEqual(JSON.parse(text));
          expect(canonicalize(parseStrictJson(utf8(text), { maxBytes: 1 << 22 }))).toBe(canonicalize(v));
        }),
        { numRuns: 300 },
      );
    });

    it('round-trips its own canonical form', () => {
      fc.assert(
        fc.property(anyJson.filter((v) => !valueHasNoncharacter(v)), (v) => {
          const c = canonicalize(v);
          expect(canonicalize(parseStrictJson(c, { maxBytes: 1 << 22 }))).toBe(c);
        }),
        { numRuns: 200 },
      );
    });

    it('refuses with JSON_NONCHARACTER exactly the values that hold a noncharacter', () => {
      const nonchar = fc.oneof(fc.integer({ min: 0xfdd0, max: 0xfdef }), fc.integer({ min: 0, max: 16 }).map((p) => p * 0x10000 + 0xfffe), fc.integer({ min: 0, max: 16 }).map((p) => p * 0x10000 + 0xffff));
      fc.assert(
        fc.property(fc.string(), nonchar, fc.string(), fc.boolean(), (a, cp, b, asKey) => {
          const s = a + String.fromCodePoint(cp) + b;
          const text = asKey ? JSON.stringify({ [s]: 1 }) : JSON.stringify([s]);
          expect(codeOf(text)).toBe('JSON_NONCHARACTER');
        }),
        { numRuns: 200 },
      );
    });
  });
});

describe('canonicalize', () => {
  describe('when an object has a member named toJSON', () => {
    it('still sorts its members (RFC 8785 3.2.3) instead of calling it', () => {
      const v = parseStrictJson('{"toJSON":1,"b":2,"a":3}');
      expect(canonicalize(v)).toBe('{"a":3,"b":2,"toJSON":1}');
    });
  });
  describe('when given a value JCS cannot express', () => {
    it('fails with JCS_UNSUPPORTED', () => {
      expect(() => canonicalize({ a: Number.NaN })).toThrow(expect.objectContaining({ code: 'JCS_UNSUPPORTED' }));
      expect(() => canonicalize([() => 1])).toThrow(expect.objectContaining({ code: 'JCS_UNSUPPORTED' }));
    });
  });
});

describe('canonicalize against json-canonicalize', () => {
  it('agrees with the library on arbitrary JSON values without a toJSON member', async () => {
    const { canonicalize: library } = await import('json-canonicalize');
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = JSON.stringify(v);
        if (text === undefined || text.includes('"toJSON"')) return;
        const parsed = JSON.parse(text) as unknown;
        expect(canonicalize(parsed)).toBe(library(parsed));
      }),
      { numRuns: 500 },
    );
  });
});
