/**
 * A signatory's key file, as written by accord-keygen (DESIGN section 8): a JSON object with
 * exactly `did`, `verificationMethod`, `publicKeyMultibase` and `privateKeyMultibase`, the key
 * forms of the W3C vc-di-eddsa vector keyPair.json. The file holds a private key, so it is created
 * with mode 0600 and a file that others can read is refused before it is even parsed.
 */
import { readFile, stat } from 'node:fs/promises';
import { bytesEqual } from '../core/bytes.ts';
import { keyPairFromSeed, type KeyPair } from '../core/crypto/ed25519.ts';
import { decodePublicMultikey, decodeSecretMultikey } from '../core/crypto/multikey.ts';
import { AccordError, describeValue } from '../core/errors.ts';
import { parseStrictJson } from '../core/json/strict-parse.ts';
import { didWebProblem, isDidWebMethodOf } from '../core/statements/did.ts';

export interface KeyFile {
  /** did:web:<domain> */
  did: string;
  /** did:web:<domain>#key-N */
  verificationMethod: string;
  /** z6Mk... */
  publicKeyMultibase: string;
  /** z3u2... */
  privateKeyMultibase: string;
}

export interface LoadedKey extends KeyFile {
  keyPair: KeyPair;
  /** The bare domain of the DID. */
  domain: string;
}

const KEY_MEMBERS = ['did', 'verificationMethod', 'publicKeyMultibase', 'privateKeyMultibase'] as const;

/**
 * The domain of a signatory DID (DESIGN 4: a bare domain `did:web:example.com`, no port, no path),
 * by the same rule the registry applies. Code BAD_DID.
 */
export function domainOfDid(did: unknown): string {
  const problem = didWebProblem(did);
  if (problem !== null) throw new AccordError('BAD_DID', `${problem}, got ${describeValue(did)}`);
  return (did as string).slice('did:web:'.length);
}

/** Checks a parsed key file and derives the key pair; the public key must match the private key. */
export function parseKeyFile(value: unknown, where = 'key file'): LoadedKey {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new AccordError('KEY_FILE_INVALID', `${where} must hold a JSON object`);
  }
  const obj = value as Record<string, unknown>;
  for (const m of KEY_MEMBERS) {
    if (typeof obj[m] !== 'string') {
      throw new AccordError('KEY_FILE_INVALID', `${where}: member "${m}" must be a string, got ${describeValue(obj[m])}`);
    }
  }
  const extra = Object.keys(obj).filter((k) => !(KEY_MEMBERS as readonly string[]).includes(k));
  if (extra.length > 0) {
    throw new AccordError('KEY_FILE_INVALID', `${where}: unexpected member(s) ${extra.map((k) => JSON.stringify(k)).join(', ')}`);
  }
  const file = obj as unknown as KeyFile;
  let domain: string;
  try {
    domain = domainOfDid(file.did);
  } catch (cause) {
    throw new AccordError('KEY_FILE_INVALID', `${where}: ${(cause as Error).message}`, { cause });
  }
  if (!isDidWebMethodOf(file.verificationMethod, file.did)) {
    throw new AccordError(
      'KEY_FILE_INVALID',
      `${where}: verificationMethod must be ${file.did}#<fragment>, got ${describeValue(file.verificationMethod)}`,
    );
  }
  let keyPair: KeyPair;
  let publicKey: Uint8Array;
  try {
    keyPair = keyPairFromSeed(decodeSecretMultikey(file.privateKeyMultibase));
    publicKey = decodePublicMultikey(file.publicKeyMultibase);
  } catch (cause) {
    throw new AccordError('KEY_FILE_INVALID', `${where}: ${(cause as Error).message}`, { cause });
  }
  if (!bytesEqual(keyPair.publicKey, publicKey)) {
    throw new AccordError('KEY_FILE_INVALID', `${where}: publicKeyMultibase does not belong to privateKeyMultibase`);
  }
  return { ...file, keyPair, domain };
}

/**
 * Loads a key file. Refuses (KEY_FILE_PERMISSIONS) a file with any group or other permission
 * bit, as ssh does for private keys: a key others can read may already be someone else's.
 */
export async function loadKeyFile(path: string): Promise<LoadedKey> {
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch (cause) {
    throw new AccordError('KEY_FILE_UNREADABLE', `cannot read key file ${path}: ${(cause as Error).message}`, { cause });
  }
  // Windows has no POSIX permission bits; Node reports 0o666 there, so only check on POSIX.
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    // A public did.json given by mistake is readable by all, rightly: say what it is, not chmod it.
    if (isDidDocumentFile(await readFile(path).catch(() => null))) throw didDocumentGiven(path);
    throw new AccordError(
      'KEY_FILE_PERMISSIONS',
      `key file ${path} is accessible by others (mode ${(mode & 0o777).toString(8).padStart(3, '0')}); ` +
        `restrict it with: chmod 600 ${path}`,
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    throw new AccordError('KEY_FILE_UNREADABLE', `cannot read key file ${path}: ${(cause as Error).message}`, { cause });
  }
  if (isDidDocumentFile(bytes)) throw didDocumentGiven(path);
  let json: unknown;
  try {
    json = parseStrictJson(bytes, { maxBytes: 4096 });
  } catch (cause) {
    throw new AccordError('KEY_FILE_INVALID', `key file ${path} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  return parseKeyFile(json, `key file ${path}`);
}

/** A DID document (an `id` and `verificationMethod`, no private key), the public file keygen also writes. */
function isDidDocumentFile(bytes: Uint8Array | null): boolean {
  if (bytes === null || bytes.length > 64 * 1024) return false;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return false;
  }
  if (json === null || typeof json !== 'object') return false;
  const o = json as Record<string, unknown>;
  return typeof o.id === 'string' && Array.isArray(o.verificationMethod) && !('privateKeyMultibase' in o);
}

function didDocumentGiven(path: string): AccordError {
  return new AccordError(
    'KEY_FILE_INVALID',
    `${path} is a DID document (the public did.json), not a key file: pass the private key file accord-keygen wrote with --out`,
  );
}
