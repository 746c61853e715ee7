/**
 * Worker threads for the CPU-heavy part of an audit (strict parse, schema, canonical form, proof
 * hash data, Ed25519), so accord-verify uses every core on a large log. The main thread keeps the
 * ordered part (rules, Merkle tree) and sends batches: one entry bundle (up to 256 entries) to
 * prepare, or one batch of signature checks. `workers: 0` runs the same code inline.
 */
import { Worker } from 'node:worker_threads';
import type { SignatureTask } from '../core/audit/auditor.ts';
import { prepareEntry, type PreparedEntry } from '../core/audit/entry-check.ts';
import { AccordError, isAccordError } from '../core/errors.ts';
import { decodeEntryBundle } from '../core/log/tiles.ts';
import { verifyFast } from '../node/ed25519-fast.ts';
import type { PoolReply, PoolRequest } from './verify-protocol.ts';

export type PrepareResult = { ok: true; entries: PreparedEntry[] } | { ok: false; code: string; message: string };

export interface VerifyPool {
  /** Worker threads (0: inline). */
  readonly workers: number;
  /** Decodes a tlog-tiles entry bundle whose first entry has index `start` and prepares each entry. */
  prepareBundle(start: number, bundle: Uint8Array): Promise<PrepareResult>;
  /** Verdicts of the project's signature rule (DESIGN 3), in task order. */
  verify(tasks: SignatureTask[]): Promise<boolean[]>;
  close(): Promise<void>;
}

const WORKER_URL = new URL('./verify-worker.js', import.meta.url);

export function createVerifyPool(workers: number): VerifyPool {
  if (!Number.isInteger(workers) || workers < 0) throw new AccordError('BAD_ARGUMENT', `workers must be a non-negative integer, got ${workers}`);
  return workers === 0 ? new InlinePool() : new ThreadPool(workers);
}

class InlinePool implements VerifyPool {
  readonly workers = 0;

  async prepareBundle(start: number, bundle: Uint8Array): Promise<PrepareResult> {
    let entries: Uint8Array[];
    try {
      entries = decodeEntryBundle(bundle);
    } catch (e) {
      if (!isAccordError(e)) throw e;
      return { ok: false, code: e.code, message: e.message };
    }
    return { ok: true, entries: entries.map((bytes, i) => prepareEntry(start + i, bytes)) };
  }

  async verify(tasks: SignatureTask[]): Promise<boolean[]> {
    return tasks.map((t) => verifyFast(t.signature, t.message, t.publicKey));
  }

  async close(): Promise<void> {}
}

interface Pending {
  resolve: (reply: PoolReply) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
}

class ThreadPool implements VerifyPool {
  readonly #slots: Slot[] = [];
  #nextId = 1;
  #broken: Error | null = null;
  #closed = false;

  constructor(readonly workers: number) {
    for (let i = 0; i < workers; i++) this.#slots.push(this.#spawn());
  }

  #spawn(): Slot {
    const slot: Slot = { worker: new Worker(WORKER_URL), pending: new Map() };
    slot.worker.on('message', (reply: PoolReply) => {
      const p = slot.pending.get(reply.id);
      if (p === undefined) return;
      slot.pending.delete(reply.id);
      p.resolve(reply);
    });
    const fail = (error: Error): void => {
      if (this.#closed) return;
      this.#broken ??= new AccordError('AUDIT_WORKER_FAILED', `a verification worker failed: ${error.message}`, { cause: error });
      for (const p of slot.pending.values()) p.reject(this.#broken);
      slot.pending.clear();
    };
    slot.worker.on('error', fail);
    slot.worker.on('exit', (code) => fail(new Error(`exited with code ${code}`)));
    return slot;
  }

  #send(req: PoolRequest, transfer: ArrayBuffer[]): Promise<PoolReply> {
    if (this.#broken !== null) return Promise.reject(this.#broken);
    if (this.#closed) return Promise.reject(new AccordError('AUDIT_MISUSE', 'the verification pool is closed'));
    // The least busy worker; ties go to the first.
    let slot = this.#slots[0] as Slot;
    for (const s of this.#slots) if (s.pending.size < slot.pending.size) slot = s;
    return new Promise<PoolReply>((resolve, reject) => {
      slot.pending.set(req.id, { resolve, reject });
      slot.worker.postMessage(req, transfer);
    });
  }

  async prepareBundle(start: number, bundle: Uint8Array): Promise<PrepareResult> {
    // Transfer the bytes instead of copying them when the view owns its whole buffer.
    const owned = bundle.byteOffset === 0 && bundle.byteLength === bundle.buffer.byteLength && bundle.buffer instanceof ArrayBuffer;
    const reply = await this.#send({ id: this.#nextId++, kind: 'prepare', start, bundle }, owned ? [bundle.buffer as ArrayBuffer] : []);
    if (reply.kind === 'prepared') return { ok: true, entries: reply.entries };
    if (reply.kind === 'bad-bundle') return { ok: false, code: reply.code, message: reply.message };
    throw workerFailure(reply);
  }

  async verify(tasks: SignatureTask[]): Promise<boolean[]> {
    if (tasks.length === 0) return [];
    const reply = await this.#send({ id: this.#nextId++, kind: 'verify', tasks }, []);
    if (reply.kind === 'verified') return Array.from(reply.verdicts, (v) => v === 1);
    throw workerFailure(reply);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
  }
}

function workerFailure(reply: PoolReply): AccordError {
  return new AccordError('AUDIT_WORKER_FAILED', reply.kind === 'failed' ? `a verification worker failed: ${reply.message}` : `unexpected worker reply ${reply.kind}`);
}
