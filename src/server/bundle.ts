/**
 * The offline proof bundle of a signatory (DESIGN section 7, `GET /signatories/:domain/proof.json`):
 * every entry about its DID (its pledges and withdrawals, the DomainAttestations their keys rely
 * on, any RegistryNotice), plus the AccordText entries its statements name, each with a C2SP
 * tlog-proof against ONE checkpoint, so the whole bundle is checked offline with one checkpoint
 * signature (src/core/browser-verify.ts, `accord-verify bundle.json`).
 */
import { toBase64 } from '../core/bytes.ts';
import type { ProofBundle } from '../core/browser-verify.ts';
import { isAccordError } from '../core/errors.ts';
import { parseStrictJson } from '../core/json/strict-parse.ts';
import { formatTlogProof } from '../core/log/tlog-proof.ts';
import { getAccordByDigest, getEntriesBySubject, type EntryRow } from '../storage/entries-repo.ts';
import type { Registry } from '../registry.ts';

export type BundleSource = Pick<Registry, 'handle' | 'keys' | 'reader'>;

/** The accord digest a pledge or withdrawal names, or null (strictly re-parsed from the log). */
function accordNamed(row: EntryRow): string | null {
  if (row.type !== 'AccordPledge' && row.type !== 'AccordWithdrawal') return null;
  try {
    const doc = parseStrictJson(row.bytes, { maxBytes: 0xffff }) as { credentialSubject?: { accord?: unknown } };
    const a = doc.credentialSubject?.accord;
    return typeof a === 'string' ? a : null;
  } catch (e) {
    if (isAccordError(e)) return null;
    throw e;
  }
}

/**
 * The bundle for `did`, or null if the log holds no statement by it. Entries are in log order;
 * only entries covered by the checkpoint read first are included, so all proofs lead to it.
 */
export async function buildProofBundle(src: BundleSource, did: string): Promise<ProofBundle | null> {
  const cp = await src.reader.latestCheckpoint();
  if (cp === undefined) return null;
  const about = (await getEntriesBySubject(src.handle.db, did)).filter((e) => e.index < cp.size);
  if (!about.some((e) => e.type === 'AccordPledge' || e.type === 'AccordWithdrawal')) return null;
  const rows = new Map<number, EntryRow>(about.map((e) => [e.index, e]));
  const accords = new Set(about.map(accordNamed).filter((d): d is string => d !== null));
  for (const digest of accords) {
    const row = await getAccordByDigest(src.handle.db, digest);
    if (row !== undefined && row.index < cp.size) rows.set(row.index, row);
  }
  const entries: ProofBundle['entries'] = [];
  for (const row of [...rows.values()].sort((a, b) => a.index - b.index)) {
    const proof = await src.reader.inclusionProof(row.index, cp.size);
    entries.push({ index: row.index, entry: toBase64(row.bytes), proof: formatTlogProof({ index: row.index, proof, checkpoint: cp.note }) });
  }
  return {
    version: 1,
    origin: src.keys.origin,
    logKey: src.keys.logVerifierKey,
    attestationKey: src.keys.attestationDid,
    checkpoint: cp.note,
    entries,
  };
}
