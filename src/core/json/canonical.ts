/**
 * RFC 8785 JSON Canonicalization Scheme. json-canonicalize implements the spec's ordering
 * (UTF-16 code units) and ECMAScript number serialization; we only add the typed byte form.
 * Input must already have passed parseStrictJson or be built by our own code: JCS is defined only
 * for I-JSON values (RFC 8785 section 3.1), which the strict parser guarantees.
 */
import { canonicalize as jcs } from 'json-canonicalize';
import { utf8 } from '../bytes.ts';

export function canonicalize(value: unknown): string {
  return jcs(value);
}

export function canonicalBytes(value: unknown): Uint8Array {
  return utf8(jcs(value));
}
