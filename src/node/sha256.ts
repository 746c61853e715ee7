/**
 * SHA-256 through node:crypto for the server's hot paths (admission, the sequencer): the same
 * digests as the core's pure-JS `sha256` (FIPS 180-4 has one answer), about three times faster
 * on a statement-sized input. The core keeps its own for the browser.
 */
import { createHash } from 'node:crypto';

export function sha256Node(data: Uint8Array): Uint8Array {
  const d = createHash('sha256').update(data).digest();
  return new Uint8Array(d.buffer, d.byteOffset, d.length);
}

/** DESIGN 2 digest, `sha256:` + lowercase hex: core bytes.ts `digestOf`. */
export function digestOfNode(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

const LEAF_PREFIX = new Uint8Array([0x00]);

/** RFC 6962 2.1 leaf hash, SHA-256(0x00 || data): core merkle.ts `leafHash`. */
export function leafHashNode(data: Uint8Array): Uint8Array {
  const d = createHash('sha256').update(LEAF_PREFIX).update(data).digest();
  return new Uint8Array(d.buffer, d.byteOffset, d.length);
}
