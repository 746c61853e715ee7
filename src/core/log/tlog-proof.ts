/**
 * C2SP tlog-proof (https://c2sp.org/tlog-proof): an offline proof that an entry is in the log,
 * i.e. an index, an inclusion proof and the signed checkpoint it leads to (DESIGN sections 5, 7).
 * Pure: no I/O.
 */
import { fromBase64, fromUtf8, toBase64 } from '../bytes.ts';
import { AccordError, describeValue } from '../errors.ts';
import { verifyCheckpoint } from './checkpoint.ts';
import type { Checkpoint } from './checkpoint.ts';
import { leafHash, verifyInclusion } from './merkle.ts';
import { parseNote } from './note.ts';
import type { VerifierKey } from './note.ts';

/** tlog-proof "Format": the first line. */
export const TLOG_PROOF_HEADER = 'c2sp.org/tlog-proof@v1';
const MAX_PROOF_HASHES = 64;
const MAX_TLOG_PROOF_BYTES = 1 << 20;
const DECIMAL_RE = /^(0|[1-9][0-9]*)$/;

export interface TlogProof {
  index: number;
  /** Inclusion proof hashes, from the leaf's sibling up (RFC 9162 2.1.3). */
  proof: Uint8Array[];
  /** The signed checkpoint note, verbatim. */
  checkpoint: string;
  /** Opaque, unauthenticated extra data (tlog-proof "Format"), if present. */
  extra?: Uint8Array;
}

function malformed(why: string, cause?: unknown): AccordError {
  return new AccordError('TLOG_PROOF_MALFORMED', `malformed tlog-proof: ${why}`, cause === undefined ? undefined : { cause });
}

/** Formats a proof as tlog-proof text: header, optional `extra`, `index`, hashes, blank line, checkpoint. */
export function formatTlogProof(p: TlogProof): string {
  if (typeof p.index !== 'number' || !Number.isSafeInteger(p.index) || p.index < 0) {
    throw malformed(`the index is a non-negative safe integer, got ${describeValue(p.index)}`);
  }
  if (!Array.isArray(p.proof) || p.proof.length > MAX_PROOF_HASHES) throw malformed('the proof is a list of at most 64 hashes');
  for (const [i, h] of p.proof.entries()) {
    if (!(h instanceof Uint8Array) || h.length !== 32) throw malformed(`proof hash ${i} is not 32 bytes: ${describeValue(h)}`);
  }
  try {
    parseNote(p.checkpoint);
  } catch (cause) {
    throw malformed('the checkpoint is not a signed note', cause);
  }
  if (p.extra !== undefined && !(p.extra instanceof Uint8Array)) throw malformed(`extra data is bytes, got ${describeValue(p.extra)}`);
  const lines = [TLOG_PROOF_HEADER];
  if (p.extra !== undefined) lines.push(`extra ${toBase64(p.extra)}`);
  lines.push(`index ${p.index}`, ...p.proof.map((h) => toBase64(h)));
  return `${lines.join('\n')}\n\n${p.checkpoint}`;
}

/** Parses tlog-proof text strictly; the checkpoint must be a well-formed signed note (not yet verified). */
export function parseTlogProof(text: string | Uint8Array): TlogProof {
  let s: string;
  if (text instanceof Uint8Array) {
    if (text.length > MAX_TLOG_PROOF_BYTES) throw malformed(`larger than ${MAX_TLOG_PROOF_BYTES} bytes`);
    try {
      s = fromUtf8(text);
    } catch (cause) {
      throw malformed('not valid UTF-8', cause);
    }
  } else if (typeof text === 'string') {
    if (text.length > MAX_TLOG_PROOF_BYTES) throw malformed(`larger than ${MAX_TLOG_PROOF_BYTES} characters`);
    s = text;
  } else {
    throw malformed(`expected text, got ${describeValue(text)}`);
  }
  // The header and proof lines end at the first empty line; the checkpoint follows verbatim.
  const split = s.indexOf('\n\n');
  if (split < 0) throw malformed('no empty line before the checkpoint');
  const head = s.slice(0, split).split('\n');
  const checkpoint = s.slice(split + 2);
  if (head[0] !== TLOG_PROOF_HEADER) throw malformed(`the first line must be ${TLOG_PROOF_HEADER}, got ${describeValue(head[0])}`);
  let i = 1;
  let extra: Uint8Array | undefined;
  if (head[i]?.startsWith('extra ')) {
    try {
      extra = fromBase64((head[i] as string).slice('extra '.length));
    } catch (cause) {
      throw malformed('the extra data is not canonical base64', cause);
    }
    i++;
  }
  const indexLine = head[i];
  if (indexLine === undefined || !indexLine.startsWith('index ')) throw malformed(`expected an "index N" line, got ${describeValue(indexLine)}`);
  const indexText = indexLine.slice('index '.length);
  if (!DECIMAL_RE.test(indexText)) throw malformed(`the index is not a decimal without leading zeros: ${describeValue(indexText)}`);
  const index = Number(indexText);
  if (!Number.isSafeInteger(index)) throw malformed(`the index ${indexText} is larger than 2^53 - 1`);
  const hashLines = head.slice(i + 1);
  if (hashLines.length > MAX_PROOF_HASHES) throw malformed(`more than ${MAX_PROOF_HASHES} proof hashes`);
  const proof = hashLines.map((line, j) => {
    let h: Uint8Array;
    try {
      h = fromBase64(line);
    } catch (cause) {
      throw malformed(`proof line ${j + 1} is not canonical base64`, cause);
    }
    if (h.length !== 32) throw malformed(`proof line ${j + 1} is ${h.length} bytes, expected 32`);
    return h;
  });
  try {
    parseNote(checkpoint);
  } catch (cause) {
    throw malformed(`the checkpoint is not a well-formed signed note (${cause instanceof Error ? cause.message : String(cause)})`, cause);
  }
  return extra === undefined ? { index, proof, checkpoint } : { index, proof, checkpoint, extra };
}

/**
 * Verifies a tlog-proof for `entry` (the logged bytes): the checkpoint's signature under the log
 * key (CHECKPOINT_* codes) and the inclusion of leafHash(entry) at the index (LOG_PROOF_INVALID).
 * Returns the verified checkpoint.
 */
export function verifyTlogProof(text: string | Uint8Array, entry: Uint8Array, verifierKey: string | VerifierKey): Checkpoint {
  if (!(entry instanceof Uint8Array)) throw new AccordError('LOG_PROOF_INVALID', `the entry is bytes, got ${describeValue(entry)}`);
  const p = parseTlogProof(text);
  const cp = verifyCheckpoint(p.checkpoint, verifierKey);
  verifyInclusion(leafHash(entry), p.index, cp.size, p.proof, cp.root);
  return cp;
}
