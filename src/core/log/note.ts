/**
 * C2SP signed-note (https://c2sp.org/signed-note): text signed by one or more keys, here Ed25519
 * (signature type 0x01) under the project's signature rule (src/core/crypto/ed25519.ts). Used for
 * checkpoints (DESIGN section 5); witness cosignatures are extra signature lines that we keep and,
 * unless the caller knows the key, ignore. Pure: no I/O.
 */
import { bytesEqual, concatBytes, fromBase64, fromHex, fromUtf8, sha256, toBase64, toHex, utf8 } from '../bytes.ts';
import { keyPairFromSeed, sign, verify } from '../crypto/ed25519.ts';
import { AccordError, describeValue } from '../errors.ts';

/** signed-note "Signature types": 0x01 is Ed25519. */
const ED25519_TYPE = 0x01;
/** signed-note "Format": verifiers SHOULD limit the number of signatures (and MUST accept 16). */
export const MAX_NOTE_SIGNATURES = 100;
/** A bound on hostile input before any parsing; a checkpoint with 100 signatures is ~10 KiB. */
export const MAX_NOTE_BYTES = 1 << 20;
const EM_DASH_PREFIX = '\u2014 ';

export interface VerifierKey {
  name: string;
  /** 4 bytes, big-endian key ID. */
  keyId: Uint8Array;
  /** 32-byte Ed25519 public key. */
  publicKey: Uint8Array;
}

export interface NoteSignature {
  name: string;
  keyId: Uint8Array;
  /** The signature bytes after the key ID. */
  signature: Uint8Array;
  /** The line as it appears in the note, without its newline. */
  line: string;
}

export interface ParsedNote {
  /** The signed text, final newline included. */
  text: string;
  signatures: NoteSignature[];
}

export interface OpenedNote extends ParsedNote {
  /** Names of the known keys whose signatures verified (each once). */
  verifiedBy: string[];
}

// Unicode spaces as Go's unicode.IsSpace (used by the reference implementation) plus JS \s.
const SPACE_RE = /[\s\u0085]/u;
// In a u-mode regex a well-formed surrogate pair is one code point, so this finds only lone ones.
const LONE_SURROGATE_RE = /\p{Cs}/u;

/** signed-note "Format": notes hold no ASCII control characters (below U+0020) other than newline. */
export function hasControlCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 && c !== 0x0a) return true;
  }
  return false;
}

/** signed-note "Format": key names are non-empty, without Unicode spaces or plus. */
export function isValidKeyName(name: unknown): name is string {
  return (
    typeof name === 'string' &&
    name.length > 0 &&
    !SPACE_RE.test(name) &&
    !name.includes('+') &&
    !hasControlCharacter(name) &&
    !LONE_SURROGATE_RE.test(name)
  );
}

function checkKeyName(name: unknown, code: string): string {
  if (!isValidKeyName(name)) {
    throw new AccordError(code, `a key name is non-empty and has no spaces, plus signs or control characters, got ${describeValue(name)}`);
  }
  return name;
}

function checkPublicKey(publicKey: unknown, code: string): Uint8Array {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) {
    throw new AccordError(code, `an Ed25519 public key is 32 bytes, got ${describeValue(publicKey)}`);
  }
  return publicKey;
}

/** signed-note "Ed25519 signatures": SHA-256(name || 0x0A || 0x01 || public key)[:4]. */
export function keyId(name: string, publicKey: Uint8Array): Uint8Array {
  checkKeyName(name, 'NOTE_BAD_KEY_NAME');
  checkPublicKey(publicKey, 'NOTE_BAD_VERIFIER_KEY');
  return sha256(concatBytes(utf8(name), new Uint8Array([0x0a, ED25519_TYPE]), publicKey)).slice(0, 4);
}

/** The verifier key string `<name>+<hex key ID>+<base64(0x01 || public key)>`. */
export function makeVerifierKey(name: string, publicKey: Uint8Array): string {
  const id = keyId(name, publicKey);
  return `${name}+${toHex(id)}+${toBase64(concatBytes(new Uint8Array([ED25519_TYPE]), publicKey))}`;
}

/** Parses a verifier key string; refuses other signature types and key IDs that do not match the key. */
export function parseVerifierKey(vkey: string): VerifierKey {
  const bad = (why: string, cause?: unknown): AccordError =>
    new AccordError('NOTE_BAD_VERIFIER_KEY', `${why}: ${describeValue(vkey)}`, cause === undefined ? undefined : { cause });
  if (typeof vkey !== 'string' || vkey.length > 1024) throw bad('a verifier key is a short string <name>+<key id>+<key>');
  // The name has no '+', the ID is 8 hex digits; the base64 key may itself contain '+'.
  const p1 = vkey.indexOf('+');
  const p2 = p1 < 0 ? -1 : vkey.indexOf('+', p1 + 1);
  if (p1 < 0 || p2 < 0) throw bad('a verifier key has the form <name>+<key id>+<key>');
  const name = vkey.slice(0, p1);
  const idHex = vkey.slice(p1 + 1, p2);
  const keyB64 = vkey.slice(p2 + 1);
  if (!isValidKeyName(name)) throw bad('the key name is empty or has spaces or control characters');
  if (!/^[0-9a-fA-F]{8}$/.test(idHex)) throw bad('the key ID is not 8 hex digits');
  let key: Uint8Array;
  try {
    key = fromBase64(keyB64);
  } catch (cause) {
    throw bad('the key is not base64', cause);
  }
  if (key.length === 0 || key[0] !== ED25519_TYPE) throw bad('only Ed25519 keys (signature type 0x01) are supported');
  if (key.length !== 33) throw bad(`an Ed25519 key is 32 bytes, got ${key.length - 1}`);
  const publicKey = key.slice(1);
  const id = fromHex(idHex);
  if (!bytesEqual(id, keyId(name, publicKey))) throw bad('the key ID does not match the name and key');
  return { name, keyId: id, publicKey };
}

function checkText(text: unknown, code: string): string {
  if (typeof text !== 'string') throw new AccordError(code, `note text is a string, got ${describeValue(text)}`);
  if (!text.endsWith('\n')) throw new AccordError(code, 'note text must end in a newline');
  if (hasControlCharacter(text)) throw new AccordError(code, 'note text must not contain control characters other than newline');
  if (LONE_SURROGATE_RE.test(text)) throw new AccordError(code, 'note text must be valid Unicode (it has a lone surrogate)');
  return text;
}

/** Signs `text` (which must end in a newline) with an Ed25519 key named `name`; returns the note. */
export function signNote(text: string, name: string, secretKey: Uint8Array): string {
  checkText(text, 'NOTE_MALFORMED');
  checkKeyName(name, 'NOTE_BAD_KEY_NAME');
  const { publicKey } = keyPairFromSeed(secretKey);
  const signature = sign(utf8(text), secretKey);
  return `${text}\n${signatureLine(name, keyId(name, publicKey), signature)}\n`;
}

function signatureLine(name: string, id: Uint8Array, signature: Uint8Array): string {
  return `${EM_DASH_PREFIX}${name} ${toBase64(concatBytes(id, signature))}`;
}

function malformed(why: string): AccordError {
  return new AccordError('NOTE_MALFORMED', `malformed signed note: ${why}`);
}

function parseSignatureLine(line: string, lineNo: number): NoteSignature {
  if (!line.startsWith(EM_DASH_PREFIX)) throw malformed(`signature line ${lineNo} does not start with an em dash and a space`);
  const rest = line.slice(EM_DASH_PREFIX.length);
  const sp = rest.indexOf(' ');
  if (sp < 0) throw malformed(`signature line ${lineNo} has no space between key name and signature`);
  const name = rest.slice(0, sp);
  const b64 = rest.slice(sp + 1);
  if (!isValidKeyName(name)) throw malformed(`signature line ${lineNo} has an invalid key name ${describeValue(name)}`);
  let raw: Uint8Array;
  try {
    raw = fromBase64(b64);
  } catch {
    throw malformed(`signature line ${lineNo} has a signature that is not canonical base64`);
  }
  // A key ID and at least one byte of signature.
  if (raw.length < 5) throw malformed(`signature line ${lineNo} has a signature of ${raw.length} bytes, too short`);
  return { name, keyId: raw.slice(0, 4), signature: raw.slice(4), line };
}

/**
 * Parses a signed note strictly (signed-note "Format"), without verifying anything. Accepts the
 * note as a string or as its UTF-8 bytes.
 */
export function parseNote(note: string | Uint8Array): ParsedNote {
  let s: string;
  if (note instanceof Uint8Array) {
    if (note.length > MAX_NOTE_BYTES) throw malformed(`larger than ${MAX_NOTE_BYTES} bytes`);
    try {
      s = fromUtf8(note);
    } catch {
      throw malformed('not valid UTF-8');
    }
  } else if (typeof note === 'string') {
    if (note.length > MAX_NOTE_BYTES) throw malformed(`larger than ${MAX_NOTE_BYTES} bytes`);
    if (LONE_SURROGATE_RE.test(note)) throw malformed('not valid Unicode (a lone surrogate)');
    s = note;
  } else {
    throw malformed(`expected a string, got ${describeValue(note)}`);
  }
  if (hasControlCharacter(s)) throw malformed('contains control characters other than newline');
  if (!s.endsWith('\n')) throw malformed('does not end in a newline');
  // The text is separated from the signatures by the last empty line.
  const split = s.lastIndexOf('\n\n');
  if (split < 0) throw malformed('no blank line between text and signatures');
  const text = s.slice(0, split + 1);
  const block = s.slice(split + 2);
  if (block === '') throw malformed('no signature lines after the blank line');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_NOTE_SIGNATURES) throw malformed(`more than ${MAX_NOTE_SIGNATURES} signatures (${lines.length})`);
  return { text, signatures: lines.map((l, i) => parseSignatureLine(l, i + 1)) };
}

function toVerifierKey(k: string | VerifierKey): VerifierKey {
  if (typeof k === 'string') return parseVerifierKey(k);
  if (k === null || typeof k !== 'object') throw new AccordError('NOTE_BAD_VERIFIER_KEY', `expected a verifier key, got ${describeValue(k)}`);
  checkKeyName(k.name, 'NOTE_BAD_VERIFIER_KEY');
  checkPublicKey(k.publicKey, 'NOTE_BAD_VERIFIER_KEY');
  if (!(k.keyId instanceof Uint8Array) || !bytesEqual(k.keyId, keyId(k.name, k.publicKey))) {
    throw new AccordError('NOTE_BAD_VERIFIER_KEY', `the key ID of ${describeValue(k.name)} does not match its key`);
  }
  return k;
}

/**
 * Parses and verifies a note (signed-note "Signatures"): signatures from unknown keys (name and
 * key ID not both matching a known key) are ignored; a known key's signature that fails rejects the
 * whole note (NOTE_BAD_SIGNATURE); a note that no known key signed is NOTE_UNVERIFIED.
 */
export function openNote(note: string | Uint8Array, verifierKeys: Array<string | VerifierKey>): OpenedNote {
  if (!Array.isArray(verifierKeys)) throw new AccordError('NOTE_BAD_VERIFIER_KEY', `expected a list of verifier keys, got ${describeValue(verifierKeys)}`);
  const keys = verifierKeys.map(toVerifierKey);
  const parsed = parseNote(note);
  const message = utf8(parsed.text);
  const verifiedBy: string[] = [];
  for (const sig of parsed.signatures) {
    const key = keys.find((k) => k.name === sig.name && bytesEqual(k.keyId, sig.keyId));
    if (key === undefined) continue;
    if (!verify(sig.signature, message, key.publicKey)) {
      throw new AccordError('NOTE_BAD_SIGNATURE', `the signature by ${sig.name}+${toHex(sig.keyId)} does not verify`, { details: { name: sig.name } });
    }
    if (!verifiedBy.includes(key.name)) verifiedBy.push(key.name);
  }
  if (verifiedBy.length === 0) {
    const known = keys.map((k) => `${k.name}+${toHex(k.keyId)}`).join(', ') || 'none given';
    throw new AccordError('NOTE_UNVERIFIED', `no signature on the note is by a known key (known: ${known})`);
  }
  return { ...parsed, verifiedBy };
}

/**
 * Appends signature lines (e.g. C2SP tlog-cosignature lines from witnesses) to a note. Each line is
 * `— <name> <base64>` with or without its newline; lines already on the note are not repeated.
 */
export function addSignatures(note: string, lines: string[]): string {
  const parsed = parseNote(note);
  if (!Array.isArray(lines)) throw malformed(`expected a list of signature lines, got ${describeValue(lines)}`);
  const have = new Set(parsed.signatures.map((s) => s.line));
  const added: string[] = [];
  for (const [i, raw] of lines.entries()) {
    if (typeof raw !== 'string') throw malformed(`signature line ${i + 1} is not a string`);
    const line = raw.endsWith('\n') ? raw.slice(0, -1) : raw;
    if (line.includes('\n') || hasControlCharacter(line) || LONE_SURROGATE_RE.test(line)) {
      throw malformed(`added signature line ${i + 1} has a newline or control character`);
    }
    parseSignatureLine(line, parsed.signatures.length + i + 1);
    if (have.has(line)) continue;
    have.add(line);
    added.push(line);
  }
  if (parsed.signatures.length + added.length > MAX_NOTE_SIGNATURES) {
    throw malformed(`more than ${MAX_NOTE_SIGNATURES} signatures (${parsed.signatures.length + added.length})`);
  }
  return `${note}${added.map((l) => `${l}\n`).join('')}`;
}
