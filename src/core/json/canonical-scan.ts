/**
 * A one-pass check, on the bytes, that a JSON object is already in its RFC 8785 (JCS) form, and
 * where its members sit. The auditor uses it for the common case (a logged statement is
 * canonical): the proof's hash data is then hashed from byte ranges of the entry itself, with no
 * serialization at all (core/audit/entry-check.ts).
 *
 * It accepts a SUBSET of I-JSON (RFC 7493) texts in JCS form, and only texts that are the JCS form
 * of the value they parse to; for those, JSON.parse builds the value that the strict parser
 * (strict-parse.ts) would build and accept. Anything outside the subset gets null, and callers
 * fall back to the strict parser and canonicalize:
 *
 * - no whitespace; `true`, `false`, `null`;
 * - numbers: integers of at most 15 digits without a sign on zero (`0`, `-7`, `42`), which
 *   ECMAScript's Number::toString writes back digit for digit (JCS 3.2.2.3); anything else
 *   (fractions, exponents, `-0`, longer integers) is left to the full path;
 * - strings: well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above
 *   U+10FFFF) without noncharacters (I-JSON 2.1), every character literal except those
 *   JSON.stringify escapes (JCS 3.2.2.2): `"` and `\` as `\"` and `\\`, U+0008/9/A/C/D as
 *   `\b \t \n \f \r`, the other controls below U+0020 as `\u00xx` in lowercase hex. No other
 *   escape occurs in a JCS text (a `\u` escape of a lone surrogate would, but I-JSON refuses
 *   those anyway, so it is left to the full path);
 * - member names: printable ASCII without escapes and not all digits (JavaScript would enumerate
 *   an array-index name first, whatever its place in the text), in strictly increasing order,
 *   which for ASCII is JCS 3.2.3's UTF-16 code-unit order and also excludes duplicates;
 * - nesting at most MAX_SCAN_DEPTH deep (below the strict parser's limit).
 */

import { fromUtf8 } from '../bytes.ts';

/** Where one member of an object sits in the scanned bytes (offsets into them). */
export interface MemberSpan {
  name: string;
  /** The opening quote of the member's name. */
  keyStart: number;
  valueStart: number;
  /** One past the member's value. */
  valueEnd: number;
}

export const MAX_SCAN_DEPTH = 32;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;

/** String bytes by what the scanner must do: 0 go on, 1 closing quote, 2 escape, 3 refuse, 4 UTF-8 lead. */
const STRING_CLASS = new Uint8Array(256);
for (let c = 0; c < 256; c++) STRING_CLASS[c] = c < 0x20 ? 3 : c === QUOTE ? 1 : c === BACKSLASH ? 2 : c < 0x80 ? 0 : 4;

/** Thrown inside the scanner only; the exported functions turn it into null. */
const NOT_CANONICAL = new Error('not canonical');

class Scanner {
  pos = 0;
  constructor(readonly b: Uint8Array) {}

  fail(): never {
    throw NOT_CANONICAL;
  }

  value(depth: number): void {
    const c = this.b[this.pos];
    if (c === 0x7b) this.object(depth + 1, null);
    else if (c === 0x5b) this.array(depth + 1);
    else if (c === QUOTE) this.string();
    else if (c === 0x74) this.literal('true');
    else if (c === 0x66) this.literal('false');
    else if (c === 0x6e) this.literal('null');
    else this.number();
  }

  literal(word: string): void {
    for (let i = 0; i < word.length; i++) if (this.b[this.pos + i] !== word.charCodeAt(i)) this.fail();
    this.pos += word.length;
  }

  number(): void {
    const b = this.b;
    let p = this.pos;
    if (b[p] === 0x2d) p++;
    const first = p;
    if (b[p] === 0x30) {
      p++;
      if (first !== this.pos) this.fail(); // -0: JCS writes 0
    } else {
      while (p < b.length && (b[p] as number) >= 0x30 && (b[p] as number) <= 0x39) p++;
      if (p === first || b[first] === 0x30 || p - first > 15) this.fail();
    }
    this.pos = p; // a fraction or exponent after this fails at the caller's separator check
  }

  /** A string in JCS form; returns nothing, the caller reads names itself. */
  string(): void {
    const b = this.b;
    let p = this.pos + 1;
    for (;;) {
      if (p >= b.length) this.fail();
      const c = b[p] as number;
      const kind = STRING_CLASS[c];
      if (kind === 0) p++;
      else if (kind === 1) break;
      else if (kind === 2) p = this.escape(p);
      else if (kind === 4) p = this.utf8(p, c);
      else this.fail();
    }
    this.pos = p + 1;
  }

  /** The escape at p (a backslash) if JSON.stringify would write it; returns where it ends. */
  escape(p: number): number {
    const b = this.b;
    const e = b[p + 1];
    if (e === QUOTE || e === BACKSLASH || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) return p + 2;
    if (e !== 0x75) this.fail();
    // \u00xx for a control without a short form, lowercase hex.
    if (b[p + 2] !== 0x30 || b[p + 3] !== 0x30) this.fail();
    const hi = b[p + 4] as number;
    const lo = b[p + 5] as number;
    if (hi !== 0x30 && hi !== 0x31) this.fail();
    const loValue = lo >= 0x30 && lo <= 0x39 ? lo - 0x30 : lo >= 0x61 && lo <= 0x66 ? lo - 0x61 + 10 : -1;
    if (loValue < 0) this.fail();
    const cp = (hi - 0x30) * 16 + loValue;
    if (cp === 0x08 || cp === 0x09 || cp === 0x0a || cp === 0x0c || cp === 0x0d) this.fail();
    return p + 6;
  }

  /** One well-formed multi-byte UTF-8 sequence at p (RFC 3629 section 4); returns where it ends. */
  utf8(p: number, c: number): number {
    const b = this.b;
    const cont = (i: number, lo = 0x80, hi = 0xbf): void => {
      const x = b[p + i];
      if (x === undefined || x < lo || x > hi) this.fail();
    };
    if (c >= 0xc2 && c <= 0xdf) {
      cont(1);
      return p + 2;
    }
    if (c >= 0xe0 && c <= 0xef) {
      // E0: no overlong form; ED: no surrogate.
      cont(1, c === 0xe0 ? 0xa0 : 0x80, c === 0xed ? 0x9f : 0xbf);
      cont(2);
      const cp = ((c & 0x0f) << 12) | (((b[p + 1] as number) & 0x3f) << 6) | ((b[p + 2] as number) & 0x3f);
      if (isNoncharacter(cp)) this.fail();
      return p + 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
      // F0: no overlong form; F4: nothing above U+10FFFF.
      cont(1, c === 0xf0 ? 0x90 : 0x80, c === 0xf4 ? 0x8f : 0xbf);
      cont(2);
      cont(3);
      const cp = ((c & 0x07) << 18) | (((b[p + 1] as number) & 0x3f) << 12) | (((b[p + 2] as number) & 0x3f) << 6) | ((b[p + 3] as number) & 0x3f);
      if (isNoncharacter(cp)) this.fail();
      return p + 4;
    }
    return this.fail();
  }

  array(depth: number): void {
    if (depth > MAX_SCAN_DEPTH) this.fail();
    const b = this.b;
    this.pos++;
    if (b[this.pos] === 0x5d) {
      this.pos++;
      return;
    }
    for (;;) {
      this.value(depth);
      const c = b[this.pos];
      this.pos++;
      if (c === 0x5d) return;
      if (c !== COMMA) this.fail();
    }
  }

  /** An object; with `spans`, its members' places are pushed there. */
  object(depth: number, spans: MemberSpan[] | null): void {
    if (depth > MAX_SCAN_DEPTH) this.fail();
    const b = this.b;
    this.pos++;
    if (b[this.pos] === 0x7d) {
      this.pos++;
      return;
    }
    let prevStart = -1;
    let prevEnd = -1;
    for (;;) {
      if (b[this.pos] !== QUOTE) this.fail();
      const keyStart = this.pos;
      let p = keyStart + 1;
      let digitsOnly = true;
      for (;;) {
        const c = b[p];
        if (c === undefined) this.fail();
        if (c === QUOTE) break;
        if (c < 0x20 || c > 0x7e || c === BACKSLASH) this.fail();
        if (c < 0x30 || c > 0x39) digitsOnly = false;
        p++;
      }
      const nameStart = keyStart + 1;
      if (digitsOnly || p === nameStart) {
        // An array-index name would be enumerated out of text order by JavaScript; the empty
        // name is valid JCS but never a statement member, so both are left to the full path.
        this.fail();
      }
      if (prevStart >= 0 && !asciiGreater(b, nameStart, p, prevStart, prevEnd)) this.fail();
      prevStart = nameStart;
      prevEnd = p;
      if (b[p + 1] !== COLON) this.fail();
      this.pos = p + 2;
      const valueStart = this.pos;
      this.value(depth);
      if (spans !== null) spans.push({ name: latin1(b, nameStart, p), keyStart, valueStart, valueEnd: this.pos });
      const c = b[this.pos];
      this.pos++;
      if (c === 0x7d) return;
      if (c !== COMMA) this.fail();
    }
  }
}

/** RFC 7493 2.1 (I-JSON): U+FDD0..U+FDEF and the last two code points of every plane. */
function isNoncharacter(cp: number): boolean {
  return (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe;
}

/** b[aStart, aEnd) > b[bStart, bEnd) as byte strings. */
function asciiGreater(b: Uint8Array, aStart: number, aEnd: number, bStart: number, bEnd: number): boolean {
  const n = Math.min(aEnd - aStart, bEnd - bStart);
  for (let i = 0; i < n; i++) {
    const x = b[aStart + i] as number;
    const y = b[bStart + i] as number;
    if (x !== y) return x > y;
  }
  return aEnd - aStart > bEnd - bStart;
}

function latin1(b: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(b[i] as number);
  return s;
}

/**
 * The members of the object that `bytes` hold, in order, if `bytes` are exactly the JCS form
 * (within the subset above) of that object; null otherwise, or if they hold anything else.
 */
export function scanCanonicalObject(bytes: Uint8Array): MemberSpan[] | null {
  if (bytes[0] !== 0x7b) return null;
  const s = new Scanner(bytes);
  const spans: MemberSpan[] = [];
  try {
    s.object(1, spans);
  } catch (e) {
    if (e === NOT_CANONICAL) return null;
    throw e;
  }
  return s.pos === bytes.length ? spans : null;
}

/**
 * The value of `bytes` and its members' places when the bytes are already canonical (within the
 * subset above): what parseStrictJson would return, at a fraction of its cost, and the canonical
 * form is the bytes themselves. Null otherwise.
 */
export function parseIfCanonical(bytes: Uint8Array): { value: Record<string, unknown>; members: MemberSpan[] } | null {
  const members = scanCanonicalObject(bytes);
  if (members === null) return null;
  // Well-formed UTF-8 (checked), so fromUtf8 cannot throw; valid JSON, so JSON.parse cannot either.
  return { value: JSON.parse(fromUtf8(bytes)) as Record<string, unknown>, members };
}

/**
 * The byte ranges of a scanned object's text without the member `name` (the JCS form of the
 * object without it: the other members keep their order): one or two [start, end) pairs, or
 * null if there is no such member. `end` is the length of the object's text.
 */
export function rangesWithout(spans: readonly MemberSpan[], name: string, end: number): [number, number][] | null {
  const at = spans.findIndex((s) => s.name === name);
  if (at < 0) return null;
  const m = spans[at] as MemberSpan;
  if (spans.length === 1) return [[0, 1], [end - 1, end]]; // "{" + "}"
  if (at > 0) return [[0, m.keyStart - 1], [m.valueEnd, end]]; // drop ',"name":value'
  return [[0, m.keyStart], [m.valueEnd + 1, end]]; // drop '"name":value,'
}
