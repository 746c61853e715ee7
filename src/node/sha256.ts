/**
 * SHA-256 through node:crypto (OpenSSL) for the hot paths of the server (admission, the
 * sequencer) and of the audit (every entry is hashed four times): the same digests as the core's
 * pure-JS `sha256` (FIPS 180-4 has one answer), several times faster on a statement-sized input.
 * The core keeps its own for the browser.
 */
import { createHash, hash } from 'node:crypto';
import type { Sha256 } from '../core/audit/entry-check.ts';

export function sha256Node(data: Uint8Array): Uint8Array {
  const d = createHash('sha256').update(data).digest();
  return new Uint8Array(d.buffer, d.byteOffset, d.length);
}

/** DESIGN 2 digest, `sha256:` + lowercase hex: core bytes.ts `digestOf`. One-shot `hash` saves the Hash object. */
export function digestOfNode(bytes: Uint8Array): string {
  return `sha256:${hash('sha256', bytes, 'hex')}`;
}

const LEAF_PREFIX = new Uint8Array([0x00]);

/** RFC 6962 2.1 leaf hash, SHA-256(0x00 || data): core merkle.ts `leafHash`. */
export function leafHashNode(data: Uint8Array): Uint8Array {
  const d = createHash('sha256').update(LEAF_PREFIX).update(data).digest();
  return new Uint8Array(d.buffer, d.byteOffset, d.length);
}

const NODE_PREFIX = new Uint8Array([0x01]);

/** RFC 6962 2.1 node hash, SHA-256(0x01 || left || right): core merkle.ts `nodeHash`. */
export function nodeHashNode(left: Uint8Array, right: Uint8Array): Uint8Array {
  const d = createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
  return new Uint8Array(d.buffer, d.byteOffset, d.length);
}

/** nodeSha256's parts are concatenated here (hashing is synchronous, so one buffer serves every call). */
let scratch = new Uint8Array(1 << 17);

function bytesOf(latin1: string): Uint8Array {
  const out = new Uint8Array(latin1.length);
  for (let i = 0; i < latin1.length; i++) out[i] = latin1.charCodeAt(i);
  return out;
}

/**
 * The core's injectable `Sha256` shape (core/audit/entry-check.ts), for the audit. The digest is
 * taken as a 'binary' (latin1) string and copied into a 32-byte array, which V8 keeps on its heap:
 * a Buffer result would cost an ArrayBuffer (a native allocation the garbage collector must
 * track) per hash.
 */
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
