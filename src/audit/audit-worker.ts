/**
 * The thread that runs an audit for run-audit.ts: it opens the source again from its target (a
 * mirror directory or a registry URL), runs the audit with its own checking threads
 * (verify-pool.ts) and posts progress and the result. The ordered part of the audit (rules, tree,
 * duplicates) allocates for every entry; here it runs as bundled code in an isolate whose young
 * generation is capped (run-audit.ts), instead of growing the caller's heap.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isAccordError } from '../core/errors.ts';
import { auditHere } from './audit-stream.ts';
import type { AuditThreadData, AuditThreadMessage } from './run-audit.ts';
import { openSource } from './source.ts';

const port = parentPort;
if (port === null) throw new Error('audit-worker.ts runs only as a worker thread');
const data = workerData as AuditThreadData;

function post(m: AuditThreadMessage): void {
  (port as NonNullable<typeof port>).postMessage(m);
}

try {
  const source = await openSource(data.target);
  const result = await auditHere(source, {
    logKey: data.logKey,
    stateCheckpoint: data.stateCheckpoint,
    workers: data.workers,
    verifyScript: new URL(data.verifyScript),
    helpers: data.helper === null ? [] : [data.helper],
    ...(data.progress ? { onProgress: (done: number, total: number) => post({ kind: 'progress', done, total }) } : {}),
  });
  post({ kind: 'result', result });
} catch (e) {
  post(
    isAccordError(e)
      ? { kind: 'error', code: e.code, message: e.message, details: e.details === undefined ? null : { ...e.details } }
      : { kind: 'error', code: null, message: e instanceof Error ? (e.stack ?? e.message) : String(e), details: null },
  );
}
