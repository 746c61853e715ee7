/**
 * Checks an offline proof bundle (DESIGN section 7, `/signatories/:domain/proof.json`) with the
 * core's own code, so a reader's browser reaches the same verdict as the command line. This file is
 * the entry point of the browser bundle served at /assets/accord-core.js (built by esbuild at
 * start-up, src/server/assets.ts); it is pure and runs unchanged in Node for tests.
 *
 * What it checks, in order:
 * 1. the bundle's shape (version 1, strings where strings belong, base64 entries);
 * 2. the checkpoint's signature under the log key (pinned by the caller, else the bundle's own,
 *    and then the verdict says so) - C2SP tlog-checkpoint / signed-note;
 * 3. each entry's tlog-proof: its checkpoint is that same checkpoint, its index is the entry's, and
 *    the leaf hash is included at that index (RFC 9162 2.1.3.2);
 * 4. each proven entry through the auditor's engine in subset mode (audit/auditor.ts, the code
 *    of accord-verify): canonical bytes, schema, and, in log order, the registry's rules
 *    (audit/registry-state.ts): the signature under the right key (the attestation key for
 *    registry statements, the attested did:web key for a signatory's), the pledge chain, accords
 *    named before use, attestation coverage, no duplicate bytes, no backdating.
 */
import { createAuditor } from './audit/auditor.ts';
import type { AuditResult, Auditor } from './audit/auditor.ts';
import { prepareEntry } from './audit/entry-check.ts';
import { bytesEqual, fromBase64, toBase64 } from './bytes.ts';
import { AccordError, describeValue, isAccordError } from './errors.ts';
import type { Checkpoint } from './log/checkpoint.ts';
import { verifyCheckpoint } from './log/checkpoint.ts';
import { parseTlogProof, verifyTlogProof } from './log/tlog-proof.ts';
import { parseVerifierKey } from './log/note.ts';

/** The bundle's members (DESIGN 7). */
export interface ProofBundle {
  version: 1;
  origin: string;
  logKey: string;
  attestationKey: string;
  checkpoint: string;
  entries: { index: number; entry: string; proof: string }[];
}

export interface EntryVerdict {
  index: number;
  /** Statement type, or null when the entry is not a statement. */
  type: string | null;
  /** The issuer or subject the entry is about, for display. */
  about: string | null;
  ok: boolean;
  /** What was verified, or what failed (code and message). */
  message: string;
  code?: string;
}

export interface BundleVerdict {
  ok: boolean;
  /** True when the caller pinned the log key and the bundle's key matched it. */
  pinned: boolean;
  origin: string | null;
  size: number | null;
  /** Base64 root hash of the checkpoint. */
  root: string | null;
  entries: EntryVerdict[];
  /** A failure of the bundle as a whole (shape, key, checkpoint). */
  error: { code: string; message: string } | null;
}

/** A bundle is small: a signatory's statements plus what they rely on. Refuse absurd sizes. */
const MAX_BUNDLE_ENTRIES = 10_000;

function shapeError(message: string): AccordError {
  return new AccordError('BUNDLE_MALFORMED', `malformed proof bundle: ${message}`);
}

/** Checks the bundle's shape without trusting anything in it yet. */
export function parseProofBundle(value: unknown): ProofBundle {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw shapeError('expected a JSON object');
  const b = value as Record<string, unknown>;
  if (b.version !== 1) throw shapeError(`version must be 1, got ${describeValue(b.version)}`);
  for (const k of ['origin', 'logKey', 'attestationKey', 'checkpoint'] as const) {
    if (typeof b[k] !== 'string') throw shapeError(`"${k}" must be a string, got ${describeValue(b[k])}`);
  }
  if (!Array.isArray(b.entries)) throw shapeError(`"entries" must be an array, got ${describeValue(b.entries)}`);
  if (b.entries.length > MAX_BUNDLE_ENTRIES) throw shapeError(`more than ${MAX_BUNDLE_ENTRIES} entries`);
  const entries: ProofBundle['entries'] = [];
  for (const [i, e] of b.entries.entries()) {
    if (e === null || typeof e !== 'object' || Array.isArray(e)) throw shapeError(`entries[${i}] must be an object`);
    const r = e as Record<string, unknown>;
    if (typeof r.index !== 'number' || !Number.isSafeInteger(r.index) || r.index < 0) {
      throw shapeError(`entries[${i}].index must be a non-negative integer, got ${describeValue(r.index)}`);
    }
    if (typeof r.entry !== 'string' || typeof r.proof !== 'string') throw shapeError(`entries[${i}] needs string "entry" and "proof"`);
    entries.push({ index: r.index, entry: r.entry, proof: r.proof });
  }
  return {
    version: 1,
    origin: b.origin as string,
    logKey: b.logKey as string,
    attestationKey: b.attestationKey as string,
    checkpoint: b.checkpoint as string,
    entries,
  };
}

function failure(e: unknown): { code: string; message: string } {
  if (isAccordError(e)) return { code: e.code, message: e.message };
  // Never let a stray exception read as success; name it instead.
  return { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) };
}

function sameCheckpoint(a: Checkpoint, b: Checkpoint): boolean {
  return a.origin === b.origin && a.size === b.size && bytesEqual(a.root, b.root);
}

/**
 * Verifies a proof bundle. Never throws: every problem becomes the verdict's `error` or an entry's
 * failure. `logKey`, when given, pins the registry's log key (a signed-note verifier key); the
 * bundle must name the same key. The entries are audited by the auditor's own engine in subset
 * mode (audit/auditor.ts), exactly as `accord-verify` audits a log.
 */
export function verifyProofBundle(value: unknown, opts: { logKey?: string | null } = {}): BundleVerdict {
  const verdict: BundleVerdict = { ok: false, pinned: false, origin: null, size: null, root: null, entries: [], error: null };
  let bundle: ProofBundle;
  let cp: Checkpoint;
  let auditor: Auditor;
  try {
    bundle = parseProofBundle(value);
    const pinnedKey = opts.logKey ?? null;
    if (pinnedKey !== null && pinnedKey !== '') {
      if (pinnedKey !== bundle.logKey) {
        throw new AccordError('BUNDLE_KEY_MISMATCH', `the bundle names log key ${describeValue(bundle.logKey)}, not the pinned ${describeValue(pinnedKey)}`);
      }
      verdict.pinned = true;
    }
    const key = parseVerifierKey(bundle.logKey);
    // Verified here first so that a bad checkpoint is the bundle's error, named precisely.
    cp = verifyCheckpoint(bundle.checkpoint, key);
    if (cp.origin !== bundle.origin) {
      throw new AccordError('BUNDLE_ORIGIN_MISMATCH', `the checkpoint's origin ${describeValue(cp.origin)} is not the bundle's ${describeValue(bundle.origin)}`);
    }
    auditor = createAuditor({ logKey: key, attestationDid: bundle.attestationKey, subset: true });
    auditor.checkCheckpoint(bundle.checkpoint);
    verdict.origin = cp.origin;
    verdict.size = cp.size;
    verdict.root = toBase64(cp.root);
  } catch (e) {
    verdict.error = failure(e);
    return verdict;
  }

  const byIndex = [...bundle.entries].sort((a, b) => a.index - b.index);
  const results: EntryVerdict[] = [];
  let last = -1;
  for (const e of byIndex) {
    const v: EntryVerdict = { index: e.index, type: null, about: null, ok: false, message: '' };
    results.push(v);
    try {
      if (e.index === last) throw new AccordError('BUNDLE_DUPLICATE_ENTRY', `entry ${e.index} appears twice in the bundle`);
      last = e.index;
      if (e.index >= cp.size) throw new AccordError('LOG_PROOF_INVALID', `entry ${e.index} is beyond the checkpoint's size ${cp.size}`);
      const bytes = fromBase64(e.entry);
      // Inclusion of every entry in that one checkpoint (C2SP tlog-proof, RFC 9162 2.1.3.2).
      const parsed = parseTlogProof(e.proof);
      if (parsed.index !== e.index) throw new AccordError('LOG_PROOF_INVALID', `the proof is for index ${parsed.index}, not ${e.index}`);
      const proven = verifyTlogProof(e.proof, bytes, bundle.logKey);
      if (!sameCheckpoint(proven, cp)) {
        throw new AccordError('BUNDLE_CHECKPOINT_MISMATCH', `the proof of entry ${e.index} leads to a checkpoint of size ${proven.size}, not the bundle's (size ${cp.size})`);
      }
      const prepared = prepareEntry(e.index, bytes);
      if (prepared.statement !== null) {
        v.type = prepared.statement.type[1];
        v.about = prepared.statement.credentialSubject.id;
      }
      // Only proven entries reach the rules: one that is not in the log cannot vouch for another.
      auditor.pushPrepared(prepared, null);
      v.ok = true;
      const st = prepared.statement;
      const signer = st === null ? null : st.issuer === bundle.attestationKey ? "the registry's attestation key" : st.proof.verificationMethod;
      v.message = signer === null ? `in the log at index ${e.index}` : `in the log at index ${e.index}; signed by ${signer}`;
    } catch (err) {
      const f = failure(err);
      v.code = f.code;
      v.message = f.message;
    }
  }

  let audit: AuditResult;
  try {
    audit = auditor.finish();
  } catch (e) {
    verdict.error = failure(e);
    return verdict;
  }
  for (const f of audit.findings) {
    const v = results.find((r) => r.index === f.index);
    if (v === undefined) {
      verdict.error ??= { code: f.code, message: f.message };
      continue;
    }
    if (v.ok) {
      v.ok = false;
      v.code = f.code;
      v.message = f.message;
    }
  }
  for (const v of results) if (v.ok) v.message += '; signature valid; follows the registry\'s rules';

  verdict.entries = results;
  if (results.length === 0) {
    verdict.error = { code: 'BUNDLE_EMPTY', message: 'the bundle holds no entries' };
    return verdict;
  }
  verdict.ok = verdict.error === null && audit.findingsOmitted === 0 && results.every((e) => e.ok);
  return verdict;
}
