/**
 * The registry's own keys (DESIGN 6): the log key signs checkpoints, the attestation key signs the
 * registry's statements (AccordText, DomainAttestation, RegistryNotice) as a did:key.
 *
 * On first start (the database records no keys) both keys are created as files in the data
 * directory, mode 0600, and the origin and both public keys are recorded in `meta`. Every later
 * start compares: a different origin, a key file that is missing or holds a different key, is a
 * refusal to start with a message saying what to do. That is how several web processes on one
 * PostgreSQL share one log identity: the operator copies the key files, and a process with the
 * wrong files cannot sign checkpoints that would fork the log's identity.
 *
 * Key files have the members of the command line's key file (src/cli/key-file.ts) that make sense
 * for a did:key: `publicKeyMultibase` (z6Mk...) and `privateKeyMultibase` (z3u2...).
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { bytesEqual } from '../core/bytes.ts';
import { generateKeyPair, keyPairFromSeed, type KeyPair } from '../core/crypto/ed25519.ts';
import { decodePublicMultikey, decodeSecretMultikey, didKeyFromPublicKey, didKeyVerificationMethod, encodePublicMultikey, encodeSecretMultikey } from '../core/crypto/multikey.ts';
import { AccordError, describeValue } from '../core/errors.ts';
import { parseStrictJson } from '../core/json/strict-parse.ts';
import { isValidKeyName, makeVerifierKey } from '../core/log/note.ts';
import { META_ATTESTATION_PUBLIC_KEY, META_LOG_PUBLIC_KEY, META_ORIGIN, getAllMeta, recordMetaIfAbsent } from './meta-repo.ts';
import type { Database } from './schema.ts';

export const LOG_KEY_FILE = 'log-key.json';
export const ATTESTATION_KEY_FILE = 'attestation-key.json';

export interface RegistryKeys {
  /** The checkpoint origin line, also the log key's name (DESIGN 5). */
  origin: string;
  logKey: KeyPair;
  attestationKey: KeyPair;
  /** C2SP signed-note verifier key of the log key: `<origin>+<id>+<base64>`. */
  logVerifierKey: string;
  /** did:key:z6Mk... of the attestation key: the issuer of the registry's statements. */
  attestationDid: string;
  /** did:key:z6Mk...#z6Mk...: the verificationMethod of the registry's statements. */
  attestationMethod: string;
}

const KEY_MEMBERS = ['publicKeyMultibase', 'privateKeyMultibase'] as const;

function parseKeyFile(bytes: Uint8Array, path: string): KeyPair {
  let value: unknown;
  try {
    value = parseStrictJson(bytes, { maxBytes: 4096 });
  } catch (cause) {
    throw new AccordError('KEY_FILE_INVALID', `${path} is not a JSON key file: ${(cause as Error).message}`, { cause });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new AccordError('KEY_FILE_INVALID', `${path} must hold a JSON object with ${KEY_MEMBERS.join(' and ')}`);
  }
  const obj = value as Record<string, unknown>;
  const extra = Object.keys(obj).filter((k) => !(KEY_MEMBERS as readonly string[]).includes(k));
  if (extra.length > 0) throw new AccordError('KEY_FILE_INVALID', `${path}: unexpected member(s) ${extra.map((k) => JSON.stringify(k)).join(', ')}`);
  let keyPair: KeyPair;
  let publicKey: Uint8Array;
  try {
    keyPair = keyPairFromSeed(decodeSecretMultikey(obj.privateKeyMultibase));
    publicKey = decodePublicMultikey(obj.publicKeyMultibase);
  } catch (cause) {
    throw new AccordError('KEY_FILE_INVALID', `${path}: ${(cause as Error).message}`, { cause });
  }
  if (!bytesEqual(keyPair.publicKey, publicKey)) {
    throw new AccordError('KEY_FILE_INVALID', `${path}: publicKeyMultibase does not belong to privateKeyMultibase`);
  }
  return keyPair;
}

/** Reads a key file, refusing one that others could read (as ssh does for private keys). */
async function readKeyFile(path: string): Promise<KeyPair | undefined> {
  let mode: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new AccordError('KEY_FILE_INVALID', `${path} is not a regular file`);
    mode = st.mode;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if (e instanceof AccordError) throw e;
    throw new AccordError('KEY_FILE_UNREADABLE', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new AccordError(
      'KEY_FILE_PERMISSIONS',
      `${path} has mode ${(mode & 0o777).toString(8).padStart(4, '0')}; a registry key must be readable by its owner only (chmod 600 ${path})`,
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    throw new AccordError('KEY_FILE_UNREADABLE', `cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
  return parseKeyFile(bytes, path);
}

async function fsyncPath(path: string, flags: number): Promise<void> {
  const fh = await open(path, flags);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Creates a key file atomically and durably: a complete temporary file (0600, fsynced) is linked
 * to its final name, which fails if the name exists, so two processes starting at once end up
 * with one key (the loser reads the winner's). The directory is fsynced before the public key is
 * recorded in the database, so a crash can never leave a recorded key without its file.
 */
async function createKeyFile(dir: string, name: string): Promise<KeyPair> {
  const path = join(dir, name);
  const kp = generateKeyPair();
  const body = `${JSON.stringify({ publicKeyMultibase: encodePublicMultikey(kp.publicKey), privateKeyMultibase: encodeSecretMultikey(kp.secretKey) }, null, 2)}\n`;
  const tmp = join(dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    await fh.writeFile(body);
    await fh.chmod(0o600); // whatever the umask
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await link(tmp, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const theirs = await readKeyFile(path);
    if (theirs === undefined) throw new AccordError('KEY_FILE_UNREADABLE', `${path} vanished while being created`);
    return theirs;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  await fsyncPath(dir, constants.O_RDONLY);
  return kp;
}

function describeKey(pub: Uint8Array): string {
  return encodePublicMultikey(pub);
}

function checkRecorded(what: string, file: string, recorded: string | undefined, actual: Uint8Array): void {
  if (recorded === undefined) return;
  const mine = describeKey(actual);
  if (recorded !== mine) {
    throw new AccordError(
      'REGISTRY_KEY_MISMATCH',
      `${file} holds the ${what} key ${mine}, but this database's log was made with ${recorded}; ` +
        `start with the key files this registry was created with (copy them into the data directory)`,
      { details: { file, recorded, found: mine } },
    );
  }
}

/**
 * Loads (or on first start, creates) the registry keys and checks them and the origin against what
 * the database records. Throws REGISTRY_ORIGIN_MISMATCH, REGISTRY_KEY_MISMATCH,
 * REGISTRY_KEY_MISSING, KEY_FILE_PERMISSIONS, KEY_FILE_INVALID or KEY_FILE_UNREADABLE.
 */
export async function loadRegistryKeys(db: Kysely<Database>, opts: { dataDir: string; origin: string }): Promise<RegistryKeys> {
  const { dataDir, origin } = opts;
  if (!isValidKeyName(origin)) {
    throw new AccordError('CONFIG_INVALID', `the registry origin must be a signed-note key name (no spaces, no "+"), got ${describeValue(origin)}`);
  }
  const recorded = await getAllMeta(db);
  if (recorded[META_ORIGIN] !== undefined && recorded[META_ORIGIN] !== origin) {
    throw new AccordError(
      'REGISTRY_ORIGIN_MISMATCH',
      `this database's log has origin ${JSON.stringify(recorded[META_ORIGIN])}, but the registry was started with origin ${JSON.stringify(origin)}; ` +
        'a log cannot change its origin (set REGISTRY_ORIGIN to the recorded one)',
      { details: { recorded: recorded[META_ORIGIN], configured: origin } },
    );
  }
  const firstStart = recorded[META_LOG_PUBLIC_KEY] === undefined && recorded[META_ATTESTATION_PUBLIC_KEY] === undefined;
  await mkdir(dataDir, { recursive: true, mode: 0o700 });

  const loadOne = async (file: string, metaKey: string, what: string): Promise<KeyPair> => {
    const path = join(dataDir, file);
    const existing = await readKeyFile(path);
    if (existing !== undefined) {
      checkRecorded(what, path, recorded[metaKey], existing.publicKey);
      return existing;
    }
    if (!firstStart) {
      throw new AccordError(
        'REGISTRY_KEY_MISSING',
        `${path} is missing, but this database's log was made with the ${what} key ${recorded[metaKey] ?? '(unrecorded)'}; ` +
          'copy the registry key files into the data directory (new keys would change the registry identity)',
      );
    }
    return createKeyFile(dataDir, file);
  };
  const logKey = await loadOne(LOG_KEY_FILE, META_LOG_PUBLIC_KEY, 'log');
  const attestationKey = await loadOne(ATTESTATION_KEY_FILE, META_ATTESTATION_PUBLIC_KEY, 'attestation');

  if (firstStart || recorded[META_ORIGIN] === undefined) {
    // First writer wins: if another process recorded other keys in the meantime, refuse.
    const now = await recordMetaIfAbsent(db, {
      [META_ORIGIN]: origin,
      [META_LOG_PUBLIC_KEY]: describeKey(logKey.publicKey),
      [META_ATTESTATION_PUBLIC_KEY]: describeKey(attestationKey.publicKey),
    });
    if (now[META_ORIGIN] !== origin) {
      throw new AccordError('REGISTRY_ORIGIN_MISMATCH', `another process recorded origin ${JSON.stringify(now[META_ORIGIN])} for this database, not ${JSON.stringify(origin)}`);
    }
    checkRecorded('log', join(dataDir, LOG_KEY_FILE), now[META_LOG_PUBLIC_KEY], logKey.publicKey);
    checkRecorded('attestation', join(dataDir, ATTESTATION_KEY_FILE), now[META_ATTESTATION_PUBLIC_KEY], attestationKey.publicKey);
  }

  return {
    origin,
    logKey,
    attestationKey,
    logVerifierKey: makeVerifierKey(origin, logKey.publicKey),
    attestationDid: didKeyFromPublicKey(attestationKey.publicKey),
    attestationMethod: didKeyVerificationMethod(attestationKey.publicKey),
  };
}
