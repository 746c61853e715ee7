/**
 * Statement signing for the benchmark's load generators, with node:crypto: the same bytes as
 * core/statements/proof.ts createProof (vc-di-eddsa 3.3.1: hashData = SHA-256(JCS(proofConfig)) ||
 * SHA-256(JCS(document)), Ed25519 over it; RFC 8032 signatures are deterministic, so noble would
 * produce the identical proofValue), only faster, so the generator is not the bottleneck.
 */
import { createHash, createPrivateKey, sign as nodeSign, type KeyObject } from 'node:crypto';
import { keyPairFromSeed } from '../../src/core/crypto/ed25519.ts';
import { encodePublicMultikey } from '../../src/core/crypto/multikey.ts';
import { canonicalBytes } from '../../src/core/json/canonical.ts';
import { encodeProofValue } from '../../src/core/statements/proof.ts';
import { CRYPTOSUITE, PROOF_PURPOSE, PROOF_TYPE, type UnsecuredStatement } from '../../src/core/statements/types.ts';

// RFC 8410 PKCS#8 wrapping of a raw Ed25519 seed, so node:crypto can sign with it.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export interface Signer {
  method: string;
  key: KeyObject;
  publicKey: Uint8Array;
  publicKeyMultibase: string;
}

export function signer(seed: Uint8Array, method: (publicKey: Uint8Array) => string): Signer {
  const { publicKey } = keyPairFromSeed(seed);
  return {
    method: method(publicKey),
    key: createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' }),
    publicKey,
    publicKeyMultibase: encodePublicMultikey(publicKey),
  };
}

export const sha256 = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();

/** The canonical bytes (RFC 8785) of the secured statement. */
export function secure(doc: UnsecuredStatement, s: Signer, created: string): Uint8Array {
  return securedParts(doc, s, created).bytes;
}

/** secure's bytes, with the signature and the hashData it covers (what a verifier checks). */
export function securedParts(doc: UnsecuredStatement, s: Signer, created: string): { bytes: Uint8Array; signature: Uint8Array; hashData: Uint8Array } {
  const config = {
    type: PROOF_TYPE,
    cryptosuite: CRYPTOSUITE,
    created,
    verificationMethod: s.method,
    proofPurpose: PROOF_PURPOSE,
    '@context': doc['@context'],
  };
  const hashData = Buffer.concat([sha256(canonicalBytes(config)), sha256(canonicalBytes(doc))]);
  const sig = nodeSign(null, hashData, s.key);
  const signature = new Uint8Array(sig.buffer, sig.byteOffset, sig.length);
  const proofValue = encodeProofValue(signature);
  return { bytes: canonicalBytes({ ...doc, proof: { ...config, proofValue } }), signature, hashData: new Uint8Array(hashData) };
}
