/**
 * Reading a C2SP tlog-tiles log (https://c2sp.org/tlog-tiles) through any fetcher: HTTP, a mirror
 * directory, storage. Pure: the fetcher does the I/O. Memory stays flat: the log is streamed one
 * entry bundle (and its level-0 hash tile) at a time, with a small read-ahead.
 */
import { bytesEqual } from '../bytes.ts';
import { AccordError, isAccordError } from '../errors.ts';
import { emptyRoot, leafHash as hashLeaf, MerkleAccumulator, rootFromLeafHashes, subtreeCover } from './merkle.ts';
import { decodeEntryBundle, decodeHashTile, entriesPath, TILE_WIDTH, tilePath, tileWidth } from './tiles.ts';

/** Fetches a path relative to the log prefix (e.g. `tile/0/000.p/5`); null when it does not exist (404). */
export type TileFetcher = (path: string) => Promise<Uint8Array | null>;

export interface LogRecord {
  index: number;
  /** The logged bytes. */
  entry: Uint8Array;
  /** RFC 6962 leaf hash of `entry`. */
  leafHash: Uint8Array;
  /** The hash at this entry's place in the level-0 tile. */
  tileHash: Uint8Array;
  /** Whether `leafHash` equals `tileHash`; false names a damaged entry or tile. */
  matchesTile: boolean;
}

export interface ReadLogOptions {
  /** How many bundles (with their hash tiles) to fetch ahead of the one being read; default 2. */
  readAhead?: number;
}

function checkSize(size: unknown): number {
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new AccordError('TILE_BAD_SIZE', `a tree size is a non-negative safe integer, got ${String(size)}`);
  }
  return size;
}

/** Attaches the path and first leaf index to a decoding error so an auditor can name the place. */
function withPlace(e: unknown, path: string, index: number): unknown {
  if (e instanceof AccordError && e.details === undefined) {
    return new AccordError(e.code, `${path}: ${e.message}`, { cause: e, details: { path, index } });
  }
  return e;
}

/**
 * Fetches the tile of `width` at `partialOrFull`; a missing partial tile falls back to the full
 * tile (tlog-tiles "Partial Tiles": logs MAY delete a partial tile once the full one exists).
 */
async function fetchTile(fetcher: TileFetcher, fullPath: string, path: string, firstLeaf: number): Promise<{ bytes: Uint8Array; path: string; full: boolean }> {
  const bytes = await fetcher(path);
  if (bytes !== null) return { bytes, path, full: path === fullPath };
  if (path !== fullPath) {
    const full = await fetcher(fullPath);
    if (full !== null) return { bytes: full, path: fullPath, full: true };
  }
  throw new AccordError('TILE_MISSING', `${path} is missing from the log`, { details: { path, index: firstLeaf } });
}

/** The `width` hashes of hash tile (level, index), validated. */
export async function readTileHashes(fetcher: TileFetcher, level: number, index: number, width: number): Promise<Uint8Array[]> {
  const fullPath = tilePath(level, index);
  const path = tilePath(level, index, width);
  const firstLeaf = index * TILE_WIDTH ** (level + 1);
  const got = await fetchTile(fetcher, fullPath, path, firstLeaf);
  try {
    return decodeHashTile(got.bytes, got.full ? TILE_WIDTH : width).slice(0, width);
  } catch (e) {
    throw withPlace(e, got.path, firstLeaf);
  }
}

/** The `width` entries of entry bundle `index`, validated. */
export async function readEntryBundle(fetcher: TileFetcher, index: number, width: number): Promise<Uint8Array[]> {
  const fullPath = entriesPath(index);
  const path = entriesPath(index, width);
  const firstLeaf = index * TILE_WIDTH;
  const got = await fetchTile(fetcher, fullPath, path, firstLeaf);
  let entries: Uint8Array[];
  try {
    entries = decodeEntryBundle(got.bytes);
  } catch (e) {
    throw withPlace(e, got.path, firstLeaf);
  }
  const want = got.full ? TILE_WIDTH : width;
  if (entries.length !== want) {
    throw new AccordError('TILE_BAD_BUNDLE', `${got.path}: expected ${want} entries, got ${entries.length}`, { details: { path: got.path, index: firstLeaf + Math.min(entries.length, want) } });
  }
  return entries.slice(0, width);
}

/**
 * Streams a log of `size` entries in order. Each record carries the entry, its leaf hash and the
 * hash at its place in the level-0 tile, so the caller names a damaged entry by its index. After a
 * complete iteration, `root()` is the RFC 6962 root of every entry read: comparing it with the
 * checkpoint binds the entries (and the level-0 tiles they matched) to the signed root.
 *
 * A missing tile or bundle (TILE_MISSING) or a malformed one (TILE_BAD_BUNDLE, TILE_BAD_HASH_TILE)
 * ends the iteration with an AccordError whose details carry `{ path, index }`.
 */
export class LogReader implements AsyncIterable<LogRecord> {
  readonly size: number;
  readonly #fetcher: TileFetcher;
  readonly #readAhead: number;
  #acc = new MerkleAccumulator();

  constructor(fetcher: TileFetcher, size: number, opts: ReadLogOptions = {}) {
    this.size = checkSize(size);
    this.#fetcher = fetcher;
    const ahead = opts.readAhead ?? 2;
    this.#readAhead = Number.isInteger(ahead) && ahead >= 0 ? Math.min(ahead, 16) : 2;
  }

  #loadBundle(tile: number): Promise<[Uint8Array[], Uint8Array[]]> {
    const width = tileWidth(0, tile, this.size);
    const p = Promise.all([readEntryBundle(this.#fetcher, tile, width), readTileHashes(this.#fetcher, 0, tile, width)]);
    // Marks the promise handled so a read-ahead that fails after the consumer stopped is not an
    // unhandled rejection; awaiting `p` still throws.
    p.catch(() => undefined);
    return p;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<LogRecord, void, undefined> {
    this.#acc = new MerkleAccumulator();
    const tiles = Math.ceil(this.size / TILE_WIDTH);
    const pending: Promise<[Uint8Array[], Uint8Array[]]>[] = [];
    let next = 0;
    for (let t = 0; t < tiles; t++) {
      while (next < tiles && next <= t + this.#readAhead) pending.push(this.#loadBundle(next++));
      const [entries, hashes] = await (pending.shift() as Promise<[Uint8Array[], Uint8Array[]]>);
      for (const [j, entry] of entries.entries()) {
        const index = t * TILE_WIDTH + j;
        const leafHash = hashLeaf(entry);
        const tileHash = hashes[j] as Uint8Array;
        this.#acc.push(leafHash);
        yield { index, entry, leafHash, tileHash, matchesTile: bytesEqual(leafHash, tileHash) };
      }
    }
  }

  /** Number of entries read so far in the current iteration. */
  get count(): number {
    return this.#acc.size;
  }

  /** RFC 6962 root of the entries read; only after every entry was read. */
  root(): Uint8Array {
    if (this.#acc.size !== this.size) {
      throw new AccordError('LOG_READ_INCOMPLETE', `only ${this.#acc.size} of ${this.size} entries have been read`);
    }
    return this.#acc.root();
  }
}

/** Streams the entries of a log of `size` (see LogReader): `for await (const r of readLog(f, n)) ...`. */
export function readLog(fetcher: TileFetcher, size: number, opts?: ReadLogOptions): LogReader {
  return new LogReader(fetcher, size, opts);
}

/**
 * The root of a log of `size` entries from its hash tiles, reading each complete subtree of the
 * tree's cover from the highest tile level that holds it (a level-L tile holds hashes of subtrees
 * of height 8L): O(log size) tiles, no entries. If a tile above level 0 is missing (a log may keep
 * only some partial tiles), its hashes are recomputed from the full tiles of the level below.
 */
export async function rootFromTiles(fetcher: TileFetcher, size: number): Promise<Uint8Array> {
  checkSize(size);
  if (size === 0) return emptyRoot();
  const tiles = new Map<string, Promise<Uint8Array[]>>();

  // Level-`level` hashes [first, first + count), all within one tile and complete at `size`.
  const hashesAt = async (level: number, first: number, count: number): Promise<Uint8Array[]> => {
    const tile = Math.floor(first / TILE_WIDTH);
    const key = `${level}/${tile}`;
    let p = tiles.get(key);
    if (p === undefined) {
      p = readTileHashes(fetcher, level, tile, tileWidth(level, tile, size));
      p.catch(() => undefined);
      tiles.set(key, p);
    }
    const offset = first % TILE_WIDTH;
    try {
      return (await p).slice(offset, offset + count);
    } catch (e) {
      if (level === 0 || !isAccordError(e, 'TILE_MISSING')) throw e;
      // Each level-L hash is the root of a full level-(L-1) tile.
      const out: Uint8Array[] = [];
      for (let i = first; i < first + count; i++) out.push(rootFromLeafHashes(await hashesAt(level - 1, i * TILE_WIDTH, TILE_WIDTH)));
      return out;
    }
  };

  const cover: Uint8Array[] = [];
  for (const node of subtreeCover(size)) {
    const level = Math.floor(node.level / 8);
    const span = 2 ** (node.level - 8 * level); // level-`level` hashes under this node (<= 128)
    // A complete subtree over `span` tile hashes: hash them as the leaves of a perfect tree.
    cover.push(rootFromLeafHashes(await hashesAt(level, node.index * span, span)));
  }
  return MerkleAccumulator.fromCover(size, cover).root();
}

/** Whether an error from this module means the log's tiles are missing or damaged (a finding, not a failure to run). */
export function isTileFinding(e: unknown): e is AccordError {
  return ['TILE_MISSING', 'TILE_BAD_BUNDLE', 'TILE_BAD_HASH_TILE'].some((code) => isAccordError(e, code));
}
