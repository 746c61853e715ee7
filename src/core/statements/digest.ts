/**
 * A statement's digest (DESIGN 2): `sha256:` + lowercase hex of SHA-256 of its canonical bytes,
 * the same bytes the log stores. Pledge chains (`previous`), `accord` and receipts name entries
 * by it.
 */
import { digestOf } from '../bytes.ts';

export function statementDigest(canonicalBytes: Uint8Array): string {
  return digestOf(canonicalBytes);
}
