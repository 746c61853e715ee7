/**
 * The sequencer: the log's single writer (DESIGN 5, 7, 9). Callers hand it groups of entries (a
 * statement, preceded by the DomainAttestation that admits it, if any); it gives each entry its
 * index, extends the Merkle tree, signs one checkpoint per batch and returns receipts.
 *
 * Group commit: groups that arrive while a batch is being committed wait and go together in the
 * next batch, so a burst of submissions costs one transaction and one signature, not one each.
 * Callers may also announce a group that is on its way (`willAppend`, arrivals.ts): a batch then
 * waits a little (`lingerMs`) for the groups announced before it started, which keeps batches
 * large when many submissions are admitted at once.
 * Each group is admitted or rejected on its own: a group whose `admit` throws writes nothing and
 * gets that error; the other groups of its batch commit.
 *
 * WHY A CRASH AT ANY INSTANT IS SAFE (the write order; cf. sunlight's sequencePool):
 *
 * 1. Inside ONE database transaction holding the write lock (storage/write-transaction.ts), the
 *    sequencer reads the stored size and the O(log n) right-edge node hashes, checks that they
 *    hash to the root of the latest stored checkpoint, then inserts the batch's entries, the new
 *    complete tree nodes, the checkpoint it signed over the new root, and the signatory states.
 *    The commit is atomic: after a crash the database holds either all of the batch or none of
 *    it, so the stored entries, nodes and latest checkpoint always describe the same tree, and
 *    the log verifies. (Triggers make this structural: entries are contiguous and a checkpoint
 *    must cover exactly the stored entries.)
 * 2. A receipt (and with it the batch's checkpoint) leaves this module only after COMMIT has
 *    returned. With SQLite in WAL mode and synchronous=FULL, and PostgreSQL's default
 *    synchronous_commit=on, a returned COMMIT is on disk. So every acknowledged entry survives
 *    any crash, and every checkpoint ever handed out is a stored one.
 * 3. A crash before COMMIT returned acknowledged nothing. If the commit reached the disk anyway,
 *    the entries are simply in the log, and a client that retries gets the existing receipt (a
 *    byte-identical entry is never appended twice). A checkpoint signed in a transaction that did
 *    not commit was never shown to anyone, so no two published checkpoints of one size differ.
 * 4. The checkpoint served is the largest stored one; stored checkpoints are never updated or
 *    deleted and each new one must be larger (trigger), so what is served never goes back, across
 *    restarts and crashes.
 * 5. Nothing is trusted from memory between batches: after taking the lock, the size and the edge
 *    are read again, because another process (or a crashed predecessor) may have changed them.
 */
import type { Kysely } from 'kysely';
import type { AccordInfo, SignatoryState } from '../core/audit/registry-state.ts';
import { bytesEqual, toBase64 } from '../core/bytes.ts';
import type { KeyPair } from '../core/crypto/ed25519.ts';
import { AccordError, describeValue, isAccordError } from '../core/errors.ts';
import { signCheckpoint } from '../core/log/checkpoint.ts';
import { inclusionProof, MerkleAccumulator, nodesNeededForInclusion, subtreeCover, type NodeId } from '../core/log/merkle.ts';
import { MAX_ENTRY_BYTES } from '../core/log/tiles.ts';
import { getLatestCheckpoint, insertCheckpoint } from '../storage/checkpoints-repo.ts';
import type { DatabaseHandle } from '../storage/db.ts';
import { countEntries, findIndexesByDigest, getAccordByDigest, getAccordById, insertEntries, type EntryRow } from '../storage/entries-repo.ts';
import type { Database } from '../storage/schema.ts';
import { getSignatories, getSignatory, upsertSignatories } from '../storage/signatories-repo.ts';
import { getNodes, insertNodes, nodeKey, type TreeNode } from '../storage/tree-repo.ts';
import { writeTransaction } from '../storage/write-transaction.ts';
import { digestOfNode, leafHashNode, nodeHashNode } from '../node/sha256.ts';
import { accordInfoFromEntry } from './accord-info.ts';
import { Arrivals } from './arrivals.ts';

export interface AppendEntry {
  /** The canonical statement bytes (the leaf data). */
  bytes: Uint8Array;
  /** DESIGN 2 digest of `bytes` (checked). */
  digest: string;
  /** Statement type, e.g. `AccordPledge`. */
  type: string;
  /** The DID or accord URN the statement is about. */
  subject: string;
  validFrom: string;
}

/** What `admit` may look up. Lookups see committed rows AND earlier groups of the same batch. */
export interface AdmitContext {
  /** The index the group's first entry will get if admitted. */
  nextIndex: number;
  getSignatory(did: string): Promise<SignatoryState | undefined>;
  getAccord(digest: string): Promise<AccordInfo | undefined>;
  /** The AccordText whose id (URN) is `id`. */
  getAccordById(id: string): Promise<AccordInfo | undefined>;
  /** The index of the entry with this digest, if logged. */
  findDigest(digest: string): Promise<number | undefined>;
}

export interface AppendGroup {
  /** In log order; the LAST entry is the one the group is for (earlier ones admit it). */
  entries: AppendEntry[];
  /**
   * Runs inside the write transaction, after the group's place in the log is known. Throws to
   * reject the group (nothing of it is written); returns the signatory states it changes, which
   * are stored with the entries.
   */
  admit?: (ctx: AdmitContext) => Promise<SignatoryState[]>;
}

export interface Receipt {
  index: number;
  digest: string;
  /** Signed note text of a checkpoint that covers the entry. */
  checkpoint: string;
  /** RFC 9162 inclusion proof for that checkpoint's size, base64, leaf first. */
  inclusionProof: string[];
}

export interface SequencerOptions {
  handle: DatabaseHandle;
  /** The origin (checkpoint origin line and key name) and the log key that signs checkpoints. */
  origin: string;
  logKey: KeyPair;
  /** Clock for checkpoint `created_at` (tests). */
  now?: () => Date;
  /** Soft cap on entries per batch (a larger single group still goes alone). Default 4096. */
  maxBatchEntries?: number;
  /**
   * Signs each batch's checkpoint with the log key and returns the signed note. Default: the
   * core's `signCheckpoint` (pure JS). Node callers inject src/node/ed25519-sign.ts's OpenSSL
   * signer; Ed25519 is deterministic (RFC 8032), so the notes are the same bytes either way.
   */
  signCheckpoint?: (cp: { origin: string; size: number; root: Uint8Array }) => string;
  /**
   * How long a batch may wait for groups announced with `willAppend` before it commits (ms).
   * Default 10; 0 never waits.
   */
  lingerMs?: number;
}

/** See SequencerOptions.lingerMs. */
export const DEFAULT_LINGER_MS = 10;

/** What `appendBulk` resolves with. */
export interface BulkResult {
  /** Index of the first entry appended. */
  first: number;
  /** Tree size after the batch that held them (covers them). */
  size: number;
  /** Signed note of that batch's checkpoint. */
  checkpoint: string;
}

interface Pending {
  group: AppendGroup;
  /** false for appendBulk: no inclusion proofs are computed. */
  wantReceipts: boolean;
  resolve: (r: Appended) => void;
  reject: (e: unknown) => void;
}

/** A settled group: its receipts (none for bulk), its first new index (-1 if it logged nothing new), the batch's checkpoint. */
interface Appended {
  receipts: Receipt[];
  first: number;
  size: number;
  checkpoint: string;
}

type Outcome = ({ ok: true } & Appended) | { ok: false; error: unknown };

/** What the sequencer knows about the batch under way, on top of the committed rows. */
interface BatchOverlay {
  digests: Map<string, number>;
  signatories: Map<string, { state: SignatoryState; updatedIndex: number }>;
  accords: Map<string, { index: number; digest: string; bytes: Uint8Array; subject: string }>;
}

function checkGroup(group: AppendGroup): void {
  if (group === null || typeof group !== 'object' || !Array.isArray(group.entries) || group.entries.length === 0) {
    throw new AccordError('LOG_EMPTY_GROUP', 'an append group needs at least one entry');
  }
  const seen = new Set<string>();
  for (const [i, e] of group.entries.entries()) {
    if (!(e.bytes instanceof Uint8Array) || e.bytes.length === 0 || e.bytes.length > MAX_ENTRY_BYTES) {
      throw new AccordError('LOG_ENTRY_SIZE', `entry ${i} of the group must be 1 to ${MAX_ENTRY_BYTES} bytes, got ${describeValue(e.bytes)}`);
    }
    const digest = digestOfNode(e.bytes);
    if (e.digest !== digest) throw new AccordError('LOG_DIGEST_MISMATCH', `entry ${i} of the group has digest ${describeValue(e.digest)}, but its bytes hash to ${digest}`);
    if (seen.has(digest)) throw new AccordError('LOG_DUPLICATE_ENTRY', `entry ${i} of the group repeats ${digest}`);
    seen.add(digest);
    for (const k of ['type', 'subject', 'validFrom'] as const) {
      if (typeof e[k] !== 'string' || e[k] === '') throw new AccordError('LOG_BAD_ENTRY', `entry ${i} of the group needs a non-empty ${k}`);
    }
  }
}

export class Sequencer {
  readonly #handle: DatabaseHandle;
  readonly #origin: string;
  readonly #logKey: KeyPair;
  readonly #now: () => Date;
  readonly #maxBatchEntries: number;
  readonly #sign: (cp: { origin: string; size: number; root: Uint8Array }) => string;
  readonly #lingerMs: number;
  readonly #arrivals = new Arrivals();
  #queue: Pending[] = [];
  #draining: Promise<void> | undefined;
  #closed = false;

  constructor(opts: SequencerOptions) {
    this.#handle = opts.handle;
    this.#origin = opts.origin;
    this.#logKey = opts.logKey;
    this.#now = opts.now ?? (() => new Date());
    this.#maxBatchEntries = opts.maxBatchEntries ?? 4096;
    this.#sign = opts.signCheckpoint ?? ((cp) => signCheckpoint(cp, this.#logKey.secretKey));
    this.#lingerMs = opts.lingerMs ?? DEFAULT_LINGER_MS;
  }

  /**
   * Announces a group that the caller expects to append soon (an admission under way). Call the
   * returned function, once, right after calling `append` or when giving up. A batch waits at most
   * `lingerMs` for announced groups (arrivals.ts); announcing never changes what is appended.
   */
  willAppend(): () => void {
    return this.#arrivals.announce();
  }

  /**
   * Appends a group; resolves with one receipt per entry after the batch holding it is durably
   * committed. A group whose last entry is already logged (or earlier in the batch) writes
   * nothing and resolves with the receipts of those of its entries that are logged, the last one
   * included (idempotent resubmission, DESIGN 7). Rejects with the admit error, or
   * LOG_DUPLICATE_ENTRY if an earlier entry of the group (but not its last) is already logged.
   */
  async append(group: AppendGroup): Promise<Receipt[]> {
    return (await this.#enqueue(group, true)).receipts;
  }

  /**
   * Appends many entries as one group without admission rules and without computing a receipt
   * per entry (imports, benchmarks, tests that need a big log): the same transaction and the same
   * node-writing code as `append`. Every entry must be new (LOG_DUPLICATE_ENTRY otherwise).
   */
  async appendBulk(entries: AppendEntry[]): Promise<BulkResult> {
    const r = await this.#enqueue({ entries }, false);
    if (r.first < 0) throw new AccordError('LOG_DUPLICATE_ENTRY', `the last bulk entry (${(entries[entries.length - 1] as AppendEntry).digest}) is already logged`);
    return { first: r.first, size: r.size, checkpoint: r.checkpoint };
  }

  #enqueue(group: AppendGroup, wantReceipts: boolean): Promise<Appended> {
    if (this.#closed) return Promise.reject(new AccordError('SEQUENCER_CLOSED', 'the sequencer is closed'));
    try {
      checkGroup(group);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ group, wantReceipts, resolve, reject });
      this.#draining ??= this.#drain();
    });
  }

  /** Stops accepting groups and waits until the queued ones are committed. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#draining;
  }

  async #drain(): Promise<void> {
    // Let the groups submitted in this turn of the event loop join the first batch.
    await new Promise((r) => setImmediate(r));
    while (this.#queue.length > 0) {
      // Wait for groups on their way (bounded), unless a full batch is queued already.
      if (this.#queuedEntries() < this.#maxBatchEntries) await this.#arrivals.gather(this.#lingerMs);
      let n = 0;
      let take = 0;
      while (take < this.#queue.length && (take === 0 || n + (this.#queue[take] as Pending).group.entries.length <= this.#maxBatchEntries)) {
        n += (this.#queue[take] as Pending).group.entries.length;
        take++;
      }
      await this.#commitBatch(this.#queue.splice(0, take));
    }
    this.#draining = undefined;
  }

  #queuedEntries(): number {
    let n = 0;
    for (const p of this.#queue) n += p.group.entries.length;
    return n;
  }

  /** Never throws: every group of the batch is settled. */
  async #commitBatch(batch: Pending[]): Promise<void> {
    let outcomes: Outcome[];
    try {
      outcomes = await writeTransaction(this.#handle, (trx) => this.#sequence(trx, batch));
    } catch (cause) {
      const error = isAccordError(cause) ? cause : new AccordError('LOG_APPEND_FAILED', `the batch could not be committed: ${(cause as Error)?.message ?? String(cause)}`, { cause });
      for (const p of batch) p.reject(error);
      return;
    }
    // Only now, after COMMIT returned, are receipts handed out (crash-safety point 2).
    for (const [i, p] of batch.entries()) {
      const o = outcomes[i] as Outcome;
      if (o.ok) p.resolve(o);
      else p.reject(o.error);
    }
  }

  async #sequence(trx: Kysely<Database>, batch: Pending[]): Promise<Outcome[]> {
    const groups = batch.map((p) => p.group);
    // Crash-safety point 5: read the state again under the lock.
    const stored = await countEntries(trx);
    const latest = await getLatestCheckpoint(trx);
    if ((latest?.size ?? 0) !== stored) {
      throw new AccordError('LOG_STATE_INCONSISTENT', `the database holds ${stored} entries but its latest checkpoint has size ${latest?.size ?? 0}`);
    }
    const cover = subtreeCover(stored);
    const nodes = new Map<string, Uint8Array>(await getNodes(trx, cover));
    const coverHashes = cover.map((n) => nodes.get(nodeKey(n.level, n.index)));
    if (coverHashes.some((h) => h === undefined)) {
      throw new AccordError('LOG_STATE_INCONSISTENT', `the database lacks tree nodes of the right edge of the tree of size ${stored}`);
    }
    const acc = MerkleAccumulator.fromCover(stored, coverHashes as Uint8Array[], nodeHashNode);
    if (latest !== undefined && !bytesEqual(acc.root(), latest.root)) {
      throw new AccordError('LOG_STATE_INCONSISTENT', `the stored tree nodes do not hash to the root of the latest checkpoint (size ${stored})`);
    }

    const committed = await findIndexesByDigest(
      trx,
      groups.flatMap((g) => g.entries.map((e) => e.digest)),
    );
    const overlay: BatchOverlay = { digests: new Map(), signatories: new Map(), accords: new Map() };
    const fresh: EntryRow[] = [];
    const results: ({ kind: 'new' | 'existing'; indexes: number[]; digests: string[]; wantReceipts: boolean } | { kind: 'rejected'; error: unknown })[] = [];
    const firstOf = (r: { kind: 'new' | 'existing'; indexes: number[] }): number => (r.kind === 'new' ? (r.indexes[0] as number) : -1);
    const ctxBase = await this.#contextLookups(trx, batch, committed, overlay);

    for (const { group, wantReceipts } of batch) {
      const found = group.entries.map((e) => committed.get(e.digest) ?? overlay.digests.get(e.digest));
      if (found[found.length - 1] !== undefined) {
        const present = group.entries.flatMap((e, i) => (found[i] === undefined ? [] : [{ index: found[i] as number, digest: e.digest }]));
        results.push({ kind: 'existing', indexes: present.map((p) => p.index), digests: present.map((p) => p.digest), wantReceipts });
        continue;
      }
      const dup = found.findIndex((f) => f !== undefined);
      if (dup !== -1) {
        results.push({
          kind: 'rejected',
          error: new AccordError('LOG_DUPLICATE_ENTRY', `entry ${dup} of the group (${(group.entries[dup] as AppendEntry).digest}) is already logged at index ${found[dup]}`),
        });
        continue;
      }
      const first = stored + fresh.length;
      let states: SignatoryState[] = [];
      if (group.admit !== undefined) {
        try {
          states = await group.admit({ nextIndex: first, ...ctxBase });
          if (!Array.isArray(states)) throw new AccordError('LOG_BAD_ADMIT', `admit must return an array of signatory states, got ${describeValue(states)}`);
        } catch (error) {
          results.push({ kind: 'rejected', error });
          continue;
        }
      }
      const indexes: number[] = [];
      for (const e of group.entries) {
        const index = stored + fresh.length;
        fresh.push({ index, digest: e.digest, bytes: e.bytes, type: e.type, subject: e.subject, validFrom: e.validFrom });
        overlay.digests.set(e.digest, index);
        if (e.type === 'AccordText') overlay.accords.set(e.digest, { index, digest: e.digest, bytes: e.bytes, subject: e.subject });
        indexes.push(index);
      }
      const last = indexes[indexes.length - 1] as number;
      for (const state of states) overlay.signatories.set(state.did, { state, updatedIndex: last });
      results.push({ kind: 'new', indexes, digests: group.entries.map((e) => e.digest), wantReceipts });
    }

    let size = stored;
    let note = latest?.note;
    if (fresh.length > 0) {
      const newNodes: TreeNode[] = [];
      for (const e of fresh) {
        for (const n of acc.push(leafHashNode(e.bytes))) {
          newNodes.push(n);
          nodes.set(nodeKey(n.level, n.index), n.hash);
        }
      }
      size = acc.size;
      const root = acc.root();
      note = this.#sign({ origin: this.#origin, size, root });
      await insertEntries(trx, fresh);
      await insertNodes(trx, newNodes);
      await insertCheckpoint(trx, { size, root, note, createdAt: this.#now().toISOString() });
      if (overlay.signatories.size > 0) await upsertSignatories(trx, [...overlay.signatories.values()]);
    }

    // Receipts: inclusion proofs at the new size, from the nodes in hand plus any older ones.
    const wanted = results.flatMap((r) => (r.kind === 'rejected' || !r.wantReceipts ? [] : r.indexes));
    const needed: NodeId[] = [];
    for (const index of wanted) for (const n of nodesNeededForInclusion(index, size)) if (!nodes.has(nodeKey(n.level, n.index))) needed.push(n);
    if (needed.length > 0) for (const [k, h] of await getNodes(trx, needed)) nodes.set(k, h);
    const getNode = (level: number, index: number): Uint8Array => {
      const h = nodes.get(nodeKey(level, index));
      if (h === undefined) throw new AccordError('LOG_STATE_INCONSISTENT', `tree node level ${level}, index ${index} is not stored`);
      return h;
    };
    return results.map((r): Outcome => {
      if (r.kind === 'rejected') return { ok: false, error: r.error };
      if (!r.wantReceipts) return { ok: true, receipts: [], first: firstOf(r), size, checkpoint: note as string };
      return {
        ok: true,
        first: firstOf(r),
        size,
        checkpoint: note as string,
        receipts: r.indexes.map((index, i) => ({
          index,
          digest: r.digests[i] as string,
          checkpoint: note as string,
          inclusionProof: inclusionProof(index, size, getNode).map(toBase64),
        })),
      };
    });
  }

  /**
   * The AdmitContext lookups over committed rows plus the batch so far (cached per batch). The
   * stored states of the subjects of every group that has rules to run are read in one query up
   * front, since those are the DIDs `admit` asks about.
   */
  async #contextLookups(trx: Kysely<Database>, batch: Pending[], committed: Map<string, number>, overlay: BatchOverlay): Promise<Omit<AdmitContext, 'nextIndex'>> {
    const signatoryCache = new Map<string, SignatoryState | undefined>();
    const subjects = [...new Set(batch.flatMap((p) => (p.group.admit === undefined ? [] : p.group.entries.map((e) => e.subject))))];
    if (subjects.length > 0) {
      const rows = await getSignatories(trx, subjects);
      for (const did of subjects) signatoryCache.set(did, rows.get(did)?.state);
    }
    const accordCache = new Map<string, AccordInfo | undefined>();
    return {
      async getSignatory(did) {
        const inBatch = overlay.signatories.get(did);
        if (inBatch !== undefined) return inBatch.state;
        if (!signatoryCache.has(did)) signatoryCache.set(did, (await getSignatory(trx, did))?.state);
        return signatoryCache.get(did);
      },
      async getAccord(digest) {
        const inBatch = overlay.accords.get(digest);
        if (inBatch !== undefined) return accordInfoFromEntry(inBatch);
        if (!accordCache.has(digest)) {
          const row = await getAccordByDigest(trx, digest);
          accordCache.set(digest, row === undefined ? undefined : accordInfoFromEntry(row));
        }
        return accordCache.get(digest);
      },
      async getAccordById(id) {
        for (const a of overlay.accords.values()) if (a.subject === id) return accordInfoFromEntry(a);
        const row = await getAccordById(trx, id);
        return row === undefined ? undefined : accordInfoFromEntry(row);
      },
      async findDigest(digest) {
        const known = committed.get(digest) ?? overlay.digests.get(digest);
        if (known !== undefined) return known;
        return (await findIndexesByDigest(trx, [digest])).get(digest);
      },
    };
  }
}

export function createSequencer(opts: SequencerOptions): Sequencer {
  return new Sequencer(opts);
}
