/**
 * One proof worker of proof-verifier.ts: checks the statement proofs (proof-check.ts) the main
 * thread sends, a batch per message, and answers each with its refusal, if any, in one or more
 * replies. It says `{ ready: true }` once its code is loaded, so the main thread sends nothing
 * before then.
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

/**
 * Answers go back at least every this many milliseconds of work, not all at the end of a batch:
 * the batch of one event-loop turn may hold twenty checks (about 5 ms), and each admission should
 * wait for its own check only.
 */
const ANSWER_EVERY_MS = 1;

port.on('message', (jobs: ProofJob[]) => {
  let answers: ProofAnswer[] = [];
  let since = performance.now();
  for (const job of jobs) {
    answers.push(answer(job));
    const now = performance.now();
    if (now - since >= ANSWER_EVERY_MS) {
      port.postMessage({ answers } satisfies ProofReply);
      answers = [];
      since = now;
    }
  }
  if (answers.length > 0) port.postMessage({ answers } satisfies ProofReply);
});
port.postMessage({ ready: true } satisfies ProofReply);
