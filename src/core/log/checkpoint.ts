/**
 * C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint): the log's signed size and root, as the
 * text of a signed note whose key name is the origin (DESIGN section 5). Pure: no I/O.
 */
import { fromBase64, toBase64 } from '../bytes.ts';
import { AccordError, describeValue, isAccordError } from '../errors.ts';
import { hasControlCharacter, openNote, parseNote, parseVerifierKey, signNote } from './note.ts';
import type { VerifierKey } from './note.ts';

export interface Checkpoint {
  origin: string;
  /** Tree size; refused above Number.MAX_SAFE_INTEGER. */
  size: number;
  /** 32-byte RFC 6962 root hash. */
  root: Uint8Array;
  /** Opaque extension lines (tlog-checkpoint "Note text" item 4), usually none. */
  extensions: string[];
}

const SIZE_RE = /^(0|[1-9][0-9]*)$/;
const LONE_SURROGATE_RE = /\p{Cs}/u;

function malformed(why: string): AccordError {
  return new AccordError('CHECKPOINT_MALFORMED', `malformed checkpoint: ${why}`);
}

function checkLine(line: unknown, what: string): string {
  if (typeof line !== 'string' || line === '') throw malformed(`the ${what} must be a non-empty line, got ${describeValue(line)}`);
  if (line.includes('\n') || hasControlCharacter(line) || LONE_SURROGATE_RE.test(line)) {
    throw malformed(`the ${what} has a newline, a control character or a lone surrogate: ${describeValue(line)}`);
  }
  return line;
}

/** The checkpoint's note text (tlog-checkpoint "Note text"), final newline included. */
export function formatCheckpoint(cp: { origin: string; size: number; root: Uint8Array; extensions?: string[] }): string {
  const origin = checkLine(cp.origin, 'origin');
  if (typeof cp.size !== 'number' || !Number.isSafeInteger(cp.size) || cp.size < 0) {
    throw malformed(`the size is a non-negative safe integer, got ${describeValue(cp.size)}`);
  }
  if (!(cp.root instanceof Uint8Array) || cp.root.length !== 32) throw malformed(`the root is 32 bytes, got ${describeValue(cp.root)}`);
  const extensions = (cp.extensions ?? []).map((e, i) => checkLine(e, `extension line ${i + 1}`));
  return [origin, String(cp.size), toBase64(cp.root), ...extensions].map((l) => `${l}\n`).join('');
}

/** Parses checkpoint note text strictly (tlog-checkpoint "Note text"). */
export function parseCheckpoint(text: string): Checkpoint {
  if (typeof text !== 'string') throw malformed(`expected text, got ${describeValue(text)}`);
  if (text.length > 1 << 16) throw malformed('longer than 64 KiB');
  if (!text.endsWith('\n')) throw malformed('the text does not end in a newline');
  if (hasControlCharacter(text) || LONE_SURROGATE_RE.test(text)) throw malformed('the text has a control character or a lone surrogate');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw malformed(`at least three lines (origin, size, root) are needed, got ${lines.length}`);
  const [origin, sizeLine, rootLine, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin === '') throw malformed('the origin line is empty');
  if (!SIZE_RE.test(sizeLine)) throw malformed(`the size is not a decimal without leading zeros: ${describeValue(sizeLine)}`);
  const size = Number(sizeLine);
  if (!Number.isSafeInteger(size)) throw malformed(`the size ${sizeLine} is larger than 2^53 - 1`);
  let root: Uint8Array;
  try {
    root = fromBase64(rootLine);
  } catch {
    throw malformed(`the root is not canonical base64: ${describeValue(rootLine)}`);
  }
  if (root.length !== 32) throw malformed(`the root is ${root.length} bytes, expected 32`);
  for (const [i, e] of extensions.entries()) {
    if (e === '') throw malformed(`extension line ${i + 1} is empty`);
  }
  return { origin, size, root, extensions };
}

/** Signs a checkpoint as a note with the log key; the key name is the origin (DESIGN section 5). */
export function signCheckpoint(cp: { origin: string; size: number; root: Uint8Array; extensions?: string[] }, secretKey: Uint8Array): string {
  return signNote(formatCheckpoint(cp), cp.origin, secretKey);
}

/**
 * Verifies a signed checkpoint under the log's verifier key and returns it. The key name must
 * equal the origin (CHECKPOINT_ORIGIN_MISMATCH); the note must carry a valid signature by that key
 * (CHECKPOINT_BAD_SIGNATURE); other signatures (witnesses) are ignored.
 */
export function verifyCheckpoint(note: string | Uint8Array, verifierKey: string | VerifierKey): Checkpoint {
  const key = typeof verifierKey === 'string' ? parseVerifierKey(verifierKey) : verifierKey;
  let text: string;
  try {
    text = parseNote(note).text;
  } catch (cause) {
    throw new AccordError('CHECKPOINT_MALFORMED', `malformed checkpoint: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  // Checked before the signature only to name the problem precisely; nothing is trusted yet.
  const cp = parseCheckpoint(text);
  if (cp.origin !== key.name) {
    throw new AccordError('CHECKPOINT_ORIGIN_MISMATCH', `the checkpoint origin ${describeValue(cp.origin)} is not the log key name ${describeValue(key.name)}`);
  }
  try {
    openNote(note, [key]);
  } catch (cause) {
    if (isAccordError(cause, 'NOTE_BAD_SIGNATURE') || isAccordError(cause, 'NOTE_UNVERIFIED')) {
      throw new AccordError('CHECKPOINT_BAD_SIGNATURE', `the checkpoint is not signed by ${key.name}: ${cause.message}`, { cause });
    }
    throw cause;
  }
  return cp;
}
