/**
 * One checking thread of verify-pool.ts: answers prepare and verify jobs (check-jobs.ts). The
 * ordered rules stay with the auditing thread. Started from a bundle that esbuild makes of this
 * file (worker-bundle.ts), or through tsx (verify-worker.js) when no bundle can be made.
 */
import { parentPort } from 'node:worker_threads';
import { answerJob } from './check-jobs.ts';
import type { PoolRequest } from './verify-protocol.ts';

const port = parentPort;
if (port === null) throw new Error('verify-worker.ts runs only as a worker thread');

port.on('message', (req: PoolRequest) => {
  const { reply, transfer } = answerJob(req);
  port.postMessage(reply, transfer);
});
