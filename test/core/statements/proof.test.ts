import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sha256, toHex, utf8 } from '../../../src/core/bytes.ts';
import { sign, verify } from '../../../src/core/crypto/ed25519.ts';
import { decodePublicMultikey, decodeSecretMultikey } from '../../../src/core/crypto/multikey.ts';
import { canonicalize } from '../../../src/core/json/canonical.ts';
import {
  checkProof,
  createProof,
  decodeProofValue,
  encodeProofValue,
  proofConfigOf,
  proofHashData,
  verifyProof,
} from '../../../src/core/statements/proof.ts';
import { ALPHA, ALPHA_METHOD, DELETE, OTHER, T0, VECTORS, codeOf, mutate, signedPledge } from './fixtures.ts';

const dir = new URL('eddsa-jcs-2022/', VECTORS);
const text = (name: string): string => readFileSync(new URL(name, dir), 'utf8');
const json = (name: string): Record<string, unknown> => JSON.parse(text(name)) as Record<string, unknown>;

const keyPair = json('keyPair.json') as { publicKeyMultibase: string; privateKeyMultibase: string };
const secretKey = decodeSecretMultikey(keyPair.privateKeyMultibase);
const publicKey = decodePublicMultikey(keyPair.publicKeyMultibase);
const unsigned = json('unsigned.json');
const signedVector = json('signedJCS.json');
const vectorProof = signedVector.proof as Record<string, unknown>;
const options = { secretKey, verificationMethod: vectorProof.verificationMethod as string, created: vectorProof.created as string };

/** Member names at every level, in order, so "member for member" includes the order. */
function memberOrder(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(memberOrder);
  if (typeof v === 'object' && v !== null) return Object.entries(v).map(([k, x]) => [k, memberOrder(x)]);
  return v;
}

describe('eddsa-jcs-2022 (W3C vc-di-eddsa test vectors)', () => {
  it('canonicalizes the unsigned document to canonDocJCS.txt', () => {
    expect(canonicalize(unsigned)).toBe(text('canonDocJCS.txt'));
  });

  it('canonicalizes the proof configuration to proofCanonJCS.txt, from the vector file and from the signed document', () => {
    expect(canonicalize(json('proofConfigJCS.json'))).toBe(text('proofCanonJCS.txt'));
    expect(canonicalize(proofConfigOf(signedVector))).toBe(text('proofCanonJCS.txt'));
  });

  it('hashes the document and the proof configuration to docHashJCS.txt and proofHashJCS.txt', () => {
    expect(toHex(sha256(utf8(text('canonDocJCS.txt'))))).toBe(text('docHashJCS.txt').trim());
    expect(toHex(sha256(utf8(text('proofCanonJCS.txt'))))).toBe(text('proofHashJCS.txt').trim());
  });

  it('builds hashData equal to combinedHashJCS.txt, from the secured document or from the unsigned one and the config', () => {
    expect(toHex(proofHashData(signedVector))).toBe(text('combinedHashJCS.txt').trim());
    expect(toHex(proofHashData(unsigned, json('proofConfigJCS.json')))).toBe(text('combinedHashJCS.txt').trim());
  });

  it('signs hashData to sigHexJCS.txt and encodes it as sigBTC58JCS.txt', () => {
    const signature = sign(proofHashData(signedVector), secretKey);
    expect(toHex(signature)).toBe(text('sigHexJCS.txt').trim());
    expect(encodeProofValue(signature)).toBe(text('sigBTC58JCS.txt').trim());
    expect(toHex(decodeProofValue(text('sigBTC58JCS.txt').trim()) ?? new Uint8Array())).toBe(text('sigHexJCS.txt').trim());
  });

  it('creates a signed document equal to signedJCS.json member for member, in the same order', () => {
    const created = createProof(unsigned, options);
    expect(created).toStrictEqual(signedVector);
    expect(memberOrder(created)).toStrictEqual(memberOrder(signedVector));
    expect(JSON.stringify(created, null, 2)).toBe(text('signedJCS.json').trimEnd());
  });

  it('does not modify the unsigned document', () => {
    const before = JSON.stringify(unsigned);
    createProof(unsigned, options);
    expect(JSON.stringify(unsigned)).toBe(before);
  });

  it('verifies signedJCS.json with the vector public key', () => {
    expect(() => verifyProof(signedVector, publicKey)).not.toThrow();
    expect(checkProof(signedVector, publicKey)).toBe(true);
  });
});

describe('verifyProof', () => {
  describe('when a document member is changed after signing', () => {
    it('fails with PROOF_INVALID', () => {
      const tampered = mutate(signedVector, ['credentialSubject', 'alumniOf'], 'The School of Forgeries');
      expect(codeOf(() => verifyProof(tampered, publicKey))).toBe('PROOF_INVALID');
      expect(checkProof(tampered, publicKey)).toBe(false);
    });
  });

  describe('when a proof option is changed after signing (the proof configuration is signed too)', () => {
    it('fails with PROOF_INVALID', () => {
      expect(codeOf(() => verifyProof(mutate(signedVector, ['proof', 'created'], '2023-02-24T23:36:39Z'), publicKey))).toBe('PROOF_INVALID');
      expect(codeOf(() => verifyProof(mutate(signedVector, ['proof', 'proofPurpose'], 'authentication'), publicKey))).toBe('PROOF_INVALID');
    });
  });

  describe('when a member is added to the document', () => {
    it('fails with PROOF_INVALID', () => {
      expect(codeOf(() => verifyProof(mutate(signedVector, ['extra'], true), publicKey))).toBe('PROOF_INVALID');
    });
  });

  describe('when the document was signed by another key', () => {
    it('fails with PROOF_INVALID', () => {
      const byOther = createProof(unsigned, { ...options, secretKey: OTHER.secretKey });
      expect(codeOf(() => verifyProof(byOther, publicKey))).toBe('PROOF_INVALID');
      expect(checkProof(byOther, OTHER.publicKey)).toBe(true);
    });
  });

  describe('when the signature bytes are flipped', () => {
    it('fails with PROOF_INVALID', () => {
      const sig = decodeProofValue(vectorProof.proofValue) as Uint8Array;
      sig[10] = (sig[10] as number) ^ 1;
      expect(codeOf(() => verifyProof(mutate(signedVector, ['proof', 'proofValue'], encodeProofValue(sig)), publicKey))).toBe('PROOF_INVALID');
    });
  });

  describe('when the cryptosuite or proof type is another one', () => {
    it('fails with PROOF_WRONG_CRYPTOSUITE', () => {
      expect(codeOf(() => verifyProof(mutate(signedVector, ['proof', 'cryptosuite'], 'eddsa-rdfc-2022'), publicKey))).toBe('PROOF_WRONG_CRYPTOSUITE');
      expect(codeOf(() => verifyProof(mutate(signedVector, ['proof', 'type'], 'Ed25519Signature2020'), publicKey))).toBe('PROOF_WRONG_CRYPTOSUITE');
    });
  });

  describe('when there is no proof', () => {
    it('fails with PROOF_MISSING', () => {
      expect(codeOf(() => verifyProof(unsigned, publicKey))).toBe('PROOF_MISSING');
      expect(codeOf(() => verifyProof(mutate(signedVector, ['proof'], [vectorProof]), publicKey))).toBe('PROOF_MISSING');
      expect(codeOf(() => verifyProof(mutate(signedVector, ['proof'], 'z123'), publicKey))).toBe('PROOF_MISSING');
      expect(codeOf(() => verifyProof(null, publicKey))).toBe('PROOF_MISSING');
      expect(codeOf(() => verifyProof([signedVector], publicKey))).toBe('PROOF_MISSING');
      expect(checkProof('not a document', publicKey)).toBe(false);
    });
  });

  describe("when the proof's @context differs from the document's", () => {
    it('fails with PROOF_CONTEXT_MISMATCH', () => {
      // vc-di-eddsa 3.3.2 would accept a prefix; DESIGN 2 requires equality.
      const prefixOnly = mutate(signedVector, ['proof', '@context'], ['https://www.w3.org/ns/credentials/v2']);
      expect(codeOf(() => verifyProof(prefixOnly, publicKey))).toBe('PROOF_CONTEXT_MISMATCH');
      expect(codeOf(() => verifyProof(mutate(signedVector, ['proof', '@context'], DELETE), publicKey))).toBe('PROOF_CONTEXT_MISMATCH');
      expect(codeOf(() => verifyProof(mutate(signedVector, ['@context'], DELETE), publicKey))).toBe('PROOF_CONTEXT_MISMATCH');
    });
  });

  describe('when proofValue is not base58-btc of 64 bytes', () => {
    it.each([
      ['missing', DELETE],
      ['a number', 42],
      ['base64url multibase', 'uQH_SJlSzPXGOy7mReaFQbaqoSUUL8_xSPM4-HJb4uANR2j8lPXJcbwCwfJ5USNULPveAErmrVCVRFtBpxt0oCA'],
      ['63 bytes', encodeProofValue(new Uint8Array(63).fill(1))],
      ['65 bytes', encodeProofValue(new Uint8Array(65).fill(1))],
      ['not base58 (0, O, I, l)', 'z0OIl'],
      ['100 kB long', `z${'2'.repeat(100_000)}`],
    ])('fails with PROOF_BAD_VALUE when it is %s', (_what, value) => {
      expect(codeOf(() => verifyProof(mutate(signedVector, ['proof', 'proofValue'], value), publicKey))).toBe('PROOF_BAD_VALUE');
    });
  });

  describe('when the public key is not 32 bytes', () => {
    it('fails with PROOF_BAD_KEY', () => {
      expect(codeOf(() => verifyProof(signedVector, publicKey.subarray(0, 31)))).toBe('PROOF_BAD_KEY');
      expect(codeOf(() => verifyProof(signedVector, 'z6Mk' as unknown as Uint8Array))).toBe('PROOF_BAD_KEY');
    });
  });

  describe('with a verifyFn', () => {
    it('takes the verdict from that function', () => {
      expect(codeOf(() => verifyProof(signedVector, publicKey, verify))).toBe('NO ERROR');
      expect(codeOf(() => verifyProof(signedVector, publicKey, () => false))).toBe('PROOF_INVALID');
    });
  });
});

describe('createProof', () => {
  it('signs a registry statement that verifies under the signer key and no other', () => {
    const pledge = signedPledge();
    expect(checkProof(pledge, ALPHA.publicKey)).toBe(true);
    expect(checkProof(pledge, OTHER.publicKey)).toBe(false);
  });

  it('puts the proof members in the order of signedJCS.json', () => {
    expect(Object.keys(signedPledge().proof)).toStrictEqual(Object.keys(vectorProof));
  });

  describe('when the document already has a proof', () => {
    it('fails with PROOF_EXISTS', () => {
      expect(codeOf(() => createProof(signedVector, options))).toBe('PROOF_EXISTS');
    });
  });

  describe('when the options are malformed', () => {
    it('fails with PROOF_BAD_OPTIONS or BAD_SECRET_KEY', () => {
      expect(codeOf(() => createProof(unsigned, { ...options, created: '2023-02-24T23:36:38.000Z' }))).toBe('PROOF_BAD_OPTIONS');
      expect(codeOf(() => createProof(unsigned, { ...options, verificationMethod: '' }))).toBe('PROOF_BAD_OPTIONS');
      expect(codeOf(() => createProof(unsigned, { ...options, secretKey: new Uint8Array(31) }))).toBe('BAD_SECRET_KEY');
      expect(codeOf(() => createProof([] as unknown as object, { secretKey: ALPHA.secretKey, verificationMethod: ALPHA_METHOD, created: T0 }))).toBe('PROOF_BAD_DOCUMENT');
    });
  });
});
