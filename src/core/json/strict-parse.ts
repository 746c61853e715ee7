/**
 * A strict JSON parser for hostile input: RFC 8259 grammar, restricted to I-JSON (RFC 7493), the
 * subset that RFC 8785 (JCS) is defined for (RFC 8785 section 3.1). Where JSON.parse is lenient
 * (duplicate names, lone surrogates, 1e400 -> Infinity, noncharacters, unbounded nesting), this
 * parser refuses, each with its own AccordError code:
 *
 * - JSON_SYNTAX          not RFC 8259 JSON (also a byte order mark, RFC 8259 8.1); message gives the offset
 * - JSON_DUPLICATE_KEY   an object names a member twice, compared after unescaping (RFC 7493 2.3)
 * - JSON_LONE_SURROGATE  a surrogate, escaped or literal, that is not half of a pair (RFC 7493 2.1)
 * - JSON_NUMBER_RANGE    a number that is not a finite IEEE 754 double, e.g. 1e400 (RFC 7493 2.2)
 * - JSON_NONCHARACTER    U+FDD0..U+FDEF or U+xFFFE / U+xFFFF, escaped or literal (RFC 7493 2.1)
 * - JSON_TOO_DEEP        more than maxDepth nested arrays/objects (default MAX_JSON_DEPTH)
 * - JSON_TOO_LARGE       more than maxBytes UTF-8 bytes (default MAX_JSON_BYTES)
 * - BAD_UTF8             bytes that are not UTF-8 (RFC 8259 8.1)
 *
 * Numbers: any literal whose value rounds to a finite double is accepted and becomes that double,
 * as JSON.parse does; integers beyond 2^53 are therefore accepted (and may lose precision). I-JSON
 * only says such numbers SHOULD NOT be sent (RFC 7493 2.2), and every field of our statements that
 * holds a number is range-checked by the schema anyway. Literals too small for a double round to 0.
 *
 * Objects are plain objects built like JSON.parse builds them: a member named "__proto__" becomes an
 * own data property (Object.defineProperty), never the prototype, so there is no prototype pollution.
 */
import { fromUtf8 } from '../bytes.ts';
import { AccordError } from '../errors.ts';

/** Arrays and objects nested deeper than this are refused (JSON_TOO_DEEP). */
export const MAX_JSON_DEPTH = 64;
/** Inputs longer than this many UTF-8 bytes are refused (JSON_TOO_LARGE); DESIGN 7: 64 KiB bodies. */
export const MAX_JSON_BYTES = 65536;
// The parser recurses once per nesting level; bounding the option keeps the JS stack safe.
const DEPTH_LIMIT_CEILING = 1000;

export interface StrictJsonOptions {
  /** UTF-8 byte limit, default MAX_JSON_BYTES. */
  maxBytes?: number;
  /** Nesting limit (1 = one array/object, no nesting), default MAX_JSON_DEPTH, at most 1000. */
  maxDepth?: number;
}

export function parseStrictJson(input: string | Uint8Array, opts?: StrictJsonOptions): unknown {
  const maxBytes = opts?.maxBytes ?? MAX_JSON_BYTES;
  const maxDepth = opts?.maxDepth ?? MAX_JSON_DEPTH;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
    throw new AccordError('BAD_ARGUMENT', `maxBytes must be a non-negative integer, got ${String(maxBytes)}`);
  }
  if (!Number.isSafeInteger(maxDepth) || maxDepth < 0 || maxDepth > DEPTH_LIMIT_CEILING) {
    throw new AccordError('BAD_ARGUMENT', `maxDepth must be an integer from 0 to ${DEPTH_LIMIT_CEILING}, got ${String(maxDepth)}`);
  }

  let text: string;
  if (input instanceof Uint8Array) {
    if (input.length > maxBytes) tooLarge(input.length, maxBytes);
    // RFC 8259 8.1: a BOM MUST NOT be added; we do not guess, we refuse.
    if (input.length >= 3 && input[0] === 0xef && input[1] === 0xbb && input[2] === 0xbf) bomError();
    text = fromUtf8(input);
  } else if (typeof input === 'string') {
    // A UTF-16 code unit is at least one UTF-8 byte, so a long string is refused without counting.
    if (input.length > maxBytes) tooLarge(`more than ${maxBytes}`, maxBytes);
    const n = utf8Length(input);
    if (n > maxBytes) tooLarge(n, maxBytes);
    if (input.charCodeAt(0) === 0xfeff) bomError();
    text = input;
  } else {
    throw new AccordError('JSON_SYNTAX', `expected JSON text as a string or bytes, got ${typeof input}`);
  }
  return new Parser(text, maxDepth).parseText();
}

function tooLarge(got: number | string, max: number): never {
  throw new AccordError('JSON_TOO_LARGE', `JSON text is ${got} bytes, the limit is ${max}`, { details: { maxBytes: max } });
}

function bomError(): never {
  throw new AccordError('JSON_SYNTAX', 'JSON text starts with a byte order mark (RFC 8259 8.1), at position 0', { details: { position: 0 } });
}

/** UTF-8 length of a string; a lone surrogate counts 3 bytes (it is refused later anyway). */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && isLowSurrogate(s.charCodeAt(i + 1))) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** RFC 7493 2.1 via Unicode 3.4 "noncharacter": U+FDD0..U+FDEF and the last two code points of every plane. */
function isNoncharacter(cp: number): boolean {
  return (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe;
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

function describeChar(c: number): string {
  return c >= 0x21 && c <= 0x7e ? `"${String.fromCharCode(c)}"` : `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
}

const ESCAPES: Record<number, string> = {
  0x22: '"', 0x5c: '\\', 0x2f: '/', 0x62: '\b', 0x66: '\f', 0x6e: '\n', 0x72: '\r', 0x74: '\t',
};

// RFC 8259 6: number = [ minus ] int [ frac ] [ exp ]
const NUMBER_RE = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

class Parser {
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly maxDepth: number,
  ) {}

  parseText(): unknown {
    this.skipWs();
    const value = this.parseValue(0);
    this.skipWs();
    if (this.pos < this.text.length) this.unexpected('after the JSON value');
    return value;
  }

  private fail(code: string, what: string, at = this.pos): never {
    throw new AccordError(code, `${what} at position ${at}`, { details: { position: at } });
  }

  private unexpected(context: string): never {
    if (this.pos >= this.text.length) this.fail('JSON_SYNTAX', `unexpected end of input ${context}`);
    this.fail('JSON_SYNTAX', `unexpected ${describeChar(this.text.charCodeAt(this.pos))} ${context}`);
  }

  // RFC 8259 2: ws = space / horizontal tab / line feed / carriage return
  private skipWs(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      this.pos++;
    }
  }

  private parseValue(depth: number): unknown {
    const c = this.text.charCodeAt(this.pos);
    switch (c) {
      case 0x7b: // {
        return this.parseObject(depth + 1);
      case 0x5b: // [
        return this.parseArray(depth + 1);
      case 0x22: // "
        return this.parseString();
      case 0x74: // t
        return this.literal('true', true);
      case 0x66: // f
        return this.literal('false', false);
      case 0x6e: // n
        return this.literal('null', null);
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.parseNumber();
        return this.unexpected('where a value was expected');
    }
  }

  private enter(depth: number): void {
    if (depth > this.maxDepth) {
      this.fail('JSON_TOO_DEEP', `JSON nests deeper than ${this.maxDepth} arrays/objects`);
    }
  }

  private parseObject(depth: number): Record<string, unknown> {
    this.enter(depth);
    this.pos++; // {
    const obj: Record<string, unknown> = {};
    this.skipWs();
    if (this.text.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      return obj;
    }
    for (;;) {
      if (this.text.charCodeAt(this.pos) !== 0x22) this.unexpected('where a member name was expected');
      const keyAt = this.pos;
      const key = this.parseString();
      // RFC 7493 2.3: names MUST be unique; compared after unescaping ("a" and "\u0061" clash).
      if (Object.hasOwn(obj, key)) {
        this.fail('JSON_DUPLICATE_KEY', `duplicate member name ${JSON.stringify(key).slice(0, 80)}`, keyAt);
      }
      this.skipWs();
      if (this.text.charCodeAt(this.pos) !== 0x3a) this.unexpected('where ":" was expected');
      this.pos++;
      this.skipWs();
      const value = this.parseValue(depth);
      if (key === '__proto__') {
        // CreateDataProperty, as JSON.parse does: an own member, not the object's prototype.
        Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
      } else {
        obj[key] = value;
      }
      this.skipWs();
      const c = this.text.charCodeAt(this.pos);
      if (c === 0x2c) {
        this.pos++;
        this.skipWs();
      } else if (c === 0x7d) {
        this.pos++;
        return obj;
      } else {
        this.unexpected('where "," or "}" was expected');
      }
    }
  }

  private parseArray(depth: number): unknown[] {
    this.enter(depth);
    this.pos++; // [
    const arr: unknown[] = [];
    this.skipWs();
    if (this.text.charCodeAt(this.pos) === 0x5d) {
      this.pos++;
      return arr;
    }
    for (;;) {
      arr.push(this.parseValue(depth));
      this.skipWs();
      const c = this.text.charCodeAt(this.pos);
      if (c === 0x2c) {
        this.pos++;
        this.skipWs();
      } else if (c === 0x5d) {
        this.pos++;
        return arr;
      } else {
        this.unexpected('where "," or "]" was expected');
      }
    }
  }

  private literal<T>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.pos)) this.fail('JSON_SYNTAX', `invalid literal (expected ${word})`);
    this.pos += word.length;
    return value;
  }

  private parseNumber(): number {
    const start = this.pos;
    NUMBER_RE.lastIndex = start;
    const m = NUMBER_RE.exec(this.text);
    if (m === null) this.fail('JSON_SYNTAX', 'invalid number');
    const lexeme = m[0];
    this.pos = start + lexeme.length;
    // A digit, "." or exponent right after the match means a malformed number (01, 1., 1e, -).
    const next = this.text.charCodeAt(this.pos);
    if ((next >= 0x30 && next <= 0x39) || next === 0x2e || next === 0x65 || next === 0x45 || next === 0x2b || next === 0x2d) {
      this.fail('JSON_SYNTAX', 'invalid number', start);
    }
    // Number() of an RFC 8259 number lexeme is the correctly rounded double (ECMA-262 StringToNumber).
    const n = Number(lexeme);
    if (!Number.isFinite(n)) {
      this.fail('JSON_NUMBER_RANGE', `number ${lexeme.length > 40 ? lexeme.slice(0, 37) + '...' : lexeme} is beyond the IEEE 754 double range`, start);
    }
    return n;
  }

  private parseString(): string {
    const t = this.text;
    const start = this.pos;
    this.pos++; // opening quote
    let out = '';
    let runStart = this.pos;
    for (;;) {
      if (this.pos >= t.length) this.fail('JSON_SYNTAX', 'unterminated string starting', start);
      const c = t.charCodeAt(this.pos);
      if (c === 0x22) {
        out += t.slice(runStart, this.pos);
        this.pos++;
        return out;
      }
      if (c === 0x5c) {
        out += t.slice(runStart, this.pos);
        out += this.parseEscape();
        runStart = this.pos;
        continue;
      }
      if (c < 0x20) this.fail('JSON_SYNTAX', `unescaped control character ${describeChar(c)} in string`);
      if (c >= 0xd800 && c <= 0xdfff) {
        // Only reachable for string input: fatal UTF-8 decoding never yields a lone surrogate.
        const c2 = t.charCodeAt(this.pos + 1);
        if (!isHighSurrogate(c) || !isLowSurrogate(c2)) {
          this.fail('JSON_LONE_SURROGATE', `lone surrogate ${describeChar(c)} in string`);
        }
        const cp = 0x10000 + ((c - 0xd800) << 10) + (c2 - 0xdc00);
        if (isNoncharacter(cp)) this.fail('JSON_NONCHARACTER', `noncharacter U+${cp.toString(16).toUpperCase()} in string`);
        this.pos += 2;
        continue;
      }
      if (isNoncharacter(c)) this.fail('JSON_NONCHARACTER', `noncharacter ${describeChar(c)} in string`);
      this.pos++;
    }
  }

  /** At a backslash; consumes the escape (a surrogate pair's two escapes together) and returns its text. */
  private parseEscape(): string {
    const at = this.pos;
    const e = this.text.charCodeAt(this.pos + 1);
    const simple = ESCAPES[e];
    if (simple !== undefined) {
      this.pos += 2;
      return simple;
    }
    if (e !== 0x75) {
      this.pos++;
      this.unexpected('after "\\" (RFC 8259 7 escapes are \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)');
    }
    const u = this.hex4(at);
    if (isLowSurrogate(u)) this.fail('JSON_LONE_SURROGATE', `lone surrogate escape ${describeChar(u)}`, at);
    if (isHighSurrogate(u)) {
      // RFC 8259 7: a character outside the BMP is escaped as a UTF-16 pair, "\uD834\uDD1E".
      if (this.text.charCodeAt(this.pos) !== 0x5c || this.text.charCodeAt(this.pos + 1) !== 0x75) {
        this.fail('JSON_LONE_SURROGATE', `lone surrogate escape ${describeChar(u)}`, at);
      }
      const lo = this.hex4(this.pos);
      if (!isLowSurrogate(lo)) this.fail('JSON_LONE_SURROGATE', `lone surrogate escape ${describeChar(u)}`, at);
      const cp = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
      if (isNoncharacter(cp)) this.fail('JSON_NONCHARACTER', `noncharacter U+${cp.toString(16).toUpperCase()} escaped`, at);
      return String.fromCharCode(u, lo);
    }
    if (isNoncharacter(u)) this.fail('JSON_NONCHARACTER', `noncharacter ${describeChar(u)} escaped`, at);
    return String.fromCharCode(u);
  }

  /** Reads "\uXXXX" at `at`, leaving pos after it. */
  private hex4(at: number): number {
    let v = 0;
    for (let i = 2; i < 6; i++) {
      const d = hexDigit(this.text.charCodeAt(at + i));
      if (d < 0) {
        this.pos = at + i;
        this.unexpected('in a \\u escape (four hex digits expected)');
      }
      v = (v << 4) | d;
    }
    this.pos = at + 6;
    return v;
  }
}
