/**
 * Where admission verifies proofs (step 9, proof-check.ts): on the main thread, or in worker
 * threads. Hashing the proof data and the Ed25519 check are the costliest pure computation of an
 * admission (a few hundred microseconds), and the main thread is what limits how many statements
 * a registry process admits per second: moving them to another core lets the main thread serve
 * HTTP, fetch DID documents and run the sequencer meanwhile.
 *
 * The verdict does not depend on where it is computed: the worker runs the same function on the
 * statement's canonical bytes (proof-check.ts). A worker that is not ready yet, or that failed,
 * is simply not used: the check runs on the main thread instead, so a broken worker never turns
 * into a refused or a wrongly admitted statement.
 */
import { Worker } from 'node:worker_threads';
import { AccordError } from '../core/errors.ts';
import { refuseProofOfBytes, type ProofRefusal } from './proof-check.ts';

export interface ProofVerifier {
  /** Worker threads in use (0: every check runs on the calling thread). */
  readonly threads: number;
  /** Worker threads that have loaded their code and take checks now. */
  readonly readyThreads: number;
  /**
   * Resolves if the proof of the statement whose canonical bytes are `canonical` (validated)
   * verifies under `publicKey`; rejects with the PROOF_* AccordError of core verifyProof otherwise.
   */
  verify(canonical: Uint8Array, publicKey: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

/** Worker-thread messages: the checks asked for in one turn of the event loop go as one message. */
export interface ProofJob {
  id: number;
  canonical: Uint8Array;
  publicKey: Uint8Array;
}
export type ProofAnswer = { id: number; refusal: ProofRefusal } | { id: number; failed: string };
export type ProofReply = { ready: true } | { answers: ProofAnswer[] };

/** The worker's script from source: a shim that loads proof-worker.ts through tsx. */
export const PROOF_WORKER_SOURCE = new URL('./proof-worker.js', import.meta.url);

function settle(refusal: ProofRefusal): void {
  if (refusal !== null) throw new AccordError(refusal.code, refusal.message);
}

/** Every check on the calling thread. */
export function inlineProofVerifier(): ProofVerifier {
  return {
    threads: 0,
    readyThreads: 0,
    async verify(canonical, publicKey) {
      settle(refuseProofOfBytes(canonical, publicKey));
    },
    async close() {},
  };
}

interface Pending {
  canonical: Uint8Array;
  publicKey: Uint8Array;
  resolve: () => void;
  reject: (e: unknown) => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  broken: boolean;
  pending: Map<number, Pending>;
  /** Jobs of this turn of the event loop, not sent yet. */
  outbox: ProofJob[];
}

/** Runs one pending check on the calling thread (fallback when its worker cannot answer). */
function inline(p: Pending): void {
  try {
    settle(refuseProofOfBytes(p.canonical, p.publicKey));
    p.resolve();
  } catch (e) {
    p.reject(e);
  }
}

class ThreadedProofVerifier implements ProofVerifier {
  readonly #slots: Slot[] = [];
  #next = 0;
  #nextId = 1;
  #closed = false;

  readonly #script: URL;

  constructor(
    readonly threads: number,
    script: URL,
  ) {
    this.#script = script;
    for (let i = 0; i < threads; i++) this.#slots.push(this.#spawn());
  }

  get readyThreads(): number {
    return this.#closed ? 0 : this.#slots.filter((s) => s.ready && !s.broken).length;
  }

  #spawn(): Slot {
    // No inherited execArgv: a parent started with `--import tsx` (or --cpu-prof) would pass it on;
    // the source shim registers tsx itself, and a bundle needs no loader.
    const worker = new Worker(this.#script, { execArgv: [] });
    // A worker never keeps the process alive: the HTTP server and the database do, until closed.
    worker.unref();
    const slot: Slot = { worker, ready: false, broken: false, pending: new Map(), outbox: [] };
    worker.on('message', (reply: ProofReply) => {
      if ('ready' in reply) {
        slot.ready = true;
        return;
      }
      for (const answer of reply.answers) {
        const p = slot.pending.get(answer.id);
        if (p === undefined) continue;
        slot.pending.delete(answer.id);
        if ('failed' in answer) inline(p);
        else if (answer.refusal === null) p.resolve();
        else p.reject(new AccordError(answer.refusal.code, answer.refusal.message));
      }
    });
    const fail = (): void => {
      slot.broken = true;
      slot.outbox.length = 0;
      const left = [...slot.pending.values()];
      slot.pending.clear();
      for (const p of left) inline(p);
    };
    worker.on('error', fail);
    worker.on('exit', fail);
    return slot;
  }

  #pick(): Slot | undefined {
    for (let i = 0; i < this.#slots.length; i++) {
      const slot = this.#slots[(this.#next + i) % this.#slots.length] as Slot;
      if (slot.ready && !slot.broken) {
        this.#next = (this.#next + i + 1) % this.#slots.length;
        return slot;
      }
    }
    return undefined;
  }

  verify(canonical: Uint8Array, publicKey: Uint8Array): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const p: Pending = { canonical, publicKey, resolve, reject };
      const slot = this.#closed ? undefined : this.#pick();
      if (slot === undefined) {
        inline(p);
        return;
      }
      const id = this.#nextId++;
      slot.pending.set(id, p);
      // One message per turn of the event loop: waking a thread costs more than the copy.
      if (slot.outbox.push({ id, canonical, publicKey }) === 1) setImmediate(() => this.#flush(slot));
    });
  }

  #flush(slot: Slot): void {
    const jobs = slot.outbox.splice(0);
    if (jobs.length > 0 && !slot.broken) slot.worker.postMessage(jobs);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(
      this.#slots.map(async (slot) => {
        slot.broken = true;
        await slot.worker.terminate();
      }),
    );
  }
}

/**
 * A verifier with `threads` worker threads; 0 checks on the calling thread. `script` is the
 * workers' module: the source shim by default, the registry bundle's (proof-worker-script.ts)
 * when the server runs from its bundle.
 */
export function createProofVerifier(threads: number, script: URL = PROOF_WORKER_SOURCE): ProofVerifier {
  if (!Number.isSafeInteger(threads) || threads < 0) throw new AccordError('BAD_ARGUMENT', `threads must be a non-negative integer, got ${threads}`);
  return threads === 0 ? inlineProofVerifier() : new ThreadedProofVerifier(threads, script);
}
