/**
 * Test fixtures for the log tests: an independent, naive RFC 9162 Merkle tree (the definition,
 * not our streaming code), and a TileFetcher over a directory on the real filesystem.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { concatBytes, sha256 } from '../../../src/core/bytes.ts';
import type { TileFetcher } from '../../../src/core/log/tile-reader.ts';

export const VECTORS_DIR = fileURLToPath(new URL('../../../../shared/vectors/', import.meta.url));

export function h(data: Uint8Array): Uint8Array {
  return sha256(concatBytes(new Uint8Array([0]), data));
}

function hn(l: Uint8Array, r: Uint8Array): Uint8Array {
  return sha256(concatBytes(new Uint8Array([1]), l, r));
}

/** RFC 9162 2.1.1 MTH, recursively, straight from the definition. */
export function referenceRoot(leafHashes: Uint8Array[]): Uint8Array {
  if (leafHashes.length === 0) return sha256(new Uint8Array(0));
  if (leafHashes.length === 1) return leafHashes[0] as Uint8Array;
  let k = 1;
  while (k * 2 < leafHashes.length) k *= 2;
  return hn(referenceRoot(leafHashes.slice(0, k)), referenceRoot(leafHashes.slice(k)));
}

/** Every complete node of a tree, level by level: levels[l][i] covers leaves [i*2^l, (i+1)*2^l). */
export function completeLevels(leafHashes: Uint8Array[]): Uint8Array[][] {
  const levels: Uint8Array[][] = [leafHashes];
  for (;;) {
    const below = levels[levels.length - 1] as Uint8Array[];
    if (below.length < 2) return levels;
    const up: Uint8Array[] = [];
    for (let i = 0; i + 1 < below.length; i += 2) up.push(hn(below[i] as Uint8Array, below[i + 1] as Uint8Array));
    levels.push(up);
  }
}

/** A getNode over completeLevels that fails loudly on a node that does not exist. */
export function nodeGetter(levels: Uint8Array[][]): (level: number, index: number) => Uint8Array {
  return (level, index) => {
    const hash = levels[level]?.[index];
    if (hash === undefined) throw new Error(`test tree has no complete node at level ${level}, index ${index}`);
    return hash;
  };
}

export function leavesOf(n: number, salt = ''): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => h(new TextEncoder().encode(`${salt}leaf ${i}`)));
}

/** A TileFetcher over a log directory (a mirror's `log/`): null when the file does not exist. */
export function dirFetcher(dir: string): TileFetcher {
  return async (path) => {
    try {
      return new Uint8Array(await readFile(join(dir, path)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  };
}
