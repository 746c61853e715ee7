/**
 * One proof worker of proof-verifier.ts: checks the statement proofs (proof-check.ts) the main
 * thread sends, a batch per message, and answers each with its refusal, if any. It says `{ ready: true }` once its code is loaded,
 * so the main thread sends nothing before then.
 */
import { parentPort } from 'node:worker_threads';
import { refuseProofOfBytes } from './proof-check.ts';
import type { ProofAnswer, ProofJob, ProofReply } from './proof-verifier.ts';

const port = parentPort;
if (port === null) throw new Error('proof-worker.ts runs only as a worker thread');

function answer(job: ProofJob): ProofAnswer {
  try {
    return { id: job.id, refusal: refuseProofOfBytes(job.canonical, job.publicKey) };
  } catch (e) {
    return { id: job.id, failed: e instanceof Error ? e.message : String(e) };
  }
}

port.on('message', (jobs: ProofJob[]) => {
  port.postMessage({ answers: jobs.map(answer) } satisfies ProofReply);
});
port.postMessage({ ready: true } satisfies ProofReply);
