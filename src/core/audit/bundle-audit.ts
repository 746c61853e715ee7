/**
 * Checks an offline proof bundle (DESIGN 7, `/signatories/:domain/proof.json`):
 * `{ version: 1, origin, logKey, attestationKey, checkpoint, entries: [{ index, entry, proof }] }`.
 * The checkpoint must verify, each entry's tlog-proof must prove it into that same checkpoint, and
 * the rules that a subset can show are applied to the entries it holds: signatures, attestation
 * coverage, accords known, pledge chain continuity, withdrawal and notice rules (the bundle holds
 * the signatory's statements, the attestations they rely on and the accords they name). Pure, so
 * the browser can run it too.
 */
import { bytesEqual, fromBase64 } from '../bytes.ts';
import { describeValue, isAccordError } from '../errors.ts';
import { parseStrictJson } from '../json/strict-parse.ts';
import { parseVerifierKey } from '../log/note.ts';
import { parseTlogProof, verifyTlogProof } from '../log/tlog-proof.ts';
import type { VerifyFn } from '../statements/proof.ts';
import { createAuditor, failedAudit, type AuditResult, type Finding } from './auditor.ts';
import { registryInfoFrom, sameVerifierKey } from './registry-info.ts';

/** A bundle is small (one signatory); bound it anyway before parsing. */
export const MAX_BUNDLE_BYTES = 16 * 1024 * 1024;

export interface BundleAuditOptions {
  /** The pinned log key (--log-key), or null to take the bundle's own `logKey` unpinned. */
  logKey: string | null;
  stateCheckpoint?: string | null;
  verifyFn?: VerifyFn;
}

interface BundleEntry {
  index: number;
  entry: string;
  proof: string;
}

function bundleFinding(message: string): Finding {
  return { index: -1, code: 'BUNDLE_INVALID', message };
}

export function auditProofBundle(input: Uint8Array | string, opts: BundleAuditOptions): AuditResult {
  let value: unknown;
  try {
    value = parseStrictJson(input, { maxBytes: MAX_BUNDLE_BYTES });
  } catch (e) {
    if (!isAccordError(e)) throw e;
    return failedAudit([bundleFinding(`the proof bundle is not valid JSON: ${e.message} (${e.code})`)]);
  }
  const b = value as Record<string, unknown>;
  if (b === null || typeof b !== 'object' || Array.isArray(b)) return failedAudit([bundleFinding('the proof bundle is not a JSON object')]);
  if (b.version === undefined) return failedAudit([bundleFinding('not a proof bundle: it has no "version" member (expected 1)')]);
  if (b.version !== 1) return failedAudit([bundleFinding(`unsupported proof bundle version ${describeValue(b.version)} (expected 1)`)]);
  let info;
  try {
    info = registryInfoFrom(b, 'the proof bundle');
  } catch (e) {
    if (!isAccordError(e)) throw e;
    return failedAudit([bundleFinding(e.message)]);
  }
  if (typeof b.checkpoint !== 'string') return failedAudit([bundleFinding('checkpoint must be the signed note text')]);
  const entries = bundleEntries(b.entries);
  if (typeof entries === 'string') return failedAudit([bundleFinding(entries)]);

  const early: Finding[] = [];
  if (opts.logKey !== null && !sameVerifierKey(opts.logKey, info.logKey)) {
    early.push({ index: -1, code: 'LOG_KEY_MISMATCH', message: `the bundle names log key ${info.logKey}, not the pinned ${opts.logKey}` });
  }
  const logKey = parseVerifierKey(opts.logKey ?? info.logKey);
  const auditor = createAuditor({
    logKey,
    attestationDid: info.attestationKey,
    stateCheckpoint: opts.stateCheckpoint ?? null,
    verifyFn: opts.verifyFn,
    subset: true,
  });
  for (const f of early) auditor.addFinding(f.index, f.code, f.message);
  const cp = auditor.checkCheckpoint(b.checkpoint);
  if (cp === null) return auditor.finish();
  if (cp.origin !== info.origin) {
    auditor.addFinding(-1, 'ORIGIN_MISMATCH', `the bundle names origin ${JSON.stringify(info.origin)}, its checkpoint ${JSON.stringify(cp.origin)}`);
  }

  entries.sort((x, y) => x.index - y.index);
  let last = -1;
  for (const e of entries) {
    if (e.index === last) {
      auditor.addFinding(e.index, 'BUNDLE_INVALID', `entry ${e.index} is listed twice`);
      continue;
    }
    last = e.index;
    let bytes: Uint8Array;
    try {
      bytes = fromBase64(e.entry);
    } catch {
      auditor.addFinding(e.index, 'BUNDLE_INVALID', `entry ${e.index} is not base64`);
      continue;
    }
    checkInclusion(auditor.addFinding.bind(auditor), e, bytes, logKey, cp);
    auditor.pushEntry(e.index, bytes, null);
  }
  return auditor.finish();
}

/** The tlog-proof must prove this entry at this index into the bundle's own checkpoint. */
function checkInclusion(
  addFinding: (index: number, code: string, message: string) => void,
  e: BundleEntry,
  bytes: Uint8Array,
  logKey: ReturnType<typeof parseVerifierKey>,
  cp: { size: number; root: Uint8Array },
): void {
  try {
    const proofIndex = parseTlogProof(e.proof).index;
    if (proofIndex !== e.index) {
      addFinding(e.index, 'INCLUSION_PROOF_INVALID', `the proof of entry ${e.index} is for index ${proofIndex}`);
      return;
    }
    const proven = verifyTlogProof(e.proof, bytes, logKey);
    if (proven.size !== cp.size || !bytesEqual(proven.root, cp.root)) {
      addFinding(e.index, 'INCLUSION_PROOF_INVALID', `the proof of entry ${e.index} leads to a checkpoint of size ${proven.size}, not the bundle's (${cp.size})`);
    }
  } catch (err) {
    if (!isAccordError(err)) throw err;
    addFinding(e.index, 'INCLUSION_PROOF_INVALID', `entry ${e.index} is not proven in the log: ${err.message} (${err.code})`);
  }
}

function bundleEntries(v: unknown): BundleEntry[] | string {
  if (!Array.isArray(v)) return 'entries must be an array';
  const out: BundleEntry[] = [];
  for (const [i, e] of v.entries()) {
    const o = e as Record<string, unknown>;
    if (o === null || typeof o !== 'object' || Array.isArray(o)) return `entries[${i}] is not an object`;
    if (typeof o.index !== 'number' || !Number.isSafeInteger(o.index) || o.index < 0) return `entries[${i}].index is not a non-negative integer`;
    if (typeof o.entry !== 'string' || typeof o.proof !== 'string') return `entries[${i}] needs entry (base64) and proof (tlog-proof text)`;
    out.push({ index: o.index, entry: o.entry, proof: o.proof });
  }
  return out;
}
