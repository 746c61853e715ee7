/**
 * Reading the log from storage: the latest checkpoint, tlog-tiles (hash tiles and entry bundles,
 * full and partial), inclusion and consistency proofs and tlog-proof texts. Every answer costs a
 * bounded number of reads: a tile is one range read of stored nodes (or entries), a proof reads
 * the O(log n) complete subtree hashes it needs. Nothing is ever recomputed from all the leaves.
 *
 * Consistency without a snapshot: stored rows are immutable and only grow, so once a checkpoint
 * of size n has been read, every node and entry of the tree of size n is there for later reads.
 * Nothing beyond the latest stored checkpoint is served.
 */
import type { Kysely } from 'kysely';
import { utf8 } from '../core/bytes.ts';
import { AccordError, describeValue } from '../core/errors.ts';
import { consistencyProof, inclusionProof, nodesNeededForConsistency, nodesNeededForInclusion, subtreeCover, treeRoot, type NodeId } from '../core/log/merkle.ts';
import type { TileFetcher } from '../core/log/tile-reader.ts';
import { encodeEntryBundle, parseTilePath, TILE_WIDTH, tileWidth, type TileRef } from '../core/log/tiles.ts';
import { formatTlogProof } from '../core/log/tlog-proof.ts';
import { getCheckpointBySize, getLatestCheckpoint, getLatestCheckpointSize, type CheckpointRow } from '../storage/checkpoints-repo.ts';
import { getEntry, getEntryBytesRange, type EntryRow } from '../storage/entries-repo.ts';
import type { Database } from '../storage/schema.ts';
import { getNodes, getTileBytes, nodeKey } from '../storage/tree-repo.ts';

export type { CheckpointRow };

function badRequest(message: string): AccordError {
  return new AccordError('LOG_BAD_PROOF_REQUEST', message);
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

export class StoredLogReader {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  /** The checkpoint the registry serves: the largest stored one (undefined for an empty log). */
  latestCheckpoint(): Promise<CheckpointRow | undefined> {
    return getLatestCheckpoint(this.#db);
  }

  /** A stored checkpoint of exactly this size (one per committed batch), if any. */
  checkpointAt(size: number): Promise<CheckpointRow | undefined> {
    return getCheckpointBySize(this.#db, size);
  }

  /** The size of the latest checkpoint (0 for an empty log). */
  size(): Promise<number> {
    return getLatestCheckpointSize(this.#db);
  }

  entry(index: number): Promise<EntryRow | undefined> {
    return getEntry(this.#db, index);
  }

  /**
   * A tlog-tiles resource by its path relative to the log prefix (`tile/0/x001/234`,
   * `tile/entries/000.p/5`). Null when it does not exist at the latest checkpoint's size, and for
   * paths that name no tile. A partial tile of width W is served whenever the tree has at least W
   * hashes in that tile (it is a prefix of what the full tile will be; tlog-tiles "Partial Tiles").
   */
  async readTile(path: string): Promise<Uint8Array | null> {
    let tile: TileRef;
    try {
      tile = parseTilePath(path);
    } catch {
      return null;
    }
    const size = await this.size();
    const level = tile.kind === 'entries' ? 0 : (tile.level as number);
    if (tile.width > tileWidth(level, tile.index, size)) return null;
    const start = tile.index * TILE_WIDTH;
    const end = start + tile.width;
    if (tile.kind === 'entries') {
      const entries = await getEntryBytesRange(this.#db, start, end);
      if (entries.length !== tile.width) throw this.#missing(`entries ${start}..${end - 1}`, size);
      return encodeEntryBundle(entries);
    }
    // A level-L tile holds the hashes of merkle level 8L (tlog-tiles "Merkle Tree").
    const bytes = await getTileBytes(this.#db, 8 * level, start, end);
    if (bytes === undefined) throw this.#missing(`tree nodes at level ${8 * level}, ${start}..${end - 1}`, size);
    return bytes;
  }

  #missing(what: string, size: number): AccordError {
    return new AccordError('LOG_STATE_INCONSISTENT', `storage lacks ${what}, which the checkpoint of size ${size} covers`);
  }

  async #loadNodes(ids: NodeId[], size: number): Promise<(level: number, index: number) => Uint8Array> {
    const nodes = await getNodes(this.#db, ids);
    return (level, index) => {
      const h = nodes.get(nodeKey(level, index));
      if (h === undefined) throw this.#missing(`the tree node at level ${level}, index ${index}`, size);
      return h;
    };
  }

  async #checkSize(size: unknown, what: string): Promise<number> {
    const latest = await this.size();
    if (!isCount(size) || size > latest) {
      throw badRequest(`${what} must be a tree size from 0 to the latest checkpoint's ${latest}, got ${describeValue(size)}`);
    }
    return size;
  }

  /** RFC 9162 2.1.3.1 inclusion proof for leaf `index` in the tree of `size` (leaf first). */
  async inclusionProof(index: number, size: number): Promise<Uint8Array[]> {
    await this.#checkSize(size, 'size');
    if (!isCount(index) || index >= size) throw badRequest(`index must be below the size ${size}, got ${describeValue(index)}`);
    return inclusionProof(index, size, await this.#loadNodes(nodesNeededForInclusion(index, size), size));
  }

  /** RFC 9162 2.1.4.1 consistency proof from size m to size n (0 < m <= n <= latest). */
  async consistencyProof(m: number, n: number): Promise<Uint8Array[]> {
    await this.#checkSize(n, 'the new size');
    if (!isCount(m) || m < 1 || m > n) throw badRequest(`the old size must be from 1 to the new size ${n}, got ${describeValue(m)}`);
    return consistencyProof(m, n, await this.#loadNodes(nodesNeededForConsistency(m, n), n));
  }

  /** RFC 9162 2.1.1 root of the tree of `size` leaves, from its O(log n) cover nodes. */
  async rootAt(size: number): Promise<Uint8Array> {
    await this.#checkSize(size, 'size');
    return treeRoot(size, await this.#loadNodes(subtreeCover(size), size));
  }

  /**
   * C2SP tlog-proof text for entry `index` against the latest checkpoint (DESIGN 7
   * `/api/v1/entries/:index/proof`); LOG_ENTRY_NOT_FOUND if the log does not hold it.
   */
  async tlogProof(index: number): Promise<string> {
    const latest = await this.latestCheckpoint();
    if (latest === undefined || !isCount(index) || index >= latest.size) {
      throw new AccordError('LOG_ENTRY_NOT_FOUND', `the log has no entry ${describeValue(index)} (size ${latest?.size ?? 0})`);
    }
    const proof = inclusionProof(index, latest.size, await this.#loadNodes(nodesNeededForInclusion(index, latest.size), latest.size));
    return formatTlogProof({ index, proof, checkpoint: latest.note });
  }

  /**
   * A TileFetcher (src/core/log/tile-reader.ts) over this storage, so the auditor can read our
   * own log exactly as it reads one over HTTP: `checkpoint` and `tile/...` paths.
   */
  tileFetcher(): TileFetcher {
    return async (path) => {
      if (path === 'checkpoint') {
        const latest = await this.latestCheckpoint();
        return latest === undefined ? null : utf8(latest.note);
      }
      return this.readTile(path);
    };
  }
}

export function createLogReader(db: Kysely<Database>): StoredLogReader {
  return new StoredLogReader(db);
}
