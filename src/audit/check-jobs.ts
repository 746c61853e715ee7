/**
 * The two jobs of a checking thread (verify-pool.ts): preparing an entry bundle (the order-free
 * part of the audit, core/audit/entry-check.ts, hashing with node:crypto) and checking a chunk of
 * signatures under the keys the rules chose (src/node/ed25519-fast.ts, same verdicts as the core
 * rule, DESIGN 3). Results are written into the request's own buffer, which goes back with the
 * reply: nothing is allocated per job but the entries' short-lived objects.
 */
import { prepareEntry } from '../core/audit/entry-check.ts';
import { isAccordError } from '../core/errors.ts';
import { verifyFast } from '../node/ed25519-fast.ts';
import { nodeSha256 } from '../node/sha256.ts';
import { RECORD_BYTES, TASK_BYTES, TilePacker, entrySpans, taskParts, type PoolReply, type PoolRequest } from './verify-protocol.ts';

export function answerJob(req: PoolRequest): { reply: PoolReply; transfer: ArrayBuffer[] } {
  try {
    return req.kind === 'prepare' ? prepare(req) : verify(req);
  } catch (e) {
    return { reply: { id: req.id, kind: 'failed', message: e instanceof Error ? (e.stack ?? e.message) : String(e) }, transfer: [] };
  }
}

function prepare(req: Extract<PoolRequest, { kind: 'prepare' }>): { reply: PoolReply; transfer: ArrayBuffer[] } {
  const bundle = new Uint8Array(req.buffer, req.bundleAt, req.bundleLength);
  let spans: { offsets: number[]; lengths: number[] };
  try {
    spans = entrySpans(bundle);
  } catch (e) {
    if (!isAccordError(e)) throw e;
    return { reply: { id: req.id, kind: 'bad-bundle', buffer: req.buffer, code: e.code, message: e.message }, transfer: [req.buffer] };
  }
  const { offsets, lengths } = spans;
  const records = new Uint8Array(req.buffer, req.recordsAt, offsets.length * RECORD_BYTES);
  const packer = new TilePacker(req.start, bundle, records, offsets.length);
  for (let i = 0; i < offsets.length; i++) {
    const at = offsets[i] as number;
    const len = lengths[i] as number;
    packer.add(i, prepareEntry(req.start + i, bundle.subarray(at, at + len), { sha256: nodeSha256 }), at, len);
  }
  return { reply: { id: req.id, kind: 'prepared', buffer: req.buffer, count: offsets.length, invalid: packer.tile.invalid }, transfer: [req.buffer] };
}

function verify(req: Extract<PoolRequest, { kind: 'verify' }>): { reply: PoolReply; transfer: ArrayBuffer[] } {
  const tasks = new Uint8Array(req.buffer);
  const verdictsAt = req.count * TASK_BYTES;
  for (let i = 0; i < req.count; i++) {
    const t = taskParts(tasks, i);
    tasks[verdictsAt + i] = verifyFast(t.signature, t.message, t.publicKey) ? 1 : 0;
  }
  return { reply: { id: req.id, kind: 'verified', buffer: req.buffer, count: req.count }, transfer: [req.buffer] };
}
