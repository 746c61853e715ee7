/**
 * The ceiling of verify_ratio on this machine: the log's signature checks alone, through
 * node:crypto as the auditor calls it (keys imported as JWK and kept, as src/node/ed25519-fast.ts
 * does, without its screen of the key and of S, which would only slow this down), with none of the
 * audit's other work: no parsing, no canonical check, no schema, no hashing, no rules, no tree.
 * The checks are routed to the threads by the key's first byte, as verify-pool.ts routes them, so
 * a key is imported by one thread; a thread done with its own takes chunks of the others'
 * (importing what it meets there), so none waits while another has work. Whatever else an auditor
 * does can only lower its ratio from here; the gap between the two is what that other work costs.
 *
 * The checks come from the generator (generate-mirror.ts writes them beside the mirror); every
 * one must verify, or the figure is refused.
 */
import { readFile } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { SIGNATURE_RECORD_BYTES } from './generate-mirror.ts';

export interface BoundRun {
  /** Signature checks per second over all threads, start-up excluded. */
  perS: number;
  /** Distinct keys imported, summed over the threads. */
  imports: number;
}

const WORKER = new URL('./signature-bound-worker.mjs', import.meta.url);

/** Checks every record of `file` on `threads` worker threads; the clock runs from go to the last answer. */
export async function signatureBound(file: string, threads: number): Promise<BoundRun> {
  const bytes = await readFile(file);
  if (bytes.length === 0 || bytes.length % SIGNATURE_RECORD_BYTES !== 0) throw new Error(`${file} does not hold whole signature records`);
  const records = new SharedArrayBuffer(bytes.length);
  new Uint8Array(records).set(bytes);
  const count = bytes.length / SIGNATURE_RECORD_BYTES;
  // Routed by the key's first byte (keys are uniform), the same rule as verify-pool.ts.
  const routed: number[][] = Array.from({ length: threads }, () => []);
  for (let i = 0; i < count; i++) routed[(bytes[i * SIGNATURE_RECORD_BYTES] as number) % threads]!.push(i);
  // A thread no key routes to gets an empty list (a zero-length buffer), and only helps.
  const lists = routed.map((l) => {
    const shared = new Int32Array(new SharedArrayBuffer(l.length * 4));
    shared.set(l);
    return shared.buffer;
  });
  const next = new Int32Array(new SharedArrayBuffer(4 * threads));
  const workers: Worker[] = [];
  try {
    for (let self = 0; self < threads; self++) workers.push(new Worker(WORKER, { workerData: { records, lists, next: next.buffer, self }, execArgv: [] }));
    // The next message of a worker; its failure or its exit before it answers rejects.
    const message = (w: Worker): Promise<unknown> =>
      new Promise((resolve, reject) => {
        const onExit = (code: number): void => reject(new Error(`a signature-bound thread exited with code ${code}`));
        w.once('error', reject);
        w.once('exit', onExit);
        w.once('message', (m) => {
          w.off('error', reject);
          w.off('exit', onExit);
          resolve(m);
        });
      });
    await Promise.all(workers.map(message)); // started and ready
    const started = performance.now();
    const answers = workers.map(message);
    for (const w of workers) w.postMessage('go');
    const results = (await Promise.all(answers)) as { checked: number; valid: number; imports: number }[];
    const seconds = (performance.now() - started) / 1000;
    const checked = results.reduce((n, r) => n + r.checked, 0);
    const valid = results.reduce((n, r) => n + r.valid, 0);
    if (checked !== count || valid !== count) throw new Error(`signature bound: ${valid} of ${checked} checks valid, ${count} expected`);
    return { perS: count / seconds, imports: results.reduce((n, r) => n + r.imports, 0) };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
