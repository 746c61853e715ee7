/**
 * The registry's published identity, `/.well-known/accord-registry.json` (DESIGN 6):
 * `{ origin, logKey, attestationKey }`. A proof bundle (DESIGN 7) carries the same three members.
 * Pure: the caller fetches the bytes.
 */
import { bytesEqual } from '../bytes.ts';
import { AccordError, describeValue, isAccordError } from '../errors.ts';
import { parseStrictJson } from '../json/strict-parse.ts';
import { parseVerifierKey, type VerifierKey } from '../log/note.ts';
import { isDidKey } from '../statements/did.ts';

export interface RegistryInfo {
  /** The log's origin line and log key name, e.g. `registry.example.org/log`. */
  origin: string;
  /** Signed-note verifier key of the log key. */
  logKey: string;
  /** `did:key:z6Mk...` of the attestation key (issuer of registry statements). */
  attestationKey: string;
}

function invalid(why: string, cause?: unknown): AccordError {
  return new AccordError('WELL_KNOWN_INVALID', why, cause === undefined ? undefined : { cause });
}

/** Checks the three members of a registry-info object (other members are ignored). */
export function registryInfoFrom(value: unknown, where = 'accord-registry.json'): RegistryInfo {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid(`${where} is not a JSON object`);
  const v = value as Record<string, unknown>;
  if (typeof v.origin !== 'string' || v.origin === '') throw invalid(`${where}: origin must be a non-empty string, got ${describeValue(v.origin)}`);
  if (typeof v.logKey !== 'string') throw invalid(`${where}: logKey must be a verifier key string, got ${describeValue(v.logKey)}`);
  try {
    parseVerifierKey(v.logKey);
  } catch (cause) {
    if (!isAccordError(cause)) throw cause;
    throw invalid(`${where}: logKey is not a usable verifier key: ${cause.message}`, cause);
  }
  if (!isDidKey(v.attestationKey)) throw invalid(`${where}: attestationKey must be an Ed25519 did:key, got ${describeValue(v.attestationKey)}`);
  return { origin: v.origin, logKey: v.logKey, attestationKey: v.attestationKey };
}

/** Parses the well-known file strictly (RFC 8259 + I-JSON); code WELL_KNOWN_INVALID. */
export function parseRegistryInfo(bytes: Uint8Array | string): RegistryInfo {
  let value: unknown;
  try {
    value = parseStrictJson(bytes);
  } catch (cause) {
    if (!isAccordError(cause)) throw cause;
    throw invalid(`accord-registry.json is not valid JSON: ${cause.message}`, cause);
  }
  return registryInfoFrom(value);
}

/** Whether two verifier keys name the same key (same name, key ID and public key). */
export function sameVerifierKey(a: string | VerifierKey, b: string | VerifierKey): boolean {
  try {
    const ka = typeof a === 'string' ? parseVerifierKey(a) : a;
    const kb = typeof b === 'string' ? parseVerifierKey(b) : b;
    return ka.name === kb.name && bytesEqual(ka.keyId, kb.keyId) && bytesEqual(ka.publicKey, kb.publicKey);
  } catch (e) {
    if (isAccordError(e)) return false;
    throw e;
  }
}
