import { readFileSync } from 'node:fs';
import { base58 } from '@scure/base';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import { keyPairFromSeed, sign, verify } from '../../src/core/crypto/ed25519.ts';
import {
  decodePublicMultikey,
  decodeSecretMultikey,
  didKeyFromPublicKey,
  didKeyVerificationMethod,
  encodePublicMultikey,
  encodeSecretMultikey,
  publicKeyFromDidKey,
} from '../../src/core/crypto/multikey.ts';

const W3C = new URL('../../../shared/vectors/eddsa-jcs-2022/', import.meta.url);
const keyPair = JSON.parse(readFileSync(new URL('keyPair.json', W3C), 'utf8')) as { publicKeyMultibase: string; privateKeyMultibase: string };
const readText = (name: string): string => readFileSync(new URL(name, W3C), 'utf8').trim();

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

/** base58-btc multibase of arbitrary bytes, for building malformed keys. */
const mb = (bytes: number[] | Uint8Array): string => 'z' + base58.encode(Uint8Array.from(bytes));
const key32 = Array.from({ length: 32 }, (_, i) => i + 1);

describe('Multikey', () => {
  describe('on the W3C eddsa-jcs-2022 key pair (keyPair.json)', () => {
    it('decodes the secret multikey to a seed whose public key encodes to publicKeyMultibase', () => {
      const seed = decodeSecretMultikey(keyPair.privateKeyMultibase);
      expect(seed).toHaveLength(32);
      const { publicKey } = keyPairFromSeed(seed);
      expect(encodePublicMultikey(publicKey)).toBe(keyPair.publicKeyMultibase);
    });

    it('re-encodes both keys to the exact strings of the vector', () => {
      expect(encodeSecretMultikey(decodeSecretMultikey(keyPair.privateKeyMultibase))).toBe(keyPair.privateKeyMultibase);
      expect(encodePublicMultikey(decodePublicMultikey(keyPair.publicKeyMultibase))).toBe(keyPair.publicKeyMultibase);
    });

    it('yields the key that verifies the vector signature, and signs it again byte for byte', () => {
      const seed = decodeSecretMultikey(keyPair.privateKeyMultibase);
      const hashData = fromHex(readText('combinedHashJCS.txt'));
      const signature = fromHex(readText('sigHexJCS.txt'));
      expect(verify(signature, hashData, decodePublicMultikey(keyPair.publicKeyMultibase))).toBe(true);
      expect(toHex(sign(hashData, seed))).toBe(toHex(signature)); // RFC 8032 signatures are deterministic
    });

    it('starts with z6Mk (public) and z3u2 (secret) as the multicodec prefixes imply', () => {
      expect(encodePublicMultikey(new Uint8Array(32))).toMatch(/^z6Mk/);
      expect(encodeSecretMultikey(new Uint8Array(32))).toMatch(/^z3u2/);
    });
  });

  describe('round trips', () => {
    it('decodePublicMultikey(encodePublicMultikey(k)) = k and likewise for secret keys', () => {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (k) => {
          expect(decodePublicMultikey(encodePublicMultikey(k))).toEqual(k);
          expect(decodeSecretMultikey(encodeSecretMultikey(k))).toEqual(k);
        }),
        { numRuns: 200 },
      );
    });
  });

  describe('when the multikey is malformed', () => {
    const bad: Array<[string, unknown]> = [
      ['not a string', 42],
      ['an empty string', ''],
      ['no multibase prefix', keyPair.publicKeyMultibase.slice(1)],
      ['a base64url multibase prefix (u)', 'u' + keyPair.publicKeyMultibase.slice(1)],
      ['a character outside base58 (0)', keyPair.publicKeyMultibase.slice(0, -1) + '0'],
      ['a character outside base58 (l)', keyPair.publicKeyMultibase.slice(0, -1) + 'l'],
      ['whitespace', keyPair.publicKeyMultibase + ' '],
      ['a key one byte short', mb([0xed, 0x01, ...key32.slice(1)])],
      ['a key one byte long', mb([0xed, 0x01, ...key32, 0])],
      ['an X25519 prefix (0xec 0x01)', mb([0xec, 0x01, ...key32])],
      ['a secret-key prefix (0x80 0x26)', mb([0x80, 0x26, ...key32])],
      ['no multicodec prefix at all', mb(key32)],
      ['an absurdly long string', 'z' + '1'.repeat(10_000)],
    ];
    for (const [what, input] of bad) {
      it(`decodePublicMultikey fails with BAD_MULTIKEY on ${what}`, () => {
        expect(codeOf(() => decodePublicMultikey(input))).toBe('BAD_MULTIKEY');
      });
    }

    it('decodeSecretMultikey fails with BAD_MULTIKEY on a public key and on a short seed', () => {
      expect(codeOf(() => decodeSecretMultikey(keyPair.publicKeyMultibase))).toBe('BAD_MULTIKEY');
      expect(codeOf(() => decodeSecretMultikey(mb([0x80, 0x26, ...key32.slice(1)])))).toBe('BAD_MULTIKEY');
    });
  });
});

describe('did:key', () => {
  const pub = decodePublicMultikey(keyPair.publicKeyMultibase);

  it('forms did:key:<multikey> and the method form did:key:<multikey>#<multikey>', () => {
    expect(didKeyFromPublicKey(pub)).toBe(`did:key:${keyPair.publicKeyMultibase}`);
    // The W3C vector's signedJCS.json uses exactly this verificationMethod.
    expect(didKeyVerificationMethod(pub)).toBe(`did:key:${keyPair.publicKeyMultibase}#${keyPair.publicKeyMultibase}`);
  });

  it('round-trips both forms back to the key', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (k) => {
        expect(publicKeyFromDidKey(didKeyFromPublicKey(k))).toEqual(k);
        expect(publicKeyFromDidKey(didKeyVerificationMethod(k))).toEqual(k);
      }),
      { numRuns: 200 },
    );
  });

  describe('when the DID is not an Ed25519 did:key', () => {
    const other = encodePublicMultikey(new Uint8Array(32).fill(7));
    const bad: Array<[string, unknown]> = [
      ['not a string', null],
      ['another DID method', `did:web:${keyPair.publicKeyMultibase}`],
      ['a bare multikey', keyPair.publicKeyMultibase],
      ['an upper-case method name', `did:KEY:${keyPair.publicKeyMultibase}`],
      ['a fragment naming another key', `did:key:${keyPair.publicKeyMultibase}#${other}`],
      ['a fragment like #key-1', `did:key:${keyPair.publicKeyMultibase}#key-1`],
      ['an empty fragment', `did:key:${keyPair.publicKeyMultibase}#`],
      ['bad base58', `did:key:${keyPair.publicKeyMultibase.slice(0, -1)}O`],
      ['a wrong length', `did:key:${mb([0xed, 0x01, ...key32.slice(2)])}`],
      ['a wrong multicodec prefix', `did:key:${mb([0xec, 0x01, ...key32])}`],
      ['nothing after did:key:', 'did:key:'],
    ];
    for (const [what, input] of bad) {
      it(`publicKeyFromDidKey fails with BAD_DID_KEY on ${what}`, () => {
        expect(codeOf(() => publicKeyFromDidKey(input))).toBe('BAD_DID_KEY');
      });
    }
  });
});
