/**
 * SHA-256 through node:crypto (OpenSSL) in the core's injectable shape (core/audit/entry-check.ts
 * `Sha256`): the audit hashes every entry four times, and OpenSSL's one-shot hash is several times
 * faster than the portable implementation on entry-sized inputs. The digest is taken as a 'binary'
 * (latin1) string and copied into a 32-byte array, which V8 keeps on its heap: a Buffer result
 * would cost an ArrayBuffer (a native allocation the garbage collector must track) per hash.
 */
import { hash } from 'node:crypto';
import type { Sha256 } from '../core/audit/entry-check.ts';

/** Parts are concatenated here (hashing is synchronous, so one buffer serves every call). */
let scratch = new Uint8Array(1 << 17);

function bytesOf(latin1: string): Uint8Array {
  const out = new Uint8Array(latin1.length);
  for (let i = 0; i < latin1.length; i++) out[i] = latin1.charCodeAt(i);
  return out;
}

export const nodeSha256: Sha256 = (...parts) => {
  // Strings are hashed as UTF-8, as the core's utf8() encodes them.
  if (parts.length === 1) return bytesOf(hash('sha256', parts[0] as Uint8Array | string, 'binary'));
  const bytes = parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p));
  let n = 0;
  for (const b of bytes) n += b.length;
  if (n > scratch.length) scratch = new Uint8Array(n);
  let o = 0;
  for (const b of bytes) {
    scratch.set(b, o);
    o += b.length;
  }
  return bytesOf(hash('sha256', scratch.subarray(0, n), 'binary'));
};
