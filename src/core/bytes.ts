/**
 * Byte helpers shared by the core. Pure, no I/O, no node:buffer: they run unchanged in a browser.
 * Decoders are strict: hostile input becomes an AccordError, never a stray exception or a silent
 * mis-decode.
 */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { base64 } from '@scure/base';
import { AccordError } from './errors.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Decodes UTF-8, refusing invalid sequences (code BAD_UTF8). */
export function fromUtf8(b: Uint8Array): string {
  try {
    return decoder.decode(b);
  } catch (cause) {
    throw new AccordError('BAD_UTF8', 'bytes are not valid UTF-8', { cause });
  }
}

export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= (a[i] as number) ^ (b[i] as number);
  return d === 0;
}

const HEX_BYTES = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
/**
 * Lowercase hex. Built with join, not `+=`: V8 keeps a `+=` chain as a tree of rope nodes (about
 * 1.5 KiB for one 32-byte digest) until something flattens it, and the auditor keeps a digest per
 * entry, so ropes would make its memory grow with the log.
 */
export function toHex(b: Uint8Array): string {
  const parts = new Array<string>(b.length);
  for (let i = 0; i < b.length; i++) parts[i] = HEX_BYTES[b[i] as number] as string;
  return parts.join('');
}

/** Lowercase or uppercase hex, even length; anything else is BAD_HEX. */
export function fromHex(s: string): Uint8Array {
  if (typeof s !== 'string' || s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) {
    throw new AccordError('BAD_HEX', `expected an even-length hex string, got ${s.length} characters`);
  }
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Standard base64 with padding (RFC 4648 section 4), as used by C2SP notes and our JSON proofs. */
export function toBase64(b: Uint8Array): string {
  return base64.encode(b);
}

/** Strict standard base64 with padding; whitespace or URL-safe characters are BAD_BASE64. */
export function fromBase64(s: string): Uint8Array {
  if (typeof s !== 'string') throw new AccordError('BAD_BASE64', 'expected a base64 string');
  try {
    return base64.decode(s);
  } catch (cause) {
    throw new AccordError('BAD_BASE64', `not canonical padded base64: ${s.length > 40 ? s.slice(0, 37) + '...' : s}`, { cause });
  }
}

/** `sha256:` + lowercase hex, the digest form of DESIGN section 2. */
export function digestOf(bytes: Uint8Array): string {
  return `sha256:${toHex(sha256(bytes))}`;
}

export const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;
