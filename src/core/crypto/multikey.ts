/**
 * Multikey and did:key encodings of Ed25519 keys (W3C Controlled Identifiers "Multikey";
 * did:key method). Public: base58-btc multibase ('z') of 0xed 0x01 + 32 bytes, which always
 * starts "z6Mk". Secret: 0x80 0x26 (multicodec ed25519-priv, varint 0x1300) + 32-byte seed,
 * as in the W3C vc-di-eddsa vector keyPair.json.
 */
import { base58 } from '@scure/base';
import { AccordError } from '../errors.ts';

const ED25519_PUB = [0xed, 0x01] as const;
const ED25519_PRIV = [0x80, 0x26] as const;

function encode(prefix: readonly number[], key: Uint8Array): string {
  const b = new Uint8Array(prefix.length + key.length);
  b.set(prefix, 0);
  b.set(key, prefix.length);
  return 'z' + base58.encode(b);
}

function decode(s: unknown, prefix: readonly number[], what: string): Uint8Array {
  if (typeof s !== 'string' || !s.startsWith('z') || s.length > 100) {
    throw new AccordError('BAD_MULTIKEY', `${what} must be a base58-btc multibase string starting with "z"`);
  }
  let b: Uint8Array;
  try {
    b = base58.decode(s.slice(1));
  } catch (cause) {
    throw new AccordError('BAD_MULTIKEY', `${what} is not valid base58-btc`, { cause });
  }
  if (b.length !== prefix.length + 32 || prefix.some((p, i) => b[i] !== p)) {
    throw new AccordError('BAD_MULTIKEY', `${what} is not an Ed25519 Multikey (expected prefix ${prefix.map((x) => x.toString(16)).join(' ')} and 32 key bytes)`);
  }
  return b.slice(prefix.length);
}

export function encodePublicMultikey(publicKey: Uint8Array): string {
  return encode(ED25519_PUB, publicKey);
}

export function decodePublicMultikey(s: unknown): Uint8Array {
  return decode(s, ED25519_PUB, 'publicKeyMultibase');
}

export function encodeSecretMultikey(seed: Uint8Array): string {
  return encode(ED25519_PRIV, seed);
}

export function decodeSecretMultikey(s: unknown): Uint8Array {
  return decode(s, ED25519_PRIV, 'secretKeyMultibase');
}

export function didKeyFromPublicKey(publicKey: Uint8Array): string {
  return `did:key:${encodePublicMultikey(publicKey)}`;
}

/** did:key's verification method form: did:key:z6Mk...#z6Mk... */
export function didKeyVerificationMethod(publicKey: Uint8Array): string {
  const mk = encodePublicMultikey(publicKey);
  return `did:key:${mk}#${mk}`;
}

/** Accepts `did:key:z6Mk...` or its method form `did:key:z6Mk...#z6Mk...` (fragment must match). */
export function publicKeyFromDidKey(did: unknown): Uint8Array {
  if (typeof did !== 'string' || !did.startsWith('did:key:')) {
    throw new AccordError('BAD_DID_KEY', 'expected a did:key identifier');
  }
  const rest = did.slice('did:key:'.length);
  const hash = rest.indexOf('#');
  const mk = hash === -1 ? rest : rest.slice(0, hash);
  if (hash !== -1 && rest.slice(hash + 1) !== mk) {
    throw new AccordError('BAD_DID_KEY', 'a did:key verification method fragment must repeat the key');
  }
  try {
    return decodePublicMultikey(mk);
  } catch (cause) {
    throw new AccordError('BAD_DID_KEY', `not an Ed25519 did:key: ${did.slice(0, 80)}`, { cause });
  }
}
