/**
 * RFC 6962 / RFC 9162 Merkle tree hashing (DESIGN section 5). Pure: no I/O.
 */
import { concatBytes, sha256 } from '../bytes.ts';

const LEAF_PREFIX = new Uint8Array([0x00]);
const NODE_PREFIX = new Uint8Array([0x01]);

/** RFC 9162 2.1.1: MTH({d(0)}) = SHA-256(0x00 || d(0)). */
export function leafHash(data: Uint8Array): Uint8Array {
  return sha256(concatBytes(LEAF_PREFIX, data));
}

/** RFC 9162 2.1.1: SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(concatBytes(NODE_PREFIX, left, right));
}
