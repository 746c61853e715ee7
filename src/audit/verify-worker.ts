/**
 * One worker of verify-pool.ts: the CPU-heavy, order-free part of the audit for a batch of entries
 * (core/audit/entry-check.ts), and Ed25519 checks through node:crypto (src/node/ed25519-fast.ts,
 * same verdicts as the core rule, DESIGN 3). The ordered rules stay on the main thread.
 */
import { parentPort } from 'node:worker_threads';
import { prepareEntry } from '../core/audit/entry-check.ts';
import { isAccordError } from '../core/errors.ts';
import { decodeEntryBundle } from '../core/log/tiles.ts';
import { verifyFast } from '../node/ed25519-fast.ts';
import type { PoolReply, PoolRequest } from './verify-protocol.ts';

const port = parentPort;
if (port === null) throw new Error('verify-worker.ts runs only as a worker thread');

port.on('message', (req: PoolRequest) => {
  let reply: PoolReply;
  try {
    if (req.kind === 'prepare') {
      let entries: Uint8Array[];
      try {
        entries = decodeEntryBundle(req.bundle);
      } catch (e) {
        if (!isAccordError(e)) throw e;
        port.postMessage({ id: req.id, kind: 'bad-bundle', code: e.code, message: e.message } satisfies PoolReply);
        return;
      }
      reply = { id: req.id, kind: 'prepared', entries: entries.map((bytes, i) => prepareEntry(req.start + i, bytes)) };
    } else {
      const verdicts = new Uint8Array(req.tasks.length);
      for (const [i, t] of req.tasks.entries()) verdicts[i] = verifyFast(t.signature, t.message, t.publicKey) ? 1 : 0;
      reply = { id: req.id, kind: 'verified', verdicts };
    }
  } catch (e) {
    reply = { id: req.id, kind: 'failed', message: e instanceof Error ? (e.stack ?? e.message) : String(e) };
  }
  port.postMessage(reply);
});
