/**
 * The checking threads of an audit: the CPU-heavy, order-free part (strict parse, schema,
 * canonical form, hashes, proof hash data; Ed25519), so accord-verify uses every core on a large
 * log. The auditing thread keeps the ordered part (rules, Merkle tree) and hands out two kinds of
 * jobs: preparing one entry bundle (up to 256 entries), and checking a chunk of signatures whose
 * keys the rules chose. Jobs run in worker threads (check-jobs.ts), in `helpers` (another thread
 * answering both kinds of job over a MessagePort: run-audit.ts lends the caller's thread that way),
 * and on the auditing thread itself while it would otherwise wait (helpInline).
 *
 * Scheduling. Each thread holds at most MAX_OUTSTANDING jobs, so work waits here, where it can
 * still be given to whoever is free: bundles first (the auditing thread needs them in order), then
 * signatures. Signature chunks are routed by key, so each thread imports and caches a share of the
 * keys (node:crypto KeyObjects); a thread with nothing else to do takes chunks routed to another.
 *
 * Memory. A tile (its level-0 hash tile, its entry bundle, then the prepared records) lives in one
 * ArrayBuffer that goes to a thread and comes back with its answer, and is reused for later tiles;
 * signature chunks likewise. A large audit allocates a few buffers, not several per tile: dead
 * ArrayBuffers that survived a collection are freed only by a full one, so per-tile buffers pile
 * up as tens of MB of native memory. Signature tasks are packed as they are queued, so no object
 * per signature outlives its entry.
 */
import { Worker, type MessagePort } from 'node:worker_threads';
import type { SignatureTask } from '../core/audit/auditor.ts';
import { prepareEntry, type PreparedEntry } from '../core/audit/entry-check.ts';
import { AccordError } from '../core/errors.ts';
import { TILE_WIDTH, decodeEntryBundle } from '../core/log/tiles.ts';
import { verifyFast } from '../node/ed25519-fast.ts';
import { nodeSha256 } from '../node/sha256.ts';
import { RECORD_BYTES, TASK_BYTES, packTask, taskParts, unpackEntry, type PoolReply, type PoolRequest } from './verify-protocol.ts';
import { workerScripts } from './worker-bundle.ts';

/**
 * A prepared tile. `entry(i)` builds entry i's objects (its statement parsed) when the caller is
 * ready for it: taken one at a time, short-lived objects stay in the young generation.
 * `tileHash(i)` is hash i of the level-0 tile read with it. `release()` gives the tile's buffer back
 * to the pool: call it once done with every entry (the auditor copies what it keeps).
 */
export type PrepareResult =
  | { ok: true; count: number; entry(i: number): PreparedEntry; tileHash(i: number): Uint8Array | null; release(): void }
  | { ok: false; code: string; message: string };

/** Where a tile is read to: the level-0 hash tile, then the entry bundle. */
export interface TileSpace {
  /** A view of `size` bytes for the level-0 hash tile. */
  hashes(size: number): Uint8Array;
  /** A view of `size` bytes for the entry bundle (after the hash tile is in). */
  bundle(size: number): Uint8Array;
  /** Gives the space back unused (when the tile could not be read). */
  release(): void;
}

export interface VerifyPool {
  /** Threads checking besides the caller's (workers and helpers). */
  readonly threads: number;
  /** Space for the next tile to read. */
  tile(): TileSpace;
  /** Prepares the tile read into `space` (both parts filled), whose first entry has index `start`. */
  prepare(start: number, space: TileSpace): Promise<PrepareResult>;
  /** Queues a signature check (DESIGN 3); its verdict goes to the pool's onVerdict. */
  queueSignature(task: SignatureTask): void;
  /** Hands out the signatures queued so far (a chunk is otherwise sent when full). */
  flushSignatures(): void;
  /** Signature checks queued whose verdicts are not known yet. */
  readonly pendingSignatures: number;
  /**
   * Runs one queued job (a bundle, else a chunk of signatures) on the calling thread if the pool
   * lends it work; false when it has nothing for it.
   */
  helpInline(): boolean;
  /** Resolves when helpInline may have work (at once if it has); never, if it lends no work. */
  whenWork(): Promise<void>;
  /** Resolves once pendingSignatures is at most `limit` (at once if it already is). */
  signaturesBelow(limit: number): Promise<void>;
  close(): Promise<void>;
}

export interface VerifyPoolOptions {
  /** Worker threads to start (prepare and verify jobs). */
  workers: number;
  /**
   * Threads answering prepare and verify jobs over these ports (their other ends run answerJob).
   * Without bundles to prepare, a lent thread ran out of work while the auditing thread, preparing
   * every bundle besides applying the rules, was the bottleneck (a third of its time idle).
   */
  helpers?: MessagePort[];
  /** Whether the calling thread runs jobs itself while it waits (helpInline). */
  lendThisThread: boolean;
  /** The worker threads' script; default the one worker-bundle.ts provides. */
  script?: URL;
  /** Receives each verdict: the task's index, and whether the signature holds. */
  onVerdict: (index: number, valid: boolean) => void;
}

/**
 * Jobs a thread may hold at once: one running and two waiting, so it does not idle while the
 * auditing thread, busy applying a tile, answers its messages late.
 */
const MAX_OUTSTANDING = 3;
/** Signatures per job: about 7 ms of work, short enough to balance and to keep the auditing thread responsive. */
export const CHUNK = 32;
/**
 * A checking thread's heap: a small young generation. Everything it allocates for an entry dies
 * before the next entry (results go straight into binary records), so a larger one (the V8
 * default grows to 48 MB) would only hold garbage longer and cost resident memory.
 */
export const CHECKING_THREAD_LIMITS = { maxYoungGenerationSizeMb: 2 };
/** Tile buffers: the hash tile's room, then bundles up to POOLED_BUNDLE_BYTES (a bundle of 1 KB entries is 260 KB). */
const HASH_ROOM = TILE_WIDTH * 32;
const POOLED_BUNDLE_BYTES = 512 * 1024;
const CHUNK_BUFFER_BYTES = CHUNK * (TASK_BYTES + 1);

/** Records start 8-byte aligned after the bundle. */
function recordsAt(bundleLength: number): number {
  return Math.ceil((HASH_ROOM + bundleLength) / 8) * 8;
}

function tileBytes(bundleLength: number): number {
  return recordsAt(bundleLength) + TILE_WIDTH * RECORD_BYTES;
}

/** Reusable tile buffers of the pooled size; larger bundles get a buffer of their own. */
class TileStore {
  readonly #free: ArrayBuffer[] = [];

  take(): ArrayBuffer {
    return this.#free.pop() ?? new ArrayBuffer(tileBytes(POOLED_BUNDLE_BYTES));
  }

  put(buffer: ArrayBuffer): void {
    // The number in use is bounded by the caller's read-ahead, so the free list is too.
    if (buffer.byteLength === tileBytes(POOLED_BUNDLE_BYTES)) this.#free.push(buffer);
  }
}

class Tile implements TileSpace {
  buffer: ArrayBuffer;
  hashLength = 0;
  bundleLength = 0;
  /** A hash tile too large for its room (malformed: the caller reports it). */
  oversizeHashes: Uint8Array | null = null;
  #released = false;

  constructor(readonly store: TileStore) {
    this.buffer = store.take();
  }

  hashes(size: number): Uint8Array {
    if (size > HASH_ROOM) {
      this.oversizeHashes = new Uint8Array(size);
      return this.oversizeHashes;
    }
    this.hashLength = size;
    return new Uint8Array(this.buffer, 0, size);
  }

  bundle(size: number): Uint8Array {
    if (tileBytes(size) > this.buffer.byteLength) {
      const larger = new ArrayBuffer(tileBytes(size));
      new Uint8Array(larger).set(new Uint8Array(this.buffer, 0, this.hashLength));
      this.store.put(this.buffer);
      this.buffer = larger;
    }
    this.bundleLength = size;
    return new Uint8Array(this.buffer, HASH_ROOM, size);
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.store.put(this.buffer);
  }

  tileHash(i: number): Uint8Array | null {
    return (i + 1) * 32 <= this.hashLength ? new Uint8Array(this.buffer, i * 32, 32) : null;
  }
}

export function createVerifyPool(options: VerifyPoolOptions): VerifyPool {
  const { workers } = options;
  if (!Number.isInteger(workers) || workers < 0) throw new AccordError('BAD_ARGUMENT', `workers must be a non-negative integer, got ${workers}`);
  if (workers === 0 && (options.helpers ?? []).length === 0) return new InlinePool(options.onVerdict);
  const script = workers === 0 ? null : options.script !== undefined ? Promise.resolve(options.script) : workerScripts().then((s) => s.verify);
  return new ThreadPool(workers, options.helpers ?? [], options.lendThisThread, script, options.onVerdict);
}

/** Prepares a tile on the calling thread, entry by entry as they are asked for. */
function prepareHere(start: number, tile: Tile): PrepareResult {
  let entries: Uint8Array[];
  try {
    entries = decodeEntryBundle(new Uint8Array(tile.buffer, HASH_ROOM, tile.bundleLength));
  } catch (e) {
    tile.release();
    if (!(e instanceof AccordError)) throw e;
    return { ok: false, code: e.code, message: e.message };
  }
  return {
    ok: true,
    count: entries.length,
    entry: (i) => prepareEntry(start + i, entries[i] as Uint8Array, { sha256: nodeSha256 }),
    tileHash: (i) => tile.tileHash(i),
    release: () => tile.release(),
  };
}

/** No other thread: everything on the caller's (`--workers 0`). */
class InlinePool implements VerifyPool {
  readonly threads = 0;
  readonly pendingSignatures = 0;
  readonly #store = new TileStore();

  constructor(readonly onVerdict: (index: number, valid: boolean) => void) {}

  tile(): TileSpace {
    return new Tile(this.#store);
  }

  async prepare(start: number, space: TileSpace): Promise<PrepareResult> {
    return prepareHere(start, space as Tile);
  }

  queueSignature(t: SignatureTask): void {
    this.onVerdict(t.index, verifyFast(t.signature, t.message, t.publicKey));
  }

  flushSignatures(): void {}

  helpInline(): boolean {
    return false;
  }

  whenWork(): Promise<void> {
    return new Promise(() => undefined);
  }

  async signaturesBelow(): Promise<void> {}

  async close(): Promise<void> {}
}

/** Up to CHUNK signature checks, packed; the task indexes wait here for the verdicts. */
interface Chunk {
  /** TASK_BYTES per task, then a byte per verdict (verify-protocol.ts). */
  buffer: ArrayBuffer;
  count: number;
  indexes: number[];
}

interface PrepareJob {
  start: number;
  tile: Tile;
  resolve: (r: PrepareResult) => void;
  reject: (e: Error) => void;
}

interface Sent {
  onReply: (reply: PoolReply) => void;
  /** For a tile: its caller learns of a failed pool. */
  onFail?: (error: Error) => void;
}

interface Slot {
  /** null until started (a worker waits for its script). */
  post: ((req: PoolRequest, transfer: ArrayBuffer[]) => void) | null;
  canPrepare: boolean;
  /** Jobs sent and not answered, by request id. */
  pending: Map<number, Sent>;
  /** Signature chunks routed to this thread by key, and the one being filled. */
  chunks: Chunk[];
  filling: Chunk | null;
  worker: Worker | null;
}

class ThreadPool implements VerifyPool {
  readonly #slots: Slot[] = [];
  readonly #prepare: PrepareJob[] = [];
  readonly #store = new TileStore();
  readonly #chunkBuffers: ArrayBuffer[] = [];
  #waiters: { limit: number; resolve: () => void; reject: (e: Error) => void }[] = [];
  #workWaiters: (() => void)[] = [];
  readonly #lend: boolean;
  readonly #onVerdict: (index: number, valid: boolean) => void;
  #pendingSignatures = 0;
  #nextId = 1;
  #broken: Error | null = null;
  #closed = false;
  readonly #ready: Promise<void>;

  /** The calling thread's share of the keys, when it is lent (helpInline takes these first). */
  readonly #inline: Slot | null;

  constructor(workers: number, helpers: MessagePort[], lend: boolean, script: Promise<URL> | null, onVerdict: (index: number, valid: boolean) => void) {
    this.#lend = lend;
    this.#onVerdict = onVerdict;
    this.#inline = lend ? { post: null, canPrepare: false, pending: new Map(), chunks: [], filling: null, worker: null } : null;
    for (const port of helpers) {
      const slot: Slot = { post: (req, transfer) => port.postMessage(req, transfer), canPrepare: true, pending: new Map(), chunks: [], filling: null, worker: null };
      port.on('message', (reply: PoolReply) => this.#onReply(slot, reply));
      this.#slots.push(slot);
    }
    const spawned: Slot[] = [];
    for (let i = 0; i < workers; i++) {
      const slot: Slot = { post: null, canPrepare: true, pending: new Map(), chunks: [], filling: null, worker: null };
      spawned.push(slot);
      this.#slots.push(slot);
    }
    this.#ready =
      script === null
        ? Promise.resolve()
        : script.then(
            (url) => {
              if (this.#closed) return;
              for (const slot of spawned) this.#spawn(slot, url);
              this.#dispatch();
            },
            (e: unknown) => this.#fail(new AccordError('AUDIT_WORKER_FAILED', `no script for the checking threads: ${e instanceof Error ? e.message : String(e)}`, { cause: e })),
          );
  }

  get threads(): number {
    return this.#slots.length;
  }

  get pendingSignatures(): number {
    return this.#pendingSignatures;
  }

  #spawn(slot: Slot, url: URL): void {
    // No inherited execArgv: a parent started with `--import tsx` would register tsx in every worker.
    const worker = new Worker(url, { execArgv: [], resourceLimits: CHECKING_THREAD_LIMITS });
    slot.worker = worker;
    slot.post = (req, transfer) => worker.postMessage(req, transfer);
    worker.on('message', (reply: PoolReply) => this.#onReply(slot, reply));
    const fail = (error: Error): void => {
      if (this.#closed) return;
      this.#fail(new AccordError('AUDIT_WORKER_FAILED', `a checking thread failed: ${error.message}`, { cause: error }));
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`exited with code ${code}`)));
  }

  #onReply(slot: Slot, reply: PoolReply): void {
    const sent = slot.pending.get(reply.id);
    if (sent === undefined) return;
    slot.pending.delete(reply.id);
    if (reply.kind === 'failed') {
      this.#fail(new AccordError('AUDIT_WORKER_FAILED', `a checking thread failed: ${reply.message}`));
      return;
    }
    sent.onReply(reply);
    this.#dispatch();
  }

  /** A thread is gone: everything waiting on the pool fails with the same error (exit 2). */
  #fail(error: Error): void {
    this.#broken ??= error;
    const broken = this.#broken;
    for (const s of this.#queues()) {
      for (const sent of s.pending.values()) sent.onFail?.(broken);
      s.pending.clear();
      s.chunks.length = 0;
      s.filling = null;
    }
    for (const job of this.#prepare.splice(0)) job.reject(broken);
    for (const w of this.#waiters) w.reject(broken);
    this.#waiters = [];
  }

  /** Gives every thread with room its next job: a tile, a chunk routed to it, or another's. */
  #dispatch(): void {
    if (this.#broken !== null) return;
    for (const slot of this.#slots) {
      const post = slot.post;
      if (post === null) continue;
      while (slot.pending.size < MAX_OUTSTANDING) {
        const id = this.#nextId++;
        const job = slot.canPrepare ? this.#prepare.shift() : undefined;
        if (job !== undefined) {
          const tile = job.tile;
          slot.pending.set(id, { onReply: (reply) => this.#prepared(job, reply), onFail: job.reject });
          post({ id, kind: 'prepare', start: job.start, buffer: tile.buffer, bundleAt: HASH_ROOM, bundleLength: tile.bundleLength, recordsAt: recordsAt(tile.bundleLength) }, [tile.buffer]);
          continue;
        }
        const chunk = this.#takeChunk(slot);
        if (chunk === null) break;
        slot.pending.set(id, {
          onReply: (reply) => {
            if (reply.kind !== 'verified' || reply.count !== chunk.count) return this.#fail(unexpected(reply));
            chunk.buffer = reply.buffer;
            const verdicts = new Uint8Array(reply.buffer, chunk.count * TASK_BYTES, chunk.count);
            this.#settle(chunk, (i) => verdicts[i] === 1);
          },
        });
        post({ id, kind: 'verify', buffer: chunk.buffer, count: chunk.count }, [chunk.buffer]);
      }
    }
  }

  #prepared(job: PrepareJob, reply: PoolReply): void {
    const tile = job.tile;
    if (reply.kind === 'bad-bundle') {
      tile.buffer = reply.buffer;
      tile.release();
      job.resolve({ ok: false, code: reply.code, message: reply.message });
      return;
    }
    if (reply.kind !== 'prepared') return this.#fail(unexpected(reply));
    tile.buffer = reply.buffer;
    const packed = {
      start: job.start,
      count: reply.count,
      bundle: new Uint8Array(tile.buffer, HASH_ROOM, tile.bundleLength),
      records: new Uint8Array(tile.buffer, recordsAt(tile.bundleLength), reply.count * RECORD_BYTES),
      invalid: reply.invalid,
    };
    job.resolve({ ok: true, count: reply.count, entry: (i) => unpackEntry(packed, i), tileHash: (i) => tile.tileHash(i), release: () => tile.release() });
  }

  #takeChunk(slot: Slot | null): Chunk | null {
    const own = slot?.chunks.shift();
    if (own !== undefined) return own;
    // Otherwise idle: take from the longest queue (the key cache misses once, the core is used).
    let longest: Slot | null = null;
    for (const s of this.#queues()) if (s.chunks.length > 0 && (longest === null || s.chunks.length > longest.chunks.length)) longest = s;
    return longest?.chunks.shift() ?? null;
  }

  #settle(chunk: Chunk, verdict: (i: number) => boolean): void {
    for (let i = 0; i < chunk.count; i++) this.#onVerdict(chunk.indexes[i] as number, verdict(i));
    this.#pendingSignatures -= chunk.count;
    // Kept for reuse: the number in use is bounded by the caller's limit on pending signatures.
    if (chunk.buffer.byteLength === CHUNK_BUFFER_BYTES) this.#chunkBuffers.push(chunk.buffer);
    if (this.#waiters.length > 0) {
      this.#waiters = this.#waiters.filter((w) => {
        if (this.#pendingSignatures > w.limit) return true;
        w.resolve();
        return false;
      });
    }
  }

  #check(): void {
    if (this.#broken !== null) throw this.#broken;
    if (this.#closed) throw new AccordError('AUDIT_MISUSE', 'the verification pool is closed');
  }

  tile(): TileSpace {
    return new Tile(this.#store);
  }

  prepare(start: number, space: TileSpace): Promise<PrepareResult> {
    try {
      this.#check();
    } catch (e) {
      return Promise.reject(e as Error);
    }
    return new Promise<PrepareResult>((resolve, reject) => {
      this.#prepare.push({ start, tile: space as Tile, resolve, reject });
      this.#dispatch();
      this.#workQueued();
    });
  }

  queueSignature(t: SignatureTask): void {
    this.#check();
    if (t.publicKey.length !== 32 || t.signature.length !== 64 || t.message.length !== 64) {
      // Not the wire format (never the auditor's): checked here, at once.
      this.#onVerdict(t.index, verifyFast(t.signature, t.message, t.publicKey));
      return;
    }
    this.#pendingSignatures++;
    const slot = this.#route(t.publicKey);
    let chunk = slot.filling;
    if (chunk === null) {
      chunk = { buffer: this.#chunkBuffers.pop() ?? new ArrayBuffer(CHUNK_BUFFER_BYTES), count: 0, indexes: [] };
      slot.filling = chunk;
    }
    packTask(new Uint8Array(chunk.buffer), chunk.count, t.publicKey, t.signature, t.message);
    chunk.indexes.push(t.index);
    chunk.count++;
    if (chunk.count === CHUNK) {
      slot.chunks.push(chunk);
      slot.filling = null;
    }
  }

  /** The thread whose share of the keys this one is in (by its first byte: keys are uniform). */
  #route(publicKey: Uint8Array): Slot {
    const n = this.#slots.length + (this.#inline === null ? 0 : 1);
    const i = (publicKey[0] as number) % n;
    return i < this.#slots.length ? (this.#slots[i] as Slot) : (this.#inline as Slot);
  }

  #queues(): Slot[] {
    return this.#inline === null ? this.#slots : [...this.#slots, this.#inline];
  }

  flushSignatures(): void {
    for (const slot of this.#queues()) {
      if (slot.filling !== null) slot.chunks.push(slot.filling);
      slot.filling = null;
    }
    this.#dispatch();
    this.#workQueued();
  }

  /** Whether helpInline would find a job now (the one test both use, so they never disagree). */
  #inlineWork(): boolean {
    if (!this.#lend || this.#broken !== null) return false;
    return this.#prepare.length > 0 || this.#queues().some((s) => s.chunks.length > 0);
  }

  #workQueued(): void {
    if (!this.#inlineWork()) return;
    for (const wake of this.#workWaiters.splice(0)) wake();
  }

  whenWork(): Promise<void> {
    // Never for a pool that lends no work, or a failed one (its failure reaches the caller
    // through what it waits for): resolving at once would make the caller spin.
    if (!this.#lend || this.#broken !== null) return new Promise(() => undefined);
    if (this.#inlineWork()) return Promise.resolve();
    return new Promise<void>((resolve) => this.#workWaiters.push(resolve));
  }

  helpInline(): boolean {
    if (!this.#inlineWork()) return false;
    const job = this.#prepare.shift();
    if (job !== undefined) {
      job.resolve(prepareHere(job.start, job.tile));
      return true;
    }
    const chunk = this.#takeChunk(this.#inline);
    if (chunk === null) return false;
    const packed = new Uint8Array(chunk.buffer);
    this.#settle(chunk, (i) => {
      const t = taskParts(packed, i);
      return verifyFast(t.signature, t.message, t.publicKey);
    });
    return true;
  }

  signaturesBelow(limit: number): Promise<void> {
    if (this.#broken !== null) return Promise.reject(this.#broken);
    if (this.#pendingSignatures <= limit) return Promise.resolve();
    return new Promise<void>((resolve, reject) => this.#waiters.push({ limit, resolve, reject }));
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#ready.catch(() => undefined);
    await Promise.all(this.#slots.map((s) => s.worker?.terminate()));
  }
}

function unexpected(reply: PoolReply): AccordError {
  return new AccordError('AUDIT_WORKER_FAILED', reply.kind === 'failed' ? `a checking thread failed: ${reply.message}` : `unexpected reply ${reply.kind} from a checking thread`);
}
