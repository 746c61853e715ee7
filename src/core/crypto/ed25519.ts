/**
 * Ed25519 under the project's signature rule (DESIGN section 3): a signature is valid only if
 * RFC 8032 strict verification as @noble/ed25519 does it with { zip215: false } accepts it AND
 * the cofactorless equation [S]B = R + [k]A holds (what OpenSSL checks). noble's strict branch
 * checks the cofactored equation [8]([S]B - R - [k]A) = 0 and rejects small-order keys; adding the
 * cofactorless check rejects the mixed-order R cases of "Taming the many EdDSAs", so every verifier
 * in the project agrees with node:crypto (see src/node/ed25519-fast.ts) on every input.
 */
import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { concatBytes } from '../bytes.ts';
import { AccordError } from '../errors.ts';

// noble needs a synchronous SHA-512 for its sync API; @noble/hashes runs in any JS engine.
ed.hashes.sha512 = sha512;

const L = 2n ** 252n + 27742317777372353535851937790883648493n; // RFC 8032 5.1: group order

export interface KeyPair {
  publicKey: Uint8Array;
  /** The 32-byte RFC 8032 private key (seed). */
  secretKey: Uint8Array;
}

export function keyPairFromSeed(seed: Uint8Array): KeyPair {
  if (!(seed instanceof Uint8Array) || seed.length !== 32) {
    throw new AccordError('BAD_SECRET_KEY', `an Ed25519 secret key is 32 bytes, got ${seed instanceof Uint8Array ? seed.length : typeof seed}`);
  }
  return { publicKey: ed.getPublicKey(seed), secretKey: Uint8Array.from(seed) };
}

export function generateKeyPair(): KeyPair {
  return keyPairFromSeed(ed.utils.randomSecretKey());
}

export function sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== 32) {
    throw new AccordError('BAD_SECRET_KEY', 'an Ed25519 secret key is 32 bytes');
  }
  return ed.sign(message, secretKey);
}

function bytesToBigIntLE(b: Uint8Array): bigint {
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i] as number);
  return n;
}

/**
 * The project's verdict. Never throws: wrong lengths or types are simply invalid.
 *
 * Equivalent to `ed.verify(sig, msg, pub, { zip215: false })` AND the cofactorless equation, in one
 * pass: noble's strict branch (1) decodes A and R canonically (y < p, no x = 0 with the sign bit
 * set), (2) requires 0 <= S < L, (3) refuses small-order A, (4) checks [8]([S]B - R - [k]A) = 0.
 * We do (1)-(3) the same way and check [S]B = R + [k]A (RFC 8032 5.1.7 without the cofactor),
 * which implies (4); so one set of scalar multiplications instead of two.
 */
export function verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (!(signature instanceof Uint8Array) || signature.length !== 64) return false;
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) return false;
  if (!(message instanceof Uint8Array)) return false;
  try {
    const rBytes = signature.subarray(0, 32);
    const S = bytesToBigIntLE(signature.subarray(32, 64));
    if (S >= L) return false; // RFC 8032 5.1.7 step 1: S in [0, L)
    const A = ed.Point.fromBytes(publicKey, false); // strict: throws on a non-canonical encoding
    const R = ed.Point.fromBytes(rBytes, false);
    if (A.isSmallOrder()) return false; // noble's strict policy (as libsodium)
    const k = bytesToBigIntLE(sha512(concatBytes(rBytes, publicKey, message))) % L;
    // multiply(_, false): variable-time is fine for public data and accepts a zero scalar.
    return ed.Point.BASE.multiply(S, false).equals(R.add(A.multiply(k, false)));
  } catch {
    return false;
  }
}
