/**
 * RFC 8785 JSON Canonicalization Scheme (JCS).
 *
 * Our own serializer rather than json-canonicalize's: that library honours a member named
 * `toJSON` (it hands such an object to JSON.stringify unsorted), which is not RFC 8785 and would
 * let a hostile statement get a non-canonical "canonical" form. The rules are small:
 * - RFC 8785 3.2.2.2 strings and 3.2.2.3 numbers are serialized as ECMAScript JSON.stringify does;
 * - RFC 8785 3.2.3 object members are sorted by their names' UTF-16 code units, which is what
 *   Array.prototype.sort compares by default;
 * - literals as is, no whitespace.
 * Input must be an I-JSON value (RFC 8785 3.1): parseStrictJson guarantees it for hostile input;
 * anything else (undefined, functions, non-finite numbers, cycles beyond the depth) is refused.
 */
import { utf8 } from '../bytes.ts';
import { AccordError } from '../errors.ts';

const MAX_DEPTH = 1000;

function serialize(v: unknown, depth: number, out: string[]): void {
  if (depth > MAX_DEPTH) throw new AccordError('JCS_UNSUPPORTED', 'value nested too deeply to canonicalize');
  if (v === null || typeof v === 'boolean') {
    out.push(String(v));
  } else if (typeof v === 'string') {
    out.push(JSON.stringify(v));
  } else if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new AccordError('JCS_UNSUPPORTED', `JCS has no form for the number ${v}`);
    out.push(JSON.stringify(v)); // -0 becomes "0", as RFC 8785 3.2.2.3 requires
  } else if (Array.isArray(v)) {
    out.push('[');
    for (let i = 0; i < v.length; i++) {
      if (i > 0) out.push(',');
      serialize(v[i], depth + 1, out);
    }
    out.push(']');
  } else if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o).sort();
    out.push('{');
    let first = true;
    for (const k of keys) {
      if (o[k] === undefined) continue; // as JSON.stringify: absent optional members
      if (!first) out.push(',');
      first = false;
      out.push(JSON.stringify(k), ':');
      serialize(o[k], depth + 1, out);
    }
    out.push('}');
  } else {
    throw new AccordError('JCS_UNSUPPORTED', `JCS has no form for a ${typeof v}`);
  }
}

export function canonicalize(value: unknown): string {
  const out: string[] = [];
  serialize(value, 0, out);
  return out.join('');
}

export function canonicalBytes(value: unknown): Uint8Array {
  return utf8(canonicalize(value));
}
