/**
 * The eddsa-jcs-2022 cryptosuite exactly as W3C "Data Integrity EdDSA Cryptosuites v1.0" section
 * 3.3 defines it (Create Proof 3.3.1, Verify Proof 3.3.2, Transformation 3.3.3, Hashing 3.3.4,
 * Proof Configuration 3.3.5, Proof Serialization/Verification 3.3.6-3.3.7), with the registry's
 * one addition (DESIGN 2): the proof's @context must equal the document's.
 *
 * These functions work on any JSON document, not only on our closed statements, so the W3C test
 * vector reproduces byte for byte; schema checks are validate.ts's job.
 */
import { base58 } from '@scure/base';
import { bytesEqual, concatBytes, sha256 } from '../bytes.ts';
import { sign, verify } from '../crypto/ed25519.ts';
import { decodeBase58Signature } from '../crypto/signature-base58.ts';
import { AccordError, describeValue, isAccordError } from '../errors.ts';
import { canonicalBytes } from '../json/canonical.ts';
import { isTimestamp } from './formats.ts';
import { CRYPTOSUITE, PROOF_PURPOSE, PROOF_TYPE, type Proof } from './types.ts';

/** The signature rule's shape: `core/crypto/ed25519.verify` or the node:crypto fast path. */
export type VerifyFn = (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => boolean;

type JsonObject = Record<string, unknown>;

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** A shallow copy without one member, keeping the others in order. */
function without(obj: JsonObject, key: string): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(obj)) if (k !== key) out[k] = v;
  return out;
}

function jcs(value: unknown, what: string): Uint8Array {
  try {
    return canonicalBytes(value);
  } catch (cause) {
    throw new AccordError('PROOF_BAD_DOCUMENT', `${what} cannot be canonicalized (RFC 8785 needs I-JSON values)`, { cause });
  }
}

/** Multibase base58-btc (`z` prefix) of a signature: vc-di-eddsa 3.3.6 Proof Serialization. */
export function encodeProofValue(signature: Uint8Array): string {
  return `z${base58.encode(signature)}`;
}

/**
 * The 64 signature bytes of a proofValue, or null if it is not base58-btc multibase of exactly 64
 * bytes. Length is checked first: base58 decoding is quadratic, and 64 bytes need at most 88
 * characters.
 */
export function decodeProofValue(v: unknown): Uint8Array | null {
  if (typeof v !== 'string' || v.length < 2 || v.length > 90 || !v.startsWith('z')) return null;
  // The specialised decoder gives the same bytes several times faster (every statement the
  // server admits or an audit reads is decoded here); the generic one settles everything else.
  const fast = decodeBase58Signature(v, 1);
  if (fast !== null) return fast;
  try {
    const b = base58.decode(v.slice(1));
    return b.length === 64 ? b : null;
  } catch {
    return null;
  }
}

/** The proof configuration of a secured document: its proof without `proofValue` (3.3.2 step 2). */
export function proofConfigOf(securedDoc: unknown): JsonObject {
  if (!isObject(securedDoc) || !isObject(securedDoc.proof)) {
    throw new AccordError('PROOF_MISSING', 'the document has no proof object');
  }
  return without(securedDoc.proof, 'proofValue');
}

/**
 * hashData of vc-di-eddsa 3.3.4: SHA-256(JCS(proofConfig)) || SHA-256(JCS(document without
 * proof)), 64 bytes. `proofConfig` defaults to the document's own proof without proofValue; a
 * `proofValue` in a given config is ignored, so a whole proof may be passed.
 */
export function proofHashData(doc: unknown, proofConfig?: unknown): Uint8Array {
  if (!isObject(doc)) throw new AccordError('PROOF_BAD_DOCUMENT', `a secured document is a JSON object, got ${describeValue(doc)}`);
  const config = proofConfig === undefined ? proofConfigOf(doc) : proofConfig;
  if (!isObject(config)) throw new AccordError('PROOF_BAD_DOCUMENT', 'the proof configuration must be a JSON object');
  const configHash = sha256(jcs(without(config, 'proofValue'), 'the proof configuration'));
  const docHash = sha256(jcs(without(doc, 'proof'), 'the document'));
  return concatBytes(configHash, docHash);
}

export interface CreateProofOptions {
  /** 32-byte Ed25519 seed. */
  secretKey: Uint8Array;
  /** e.g. `did:web:example.com#key-1` or `did:key:z6Mk...#z6Mk...` */
  verificationMethod: string;
  /** `YYYY-MM-DDTHH:MM:SSZ` */
  created: string;
}

/**
 * Create Proof (3.3.1) and Add Proof: returns a new document with `proof` appended, members in
 * the order of the W3C vector signedJCS.json (type, cryptosuite, created, verificationMethod,
 * proofPurpose, @context, proofValue).
 */
export function createProof<T extends object>(unsecured: T, opts: CreateProofOptions): T & { proof: Proof } {
  if (!isObject(unsecured)) throw new AccordError('PROOF_BAD_DOCUMENT', 'only a JSON object can be secured');
  if (Object.hasOwn(unsecured, 'proof')) throw new AccordError('PROOF_EXISTS', 'the document already has a proof (proof sets are not used here)');
  if (typeof opts.verificationMethod !== 'string' || opts.verificationMethod.length === 0) {
    throw new AccordError('PROOF_BAD_OPTIONS', 'verificationMethod must be a non-empty string');
  }
  if (!isTimestamp(opts.created)) throw new AccordError('PROOF_BAD_OPTIONS', `created must be YYYY-MM-DDTHH:MM:SSZ, got ${describeValue(opts.created)}`);
  const config: JsonObject = {
    type: PROOF_TYPE,
    cryptosuite: CRYPTOSUITE,
    created: opts.created,
    verificationMethod: opts.verificationMethod,
    proofPurpose: PROOF_PURPOSE,
  };
  // 3.3.1 step 2: if unsecuredDocument.@context is present, proof.@context is set to it.
  if (Object.hasOwn(unsecured, '@context')) config['@context'] = unsecured['@context'];
  const signature = sign(proofHashData(unsecured, config), opts.secretKey);
  const proof = { ...config, proofValue: encodeProofValue(signature) } as unknown as Proof;
  return { ...unsecured, proof };
}

function sameJson(a: unknown, b: unknown): boolean {
  try {
    return bytesEqual(canonicalBytes(a), canonicalBytes(b));
  } catch {
    return false;
  }
}

/**
 * Verify Proof (3.3.2) with `publicKey`, the key the caller resolved for
 * proof.verificationMethod. Throws PROOF_MISSING, PROOF_WRONG_CRYPTOSUITE, PROOF_CONTEXT_MISMATCH,
 * PROOF_BAD_VALUE, PROOF_BAD_KEY or PROOF_INVALID; returns nothing when the proof holds.
 */
export function verifyProof(securedDoc: unknown, publicKey: Uint8Array, verifyFn: VerifyFn = verify): void {
  const config = proofConfigOf(securedDoc);
  const doc = securedDoc as JsonObject;
  const proof = doc.proof as JsonObject;
  // 3.3.5 step 2 (Proof Configuration): type and cryptosuite select this algorithm.
  if (proof.type !== PROOF_TYPE || proof.cryptosuite !== CRYPTOSUITE) {
    throw new AccordError('PROOF_WRONG_CRYPTOSUITE', `expected a ${PROOF_TYPE} with cryptosuite ${CRYPTOSUITE}, got type ${describeValue(proof.type)} cryptosuite ${describeValue(proof.cryptosuite)}`);
  }
  // 3.3.2 step 4 lets the proof's @context be a prefix of the document's; DESIGN 2 requires equality.
  if (!Object.hasOwn(proof, '@context') || !Object.hasOwn(doc, '@context') || !sameJson(proof['@context'], doc['@context'])) {
    throw new AccordError('PROOF_CONTEXT_MISMATCH', "the proof's @context must equal the document's @context");
  }
  const signature = decodeProofValue(proof.proofValue);
  if (signature === null) {
    throw new AccordError('PROOF_BAD_VALUE', `proofValue must be base58-btc multibase ("z...") of a 64-byte signature, got ${describeValue(proof.proofValue)}`);
  }
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) {
    throw new AccordError('PROOF_BAD_KEY', 'the verification key must be a 32-byte Ed25519 public key');
  }
  if (!verifyFn(signature, proofHashData(doc, config), publicKey)) {
    throw new AccordError('PROOF_INVALID', `the signature does not verify under the key for ${describeValue(proof.verificationMethod)}`);
  }
}

/** Boolean form of verifyProof: false for any coded refusal. */
export function checkProof(securedDoc: unknown, publicKey: Uint8Array, verifyFn: VerifyFn = verify): boolean {
  try {
    verifyProof(securedDoc, publicKey, verifyFn);
    return true;
  } catch (e) {
    if (isAccordError(e)) return false;
    throw e;
  }
}
