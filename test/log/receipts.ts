/** Checking receipts the way a client does (DESIGN 7, accord-sign): signature, then inclusion. */
import { expect } from 'vitest';
import { fromBase64 } from '../../src/core/bytes.ts';
import { verifyCheckpoint, type Checkpoint } from '../../src/core/log/checkpoint.ts';
import { leafHash, verifyConsistency, verifyInclusion } from '../../src/core/log/merkle.ts';
import type { StoredLogReader } from '../../src/log/log-reader.ts';
import type { Receipt } from '../../src/log/sequencer.ts';

/** Throws unless the receipt's checkpoint is signed by the log key and proves the entry in it. */
export function verifyReceipt(receipt: Receipt, bytes: Uint8Array, logVerifierKey: string): Checkpoint {
  const cp = verifyCheckpoint(receipt.checkpoint, logVerifierKey);
  verifyInclusion(leafHash(bytes), receipt.index, cp.size, receipt.inclusionProof.map(fromBase64), cp.root);
  return cp;
}

/** Signatures of notes already checked (the crash test re-checks the same notes after every crash). */
const verified = new Map<string, Checkpoint>();

function verifiedCheckpoint(note: string, logVerifierKey: string): Checkpoint {
  const key = `${logVerifierKey}\n${note}`;
  let cp = verified.get(key);
  if (cp === undefined) {
    cp = verifyCheckpoint(note, logVerifierKey);
    verified.set(key, cp);
  }
  return cp;
}

/**
 * Every checkpoint handed out must still be what storage holds at that size, and consistent with
 * the latest one (RFC 9162 2.1.4 proof from storage): the log never forked or went back.
 */
export async function expectConsistentWithLatest(reader: StoredLogReader, notes: Iterable<string>, logVerifierKey: string): Promise<number> {
  const latest = await reader.latestCheckpoint();
  expect(latest).toBeDefined();
  const head = verifyCheckpoint(latest!.note, logVerifierKey);
  let n = 0;
  for (const note of new Set(notes)) {
    const cp = verifiedCheckpoint(note, logVerifierKey);
    expect(cp.size).toBeLessThanOrEqual(head.size);
    expect((await reader.checkpointAt(cp.size))?.note).toBe(note);
    verifyConsistency(cp.size, head.size, await reader.consistencyProof(cp.size, head.size), cp.root, head.root);
    n++;
  }
  return n;
}
