import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromUtf8 } from '../../../src/core/bytes.ts';
import { isAccordError } from '../../../src/core/errors.ts';
import type { Checkpoint } from '../../../src/core/log/checkpoint.ts';
import { verifyCheckpoint } from '../../../src/core/log/checkpoint.ts';
import { rootFromLeafHashes } from '../../../src/core/log/merkle.ts';
import type { LogRecord, TileFetcher } from '../../../src/core/log/tile-reader.ts';
import { isTileFinding, readLog, readTileHashes, rootFromTiles } from '../../../src/core/log/tile-reader.ts';
import { dirFetcher, VECTORS_DIR } from './fixtures.ts';

const TESSERA_DIR = join(VECTORS_DIR, 'tessera-log');
const TESSERA_KEY = 'example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx';
const MIRRORS_DIR = join(VECTORS_DIR, 'registry-mirrors');
const HOLDOUT_KEY = 'holdout.accord.example/log+d8761c85+AWrxEOMrpToy6O3mGuYU48K0I0ldpSNZrJ9WNF/7IC6Q';
// Entry i of the tessera test log is the word for i + 1, spelled as in its source (vectors/README.md).
const TESSERA_WORDS = ['one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eit', 'nain', 'ten', 'ileven', 'twelf', 'threeten', 'fourten', 'fivten'];

async function readAll(fetcher: TileFetcher, size: number): Promise<{ records: LogRecord[]; root: Uint8Array }> {
  const reader = readLog(fetcher, size);
  const records: LogRecord[] = [];
  for await (const r of reader) records.push(r);
  return { records, root: reader.root() };
}

function checkpointOf(dir: string, name: string, key: string): Checkpoint {
  return verifyCheckpoint(readFileSync(join(dir, name), 'utf8'), key);
}

describe('the tessera test log', () => {
  const fetcher = dirFetcher(TESSERA_DIR);
  const sizes = Array.from({ length: 16 }, (_, n) => n);

  for (const n of sizes) {
    describe(`at size ${n}`, () => {
      it('has a checkpoint that verifies, whose root the tiles and the entries reproduce', async () => {
        const cp = checkpointOf(TESSERA_DIR, `checkpoint.${n}`, TESSERA_KEY);
        expect(cp.origin).toBe('example.com/log/testdata');
        expect(cp.size).toBe(n);
        expect(await rootFromTiles(fetcher, n)).toEqual(cp.root);
        const { records, root } = await readAll(fetcher, n);
        expect(root).toEqual(cp.root);
        expect(records.map((r) => fromUtf8(r.entry))).toEqual(TESSERA_WORDS.slice(0, n));
        expect(records.map((r) => r.index)).toEqual(sizes.slice(0, n));
        expect(records.every((r) => r.matchesTile)).toBe(true);
      });
    });
  }

  it('has a latest checkpoint of size 15', () => {
    expect(checkpointOf(TESSERA_DIR, 'checkpoint', TESSERA_KEY).size).toBe(15);
  });
});

describe('the registry mirrors', () => {
  for (const [name, size] of [
    ['genesis', 15],
    ['variants', 19],
    ['large', 765],
  ] as const) {
    describe(name, () => {
      const dir = join(MIRRORS_DIR, name, 'log');
      const fetcher = dirFetcher(dir);

      it(`verifies its checkpoint (size ${size}) under the holdout key`, () => {
        const cp = checkpointOf(dir, 'checkpoint', HOLDOUT_KEY);
        expect(cp.origin).toBe('holdout.accord.example/log');
        expect(cp.size).toBe(size);
      });

      it('reads every entry, each matching its level-0 tile, to the signed root', async () => {
        const cp = checkpointOf(dir, 'checkpoint', HOLDOUT_KEY);
        const { records, root } = await readAll(fetcher, cp.size);
        expect(records).toHaveLength(cp.size);
        expect(records.filter((r) => !r.matchesTile).map((r) => r.index)).toEqual([]);
        expect(root).toEqual(cp.root);
        // Entry 0 of every registry log is the first accord (DESIGN section 2).
        const first = JSON.parse(fromUtf8(records[0]!.entry)) as { type: string[] };
        expect(first.type).toEqual(['VerifiableCredential', 'AccordText']);
      });

      it('gives the signed root from its hash tiles', async () => {
        const cp = checkpointOf(dir, 'checkpoint', HOLDOUT_KEY);
        expect(await rootFromTiles(fetcher, cp.size)).toEqual(cp.root);
      });
    });
  }

  describe('large, read at a size whose partial tiles it does not have', () => {
    it('falls back to the full tiles and reads the first entries', async () => {
      const fetcher = dirFetcher(join(MIRRORS_DIR, 'large', 'log'));
      const { records, root } = await readAll(fetcher, 300); // needs tile/0/001.p/44: only 001 exists
      expect(records).toHaveLength(300);
      expect(records.every((r) => r.matchesTile)).toBe(true);
      expect(root).toEqual(rootFromLeafHashes(records.map((r) => r.leafHash)));
      expect(await rootFromTiles(fetcher, 300)).toEqual(root);
    });
  });

  describe('large, read at 512 (two full tiles, one level-1 tile)', () => {
    it('reads the level-1 hashes that the level-0 tiles hash to', async () => {
      const fetcher = dirFetcher(join(MIRRORS_DIR, 'large', 'log'));
      const level1 = await readTileHashes(fetcher, 1, 0, 2);
      const tile0 = await readTileHashes(fetcher, 0, 0, 256);
      expect(level1[0]).toEqual(rootFromLeafHashes(tile0));
    });
  });
});

describe('readLog on a damaged mirror', () => {
  let dir: string;
  let size: number;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'accord-tiles-'));
    await cp(join(MIRRORS_DIR, 'genesis', 'log'), dir, { recursive: true });
    size = checkpointOf(dir, 'checkpoint', HOLDOUT_KEY).size;
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function damage(path: string, f: (b: Uint8Array) => Uint8Array): Promise<() => Promise<void>> {
    const original = new Uint8Array(await readFile(join(dir, path)));
    await rm(join(dir, path), { force: true });
    await writeFile(join(dir, path), f(Uint8Array.from(original)));
    return async () => {
      await rm(join(dir, path), { force: true });
      await writeFile(join(dir, path), original);
    };
  }

  async function codeAndDetails(run: () => Promise<unknown>): Promise<{ code?: string; details?: Record<string, unknown> }> {
    try {
      await run();
    } catch (e) {
      if (!isAccordError(e)) throw e;
      expect(isTileFinding(e)).toBe(true);
      return { code: e.code, details: e.details as Record<string, unknown> };
    }
    return {};
  }

  describe('when one entry has been altered in its bundle', () => {
    it('names that entry by its index, and the root no longer matches', async () => {
      const bundle = 'tile/entries/000.p/15';
      const bytes = new Uint8Array(await readFile(join(dir, bundle)));
      // Find entry 3's bytes and flip one byte in the middle of it.
      let o = 0;
      for (let i = 0; i < 3; i++) o += 2 + ((bytes[o]! << 8) | bytes[o + 1]!);
      const at = o + 2 + 40;
      const restore = await damage(bundle, (b) => {
        b[at] = b[at]! ^ 0x20;
        return b;
      });
      try {
        const { records, root } = await readAll(dirFetcher(dir), size);
        expect(records.filter((r) => !r.matchesTile).map((r) => r.index)).toEqual([3]);
        expect(root).not.toEqual(checkpointOf(dir, 'checkpoint', HOLDOUT_KEY).root);
      } finally {
        await restore();
      }
    });
  });

  describe('when the entry bundle is missing', () => {
    it('fails with TILE_MISSING naming the path and first index', async () => {
      const restore = await damage('tile/entries/000.p/15', (b) => b);
      await rm(join(dir, 'tile/entries/000.p/15'));
      try {
        const got = await codeAndDetails(() => readAll(dirFetcher(dir), size));
        expect(got).toEqual({ code: 'TILE_MISSING', details: { path: 'tile/entries/000.p/15', index: 0 } });
      } finally {
        await restore();
      }
    });
  });

  describe('when the entry bundle is truncated', () => {
    it('fails with TILE_BAD_BUNDLE', async () => {
      const restore = await damage('tile/entries/000.p/15', (b) => b.slice(0, -3));
      try {
        expect((await codeAndDetails(() => readAll(dirFetcher(dir), size))).code).toBe('TILE_BAD_BUNDLE');
      } finally {
        await restore();
      }
    });
  });

  describe('when the level-0 tile has the wrong width', () => {
    it('fails with TILE_BAD_HASH_TILE for the reader and for rootFromTiles', async () => {
      const restore = await damage('tile/0/000.p/15', (b) => b.slice(0, -32));
      try {
        expect((await codeAndDetails(() => readAll(dirFetcher(dir), size))).code).toBe('TILE_BAD_HASH_TILE');
        expect((await codeAndDetails(() => rootFromTiles(dirFetcher(dir), size))).code).toBe('TILE_BAD_HASH_TILE');
      } finally {
        await restore();
      }
    });
  });

  describe('before every entry has been read', () => {
    it('refuses to give a root', async () => {
      const reader = readLog(dirFetcher(dir), size);
      for await (const r of reader) if (r.index === 2) break;
      expect(() => reader.root()).toThrow(/only 3 of 15/);
    });
  });
});
