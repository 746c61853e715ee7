/**
 * Ed25519 signing through node:crypto (OpenSSL), for the sequencer's checkpoints: one signature
 * per committed batch, on the write path. The pure-JS signer of src/core/crypto/ed25519.ts costs
 * about a millisecond (key expansion plus a scalar multiplication in BigInt arithmetic); OpenSSL
 * takes tens of microseconds.
 *
 * Same bytes, by construction: RFC 8032 5.1.6 signatures are deterministic (the nonce is hashed
 * from the key and the message), so every correct implementation produces the identical
 * signature for the same seed and message. `createCheckpointSigner` still checks that on a probe
 * checkpoint when it is created, against the core's `signCheckpoint`, and refuses to run otherwise.
 */
import { createPrivateKey, sign as nodeSign, type KeyObject } from 'node:crypto';
import { bytesEqual, concatBytes, toBase64, utf8 } from '../core/bytes.ts';
import { keyPairFromSeed } from '../core/crypto/ed25519.ts';
import { AccordError } from '../core/errors.ts';
import { formatCheckpoint, signCheckpoint, type Checkpoint } from '../core/log/checkpoint.ts';
import { keyId } from '../core/log/note.ts';

// RFC 8410 PKCS#8 PrivateKeyInfo for id-Ed25519 (1.3.101.112) around a 32-byte seed.
const PKCS8_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]);

/** Signs messages with one Ed25519 seed: `(message) => 64-byte signature`. */
export type SignFn = (message: Uint8Array) => Uint8Array;

function privateKeyOf(seed: Uint8Array): KeyObject {
  if (!(seed instanceof Uint8Array) || seed.length !== 32) {
    throw new AccordError('BAD_SECRET_KEY', `an Ed25519 secret key is 32 bytes, got ${seed instanceof Uint8Array ? seed.length : typeof seed}`);
  }
  return createPrivateKey({ key: Buffer.from(concatBytes(PKCS8_PREFIX, seed)), format: 'der', type: 'pkcs8' });
}

/** An RFC 8032 Ed25519 signer for `seed`, through OpenSSL. */
export function createNodeSigner(seed: Uint8Array): SignFn {
  const key = privateKeyOf(seed);
  return (message) => {
    const s = nodeSign(null, message, key);
    return new Uint8Array(s.buffer, s.byteOffset, s.length);
  };
}

/** What the sequencer calls for each batch: the C2SP signed note of a checkpoint. */
export type CheckpointSigner = (cp: Pick<Checkpoint, 'origin' | 'size' | 'root'>) => string;

/**
 * A checkpoint signer for the log key `seed` whose key name is `origin` (DESIGN 5): the
 * tlog-checkpoint text (core formatCheckpoint) and one signed-note signature line,
 * `— <origin> base64(key ID || signature)` (C2SP signed-note "Format"), exactly as the core's
 * `signCheckpoint` writes it, with the signature computed by OpenSSL.
 */
export function createCheckpointSigner(origin: string, seed: Uint8Array): CheckpointSigner {
  const sign = createNodeSigner(seed);
  const id = keyId(origin, keyPairFromSeed(seed).publicKey);
  const signer: CheckpointSigner = (cp) => {
    if (cp.origin !== origin) throw new AccordError('CHECKPOINT_ORIGIN_MISMATCH', `this signer signs checkpoints of ${origin}, not ${cp.origin}`);
    const text = formatCheckpoint(cp);
    return `${text}\n\u2014 ${origin} ${toBase64(concatBytes(id, sign(utf8(text))))}\n`;
  };
  // One probe against the core's own signer: a mismatch here is a bug, never a silent difference.
  const probe = { origin, size: 1, root: new Uint8Array(32).fill(0x5a) };
  if (!bytesEqual(utf8(signer(probe)), utf8(signCheckpoint(probe, seed)))) {
    throw new AccordError('INTERNAL', 'the node:crypto checkpoint signer does not reproduce the core signer byte for byte');
  }
  return signer;
}
