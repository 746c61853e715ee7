/**
 * Writes and reads registry mirrors (DESIGN 8 layout: `.well-known/accord-registry.json`,
 * `log/checkpoint`, `log/tile/<L>/<N>[.p/<W>]`, `log/tile/entries/<N>[.p/<W>]`) for tests: from a
 * list of entry bytes and a log key, or back from a directory (e.g. a copy of a vector mirror to
 * tamper with). Uses the project's own tiles, Merkle and checkpoint code.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromUtf8 } from '../../src/core/bytes.ts';
import { parseCheckpoint, signCheckpoint } from '../../src/core/log/checkpoint.ts';
import { MerkleAccumulator, leafHash } from '../../src/core/log/merkle.ts';
import { makeVerifierKey, parseNote } from '../../src/core/log/note.ts';
import { TILE_WIDTH, decodeEntryBundle, encodeEntryBundle, encodeHashTile, entriesPath, tilePath, tilesForSize } from '../../src/core/log/tiles.ts';
import type { KeyPair } from '../../src/core/crypto/ed25519.ts';

export interface MirrorKeys {
  /** Origin line and log key name, e.g. `test.example/log`. */
  origin: string;
  logKey: KeyPair;
  /** did:key of the attestation key, published in the well-known file. */
  attestationDid: string;
}

export interface WrittenMirror {
  /** Signed-note verifier key of the log key. */
  logKey: string;
  /** The signed checkpoint note. */
  checkpoint: string;
  root: Uint8Array;
  size: number;
}

/**
 * Every tile of a log holding `entries` (tlog-tiles): path relative to `log/` -> bytes. Level-L
 * tiles hold the tree nodes of height 8L, so they are collected from the accumulator as it builds.
 */
export function buildTiles(entries: Uint8Array[]): { tiles: Map<string, Uint8Array>; root: Uint8Array } {
  const acc = new MerkleAccumulator();
  const levels: Uint8Array[][] = [];
  for (const e of entries) {
    for (const node of acc.push(leafHash(e))) {
      if (node.level % 8 !== 0) continue;
      const level = node.level / 8;
      (levels[level] ??= [])[node.index] = node.hash;
    }
  }
  const tiles = new Map<string, Uint8Array>();
  for (const t of tilesForSize(entries.length)) {
    const from = t.index * TILE_WIDTH;
    if (t.kind === 'entries') {
      tiles.set(entriesPath(t.index, t.width), encodeEntryBundle(entries.slice(from, from + t.width)));
    } else {
      const level = t.level as number;
      tiles.set(tilePath(level, t.index, t.width), encodeHashTile((levels[level] ?? []).slice(from, from + t.width)));
    }
  }
  return { tiles, root: acc.root() };
}

export async function writeFileAt(root: string, relPath: string, bytes: Uint8Array | string): Promise<void> {
  const file = join(root, ...relPath.split('/'));
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, bytes);
}

/** Writes the tiles of `entries` under `dir/log/` (and nothing else). Returns the tree root. */
export async function writeTiles(dir: string, entries: Uint8Array[]): Promise<Uint8Array> {
  const { tiles, root } = buildTiles(entries);
  for (const [path, bytes] of tiles) await writeFileAt(dir, `log/${path}`, bytes);
  return root;
}

export function wellKnownJson(keys: MirrorKeys): string {
  return `${JSON.stringify({ origin: keys.origin, logKey: makeVerifierKey(keys.origin, keys.logKey.publicKey), attestationKey: keys.attestationDid }, null, 2)}\n`;
}

/**
 * A complete mirror of a log of `entries`: tiles, a checkpoint signed by the log key and the
 * well-known file. `checkpoint` overrides what is signed (e.g. a wrong root or size for tests).
 */
export async function writeMirror(
  dir: string,
  entries: Uint8Array[],
  keys: MirrorKeys,
  checkpoint?: { size?: number; root?: Uint8Array },
): Promise<WrittenMirror> {
  const treeRoot = await writeTiles(dir, entries);
  const size = checkpoint?.size ?? entries.length;
  const root = checkpoint?.root ?? treeRoot;
  const note = signCheckpoint({ origin: keys.origin, size, root }, keys.logKey.secretKey);
  await writeFileAt(dir, 'log/checkpoint', note);
  await writeFileAt(dir, '.well-known/accord-registry.json', wellKnownJson(keys));
  return { logKey: makeVerifierKey(keys.origin, keys.logKey.publicKey), checkpoint: note, root, size };
}

/** Reads a mirror back: its checkpoint note, size and every entry (from the entry bundles). */
export async function readMirror(dir: string): Promise<{ checkpoint: string; size: number; entries: Uint8Array[] }> {
  const checkpoint = await readFile(join(dir, 'log', 'checkpoint'), 'utf8');
  const size = parseCheckpoint(parseNote(checkpoint).text).size;
  const entries: Uint8Array[] = [];
  for (const t of tilesForSize(size)) {
    if (t.kind !== 'entries') continue;
    const bytes = await readFile(join(dir, 'log', ...entriesPath(t.index, t.width).split('/')));
    entries.push(...decodeEntryBundle(new Uint8Array(bytes)));
  }
  return { checkpoint, size, entries };
}

/** The registry mirrors of ../shared/vectors, written by another implementation of DESIGN.md. */
export const VECTOR_MIRRORS = ['genesis', 'variants', 'large'] as const;

/** Every entry of every vector mirror, in log order, mirror after mirror. */
export async function vectorMirrorEntries(): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (const name of VECTOR_MIRRORS) {
    out.push(...(await readMirror(fileURLToPath(new URL(`../../../shared/vectors/registry-mirrors/${name}/`, import.meta.url)))).entries);
  }
  return out;
}

/** The text of entry bytes (for building tampered variants). */
export function entryText(entry: Uint8Array): string {
  return fromUtf8(entry);
}
