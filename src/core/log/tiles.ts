/**
 * C2SP tlog-tiles (https://c2sp.org/tlog-tiles): tile paths, entry bundles, hash tiles and which
 * tiles a log of a given size publishes (DESIGN section 5). Pure: no I/O.
 */
import { AccordError, describeValue } from '../errors.ts';

/** tlog-tiles "Merkle Tree": full tiles are 256 hashes wide. */
export const TILE_WIDTH = 256;
/** tlog-tiles: tile levels are 0 to 63. */
export const MAX_TILE_LEVEL = 63;
/** tlog-tiles "Log entries": entries are uint16 length-prefixed. */
export const MAX_ENTRY_BYTES = 0xffff;
const HASH_SIZE = 32;

export interface TileRef {
  kind: 'hash' | 'entries';
  /** Present for hash tiles; entry bundles have none. */
  level?: number;
  index: number;
  /** 1..256; 256 is a full tile (no `.p/` suffix). */
  width: number;
}

function badPath(why: string, path?: unknown): AccordError {
  return new AccordError('TILE_BAD_PATH', path === undefined ? why : `${why}: ${describeValue(path)}`);
}

function checkIndex(index: unknown): number {
  if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0) {
    throw badPath(`a tile index is a non-negative safe integer, got ${describeValue(index)}`);
  }
  return index;
}

function checkLevel(level: unknown): number {
  if (typeof level !== 'number' || !Number.isInteger(level) || level < 0 || level > MAX_TILE_LEVEL) {
    throw badPath(`a tile level is an integer from 0 to ${MAX_TILE_LEVEL}, got ${describeValue(level)}`);
  }
  return level;
}

function checkWidth(width: unknown): number {
  if (typeof width !== 'number' || !Number.isInteger(width) || width < 1 || width > TILE_WIDTH) {
    throw badPath(`a tile width is an integer from 1 to ${TILE_WIDTH}, got ${describeValue(width)}`);
  }
  return width;
}

/** tlog-tiles: N in zero-padded 3-digit path elements, all but the last prefixed with `x`. */
function encodeIndex(index: number): string {
  let digits = String(index);
  digits = digits.padStart(Math.ceil(digits.length / 3) * 3, '0');
  const groups: string[] = [];
  for (let i = 0; i < digits.length; i += 3) groups.push(digits.slice(i, i + 3));
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

function suffix(width: number): string {
  return width === TILE_WIDTH ? '' : `.p/${width}`;
}

/** `tile/<L>/<N>[.p/<W>]` */
export function tilePath(level: number, index: number, width: number = TILE_WIDTH): string {
  return `tile/${checkLevel(level)}/${encodeIndex(checkIndex(index))}${suffix(checkWidth(width))}`;
}

/** `tile/entries/<N>[.p/<W>]` */
export function entriesPath(index: number, width: number = TILE_WIDTH): string {
  return `tile/entries/${encodeIndex(checkIndex(index))}${suffix(checkWidth(width))}`;
}

/** The path of a tile reference. */
export function pathOf(tile: TileRef): string {
  return tile.kind === 'entries' ? entriesPath(tile.index, tile.width) : tilePath(tile.level as number, tile.index, tile.width);
}

const PATH_RE = /^tile\/(entries|0|[1-9][0-9]?)\/((?:x[0-9]{3}\/){0,5}[0-9]{3})(?:\.p\/([1-9][0-9]{0,2}))?$/;

/**
 * Parses a path relative to the log prefix (`tile/...`). Strict: only the canonical encoding is
 * accepted (no extra leading groups, no `.p/256`, no width 0, level at most 63).
 */
export function parseTilePath(path: string): TileRef {
  if (typeof path !== 'string' || path.length > 64) throw badPath('not a tile path', path);
  const m = PATH_RE.exec(path);
  if (m === null) throw badPath('not a tile path of the form tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>]', path);
  const [, levelText, indexText, widthText] = m as unknown as [string, string, string, string | undefined];
  const index = Number(indexText.replace(/x|\//g, ''));
  const width = widthText === undefined ? TILE_WIDTH : Number(widthText);
  if (widthText !== undefined && width >= TILE_WIDTH) throw badPath('a partial tile has width 1 to 255', path);
  const tile: TileRef =
    levelText === 'entries' ? { kind: 'entries', index, width } : { kind: 'hash', level: Number(levelText), index, width };
  if (tile.level !== undefined && tile.level > MAX_TILE_LEVEL) throw badPath(`a tile level is at most ${MAX_TILE_LEVEL}`, path);
  // Canonical form only: re-encoding must give the same path (refuses `x000/` leading groups).
  if (pathOf(tile) !== path) throw badPath('not the canonical encoding of that tile', path);
  return tile;
}

// ---------------------------------------------------------------------------------------------
// Entry bundles and hash tiles.

function badBundle(why: string): AccordError {
  return new AccordError('TILE_BAD_BUNDLE', `bad entry bundle: ${why}`);
}

/** tlog-tiles "Log entries": big-endian uint16 length-prefixed entries, at most 256 per bundle. */
export function encodeEntryBundle(entries: Uint8Array[]): Uint8Array {
  if (!Array.isArray(entries) || entries.length === 0 || entries.length > TILE_WIDTH) {
    throw badBundle(`a bundle holds 1 to ${TILE_WIDTH} entries, got ${Array.isArray(entries) ? entries.length : describeValue(entries)}`);
  }
  let n = 0;
  for (const [i, e] of entries.entries()) {
    if (!(e instanceof Uint8Array)) throw badBundle(`entry ${i} is not bytes`);
    if (e.length > MAX_ENTRY_BYTES) throw badBundle(`entry ${i} is ${e.length} bytes, more than ${MAX_ENTRY_BYTES}`);
    n += 2 + e.length;
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const e of entries) {
    out[o] = e.length >> 8;
    out[o + 1] = e.length & 0xff;
    out.set(e, o + 2);
    o += 2 + e.length;
  }
  return out;
}

/** Decodes an entry bundle; refuses truncation, trailing bytes and more than 256 entries. */
export function decodeEntryBundle(bytes: Uint8Array): Uint8Array[] {
  if (!(bytes instanceof Uint8Array)) throw badBundle(`expected bytes, got ${describeValue(bytes)}`);
  const entries: Uint8Array[] = [];
  let o = 0;
  while (o < bytes.length) {
    if (entries.length === TILE_WIDTH) throw badBundle(`more than ${TILE_WIDTH} entries (${bytes.length - o} trailing bytes)`);
    if (o + 2 > bytes.length) throw badBundle(`truncated length prefix of entry ${entries.length} at byte ${o}`);
    const len = ((bytes[o] as number) << 8) | (bytes[o + 1] as number);
    if (o + 2 + len > bytes.length) throw badBundle(`entry ${entries.length} claims ${len} bytes but only ${bytes.length - o - 2} remain`);
    entries.push(bytes.slice(o + 2, o + 2 + len));
    o += 2 + len;
  }
  if (entries.length === 0) throw badBundle('empty (an empty tile is never served)');
  return entries;
}

function badHashTile(why: string): AccordError {
  return new AccordError('TILE_BAD_HASH_TILE', `bad hash tile: ${why}`);
}

/** Concatenated 32-byte hashes, 1 to 256 of them. */
export function encodeHashTile(hashes: Uint8Array[]): Uint8Array {
  if (!Array.isArray(hashes) || hashes.length === 0 || hashes.length > TILE_WIDTH) {
    throw badHashTile(`a tile holds 1 to ${TILE_WIDTH} hashes, got ${Array.isArray(hashes) ? hashes.length : describeValue(hashes)}`);
  }
  const out = new Uint8Array(hashes.length * HASH_SIZE);
  for (const [i, h] of hashes.entries()) {
    if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) throw badHashTile(`hash ${i} is not 32 bytes: ${describeValue(h)}`);
    out.set(h, i * HASH_SIZE);
  }
  return out;
}

/** Splits a hash tile into its hashes; with `width`, the tile must hold exactly that many. */
export function decodeHashTile(bytes: Uint8Array, width?: number): Uint8Array[] {
  if (!(bytes instanceof Uint8Array)) throw badHashTile(`expected bytes, got ${describeValue(bytes)}`);
  if (bytes.length === 0 || bytes.length % HASH_SIZE !== 0 || bytes.length > TILE_WIDTH * HASH_SIZE) {
    throw badHashTile(`${bytes.length} bytes is not 1 to ${TILE_WIDTH} hashes of 32 bytes`);
  }
  const n = bytes.length / HASH_SIZE;
  if (width !== undefined && n !== width) throw badHashTile(`expected ${width} hashes, got ${n}`);
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) out.push(bytes.slice(i * HASH_SIZE, (i + 1) * HASH_SIZE));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Which tiles exist.

function checkSize(size: unknown): number {
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new AccordError('TILE_BAD_SIZE', `a tree size is a non-negative safe integer, got ${describeValue(size)}`);
  }
  return size;
}

/** 256^level as a number (exact up to the levels a safe-integer tree can reach). */
function leavesPerHash(level: number): number {
  return TILE_WIDTH ** level;
}

/**
 * The width of tile (level, index) in a tree of `size` leaves: 256 if full, the partial width
 * `floor(size / 256^level) mod 256` for the rightmost tile, 0 if the tile does not exist.
 */
export function tileWidth(level: number, index: number, size: number): number {
  checkLevel(level);
  checkIndex(index);
  checkSize(size);
  const hashes = Math.floor(size / leavesPerHash(level)); // complete level-`level` hashes
  const full = Math.floor(hashes / TILE_WIDTH);
  if (index < full) return TILE_WIDTH;
  if (index === full) return hashes % TILE_WIDTH;
  return 0;
}

/**
 * Every tile a log of `size` publishes (tlog-tiles "Partial Tiles"): per level from 0 up, its full
 * tiles then its partial tile, followed by the entry bundles (same coordinates as level 0).
 */
export function tilesForSize(size: number): TileRef[] {
  checkSize(size);
  const hashTiles: TileRef[] = [];
  const bundles: TileRef[] = [];
  for (let level = 0; level <= MAX_TILE_LEVEL; level++) {
    const hashes = Math.floor(size / leavesPerHash(level));
    if (hashes === 0) break;
    const full = Math.floor(hashes / TILE_WIDTH);
    const widths: number[] = Array.from({ length: full }, () => TILE_WIDTH);
    if (hashes % TILE_WIDTH !== 0) widths.push(hashes % TILE_WIDTH);
    for (const [index, width] of widths.entries()) {
      hashTiles.push({ kind: 'hash', level, index, width });
      if (level === 0) bundles.push({ kind: 'entries', index, width });
    }
  }
  return [...hashTiles, ...bundles];
}

/** Where leaf `index` sits: level-0 tile (and entry bundle) `tile`, position `offset` in it. */
export function tileCoordsForLeaf(index: number): { level: 0; tile: number; offset: number } {
  checkIndex(index);
  return { level: 0, tile: Math.floor(index / TILE_WIDTH), offset: index % TILE_WIDTH };
}
