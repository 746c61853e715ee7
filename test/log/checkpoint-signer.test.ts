/**
 * The sequencer signs checkpoints through OpenSSL (src/node/ed25519-sign.ts). Ed25519 is
 * deterministic (RFC 8032), so the notes must be the core signer's, byte for byte, and verify
 * under the log's verifier key.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateKeyPair, keyPairFromSeed, sign } from '../../src/core/crypto/ed25519.ts';
import { signCheckpoint, verifyCheckpoint } from '../../src/core/log/checkpoint.ts';
import { makeVerifierKey } from '../../src/core/log/note.ts';
import { createCheckpointSigner, createNodeSigner } from '../../src/node/ed25519-sign.ts';

const ORIGIN = 'signer.test/log';

describe('createNodeSigner', () => {
  it('makes the core signer\'s signature for any seed and message', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 300 }), (seed, message) => {
        expect(createNodeSigner(seed)(message)).toEqual(sign(message, seed));
      }),
      { numRuns: 50 },
    );
  });

  it('refuses a seed that is not 32 bytes with BAD_SECRET_KEY', () => {
    expect(() => createNodeSigner(new Uint8Array(31))).toThrowError(expect.objectContaining({ code: 'BAD_SECRET_KEY' }));
  });
});

describe('createCheckpointSigner', () => {
  const { secretKey, publicKey } = generateKeyPair();
  const signer = createCheckpointSigner(ORIGIN, secretKey);
  const vkey = makeVerifierKey(ORIGIN, publicKey);

  it('writes the core\'s signed note byte for byte, and it verifies under the log key', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (size, root) => {
        const note = signer({ origin: ORIGIN, size, root });
        expect(note).toBe(signCheckpoint({ origin: ORIGIN, size, root }, secretKey));
        expect(verifyCheckpoint(note, vkey)).toMatchObject({ origin: ORIGIN, size, root });
      }),
      { numRuns: 50 },
    );
  });

  it('refuses a checkpoint of another origin with CHECKPOINT_ORIGIN_MISMATCH', () => {
    expect(() => signer({ origin: 'other/log', size: 1, root: new Uint8Array(32) })).toThrowError(expect.objectContaining({ code: 'CHECKPOINT_ORIGIN_MISMATCH' }));
  });

  it('refuses an origin that is not a key name with NOTE_BAD_KEY_NAME, as the core does', () => {
    expect(() => createCheckpointSigner('has space', keyPairFromSeed(new Uint8Array(32)).secretKey)).toThrowError(expect.objectContaining({ code: 'NOTE_BAD_KEY_NAME' }));
  });
});
