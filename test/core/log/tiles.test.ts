import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeEntryBundle,
  decodeHashTile,
  encodeEntryBundle,
  encodeHashTile,
  entriesPath,
  parseTilePath,
  pathOf,
  TILE_WIDTH,
  tileCoordsForLeaf,
  tilePath,
  tilesForSize,
  tileWidth,
} from '../../../src/core/log/tiles.ts';
import { VECTORS_DIR } from './fixtures.ts';
import { codeOf } from '../../helpers/errors.ts';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe('tilePath and entriesPath', () => {
  it('encode the tlog-tiles spec example index 1234067 as x001/x234/067', () => {
    expect(tilePath(1, 1234067, 8)).toBe('tile/1/x001/x234/067.p/8');
    expect(tilePath(1, 1234067)).toBe('tile/1/x001/x234/067');
    expect(entriesPath(1234067)).toBe('tile/entries/x001/x234/067');
    expect(entriesPath(1234067, 255)).toBe('tile/entries/x001/x234/067.p/255');
  });

  it('pad small indexes to three digits and omit the suffix for full tiles', () => {
    expect(tilePath(0, 0)).toBe('tile/0/000');
    expect(tilePath(0, 5, 3)).toBe('tile/0/005.p/3');
    expect(tilePath(63, 1000, 256)).toBe('tile/63/x001/000');
    expect(entriesPath(999)).toBe('tile/entries/999');
  });

  it('refuse a level above 63, a width of 0 or above 256, a negative index', () => {
    expect(codeOf(() => tilePath(64, 0))).toBe('TILE_BAD_PATH');
    expect(codeOf(() => tilePath(0, 0, 0))).toBe('TILE_BAD_PATH');
    expect(codeOf(() => tilePath(0, 0, 257))).toBe('TILE_BAD_PATH');
    expect(codeOf(() => entriesPath(-1))).toBe('TILE_BAD_PATH');
    expect(codeOf(() => entriesPath(1.5))).toBe('TILE_BAD_PATH');
  });
});

describe('parseTilePath', () => {
  it('parses the spec example', () => {
    expect(parseTilePath('tile/1/x001/x234/067.p/8')).toEqual({ kind: 'hash', level: 1, index: 1234067, width: 8 });
    expect(parseTilePath('tile/entries/x001/x234/067')).toEqual({ kind: 'entries', index: 1234067, width: 256 });
  });

  it('round-trips every canonical path', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.integer({ min: 0, max: 63 }), fc.maxSafeNat(), fc.integer({ min: 1, max: 256 }), (entries, level, index, width) => {
        const path = entries ? entriesPath(index, width) : tilePath(level, index, width);
        const tile = parseTilePath(path);
        expect(pathOf(tile)).toBe(path);
        expect(tile.index).toBe(index);
        expect(tile.width).toBe(width);
      }),
    );
  });

  const bad = [
    'tile/0/000.p/256',
    'tile/0/000.p/0',
    'tile/0/000.p/08',
    'tile/0/000.p/',
    'tile/01/000',
    'tile/64/000',
    'tile/0/x000/005',
    'tile/0/5',
    'tile/0/0005',
    'tile/0/x001',
    'tile/0/001/002',
    'tile/0/000/',
    '/tile/0/000',
    'tile/0/000.p/3/',
    'tile/entries/000.p/256',
    'tile/entry/000',
    'tile/-1/000',
    'tile/0/x009/x007/x199/x254/x740/993',
    '',
  ];
  for (const path of bad) {
    it(`refuses ${JSON.stringify(path)} with TILE_BAD_PATH`, () => {
      expect(codeOf(() => parseTilePath(path))).toBe('TILE_BAD_PATH');
    });
  }
});

describe('entry bundles', () => {
  it('round-trip any entries up to 65,535 bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 40 }), (entries) => {
        const bytes = encodeEntryBundle(entries);
        expect(bytes.length).toBe(entries.reduce((n, e) => n + 2 + e.length, 0));
        expect(decodeEntryBundle(bytes)).toEqual(entries);
      }),
      { numRuns: 50 },
    );
    const big = new Uint8Array(0xffff).fill(9);
    expect(decodeEntryBundle(encodeEntryBundle([big]))).toEqual([big]);
  });

  it('use big-endian uint16 length prefixes', () => {
    expect(Array.from(encodeEntryBundle([new Uint8Array([7]), new Uint8Array(258)]).slice(0, 5))).toEqual([0, 1, 7, 1, 2]);
  });

  const bundle = encodeEntryBundle([new Uint8Array([1, 2, 3]), new Uint8Array([4])]);
  const bad: Array<[string, Uint8Array]> = [
    ['is cut inside an entry', bundle.slice(0, -1)],
    ['is cut inside a length prefix', bundle.slice(0, 6)],
    ['has a trailing byte', new Uint8Array([...bundle, 0])],
    ['is empty', new Uint8Array(0)],
    ['holds 257 entries', new Uint8Array(257 * 2)],
  ];
  for (const [why, bytes] of bad) {
    it(`refuses a bundle that ${why} with TILE_BAD_BUNDLE`, () => {
      expect(codeOf(() => decodeEntryBundle(bytes))).toBe('TILE_BAD_BUNDLE');
    });
  }

  it('refuses to encode an entry over 65,535 bytes or more than 256 entries', () => {
    expect(codeOf(() => encodeEntryBundle([new Uint8Array(0x10000)]))).toBe('TILE_BAD_BUNDLE');
    expect(codeOf(() => encodeEntryBundle(Array.from({ length: 257 }, () => new Uint8Array(1))))).toBe('TILE_BAD_BUNDLE');
  });
});

describe('hash tiles', () => {
  it('round-trip 1 to 256 hashes', () => {
    const hashes = Array.from({ length: 256 }, (_, i) => new Uint8Array(32).fill(i));
    expect(decodeHashTile(encodeHashTile(hashes))).toEqual(hashes);
    expect(decodeHashTile(encodeHashTile(hashes.slice(0, 3)), 3)).toHaveLength(3);
  });

  it('refuse a length that is not a multiple of 32, an empty tile, a wrong width', () => {
    expect(codeOf(() => decodeHashTile(new Uint8Array(33)))).toBe('TILE_BAD_HASH_TILE');
    expect(codeOf(() => decodeHashTile(new Uint8Array(0)))).toBe('TILE_BAD_HASH_TILE');
    expect(codeOf(() => decodeHashTile(new Uint8Array(257 * 32)))).toBe('TILE_BAD_HASH_TILE');
    expect(codeOf(() => decodeHashTile(new Uint8Array(64), 3))).toBe('TILE_BAD_HASH_TILE');
    expect(codeOf(() => encodeHashTile([new Uint8Array(31)]))).toBe('TILE_BAD_HASH_TILE');
  });
});

describe('tilesForSize', () => {
  const summary = (size: number): string[] =>
    tilesForSize(size)
      .filter((t) => t.kind === 'hash')
      .map((t) => `${t.level}:${t.index}:${t.width}`);

  it('matches the spec example for size 70,000', () => {
    const tiles = tilesForSize(70000).filter((t) => t.kind === 'hash');
    const level0 = tiles.filter((t) => t.level === 0);
    expect(level0.filter((t) => t.width === TILE_WIDTH)).toHaveLength(273);
    expect(level0.filter((t) => t.width !== TILE_WIDTH).map((t) => t.width)).toEqual([112]);
    expect(summary(70000).filter((s) => !s.startsWith('0:'))).toEqual(['1:0:256', '1:1:17', '2:0:1']);
  });

  it('gives a full level-0 tile and a partial level-1 tile of width 1 for size 256', () => {
    expect(summary(256)).toEqual(['0:0:256', '1:0:1']);
    expect(tilesForSize(0)).toEqual([]);
  });

  it('lists exactly the files of the 765-entry registry mirror', () => {
    const dir = join(VECTORS_DIR, 'registry-mirrors', 'large', 'log');
    const files = filesUnder(join(dir, 'tile')).map((f) => relative(dir, f)).sort();
    expect(tilesForSize(765).map(pathOf).sort()).toEqual(files);
  });

  it('agrees with tileWidth', () => {
    for (const t of tilesForSize(70000)) {
      if (t.kind === 'hash') expect(tileWidth(t.level as number, t.index, 70000)).toBe(t.width);
    }
    expect(tileWidth(0, 274, 70000)).toBe(0);
    expect(tileWidth(0, 2, 512)).toBe(0);
  });
});

describe('tileCoordsForLeaf', () => {
  it('names the level-0 tile and the offset in it', () => {
    expect(tileCoordsForLeaf(0)).toEqual({ level: 0, tile: 0, offset: 0 });
    expect(tileCoordsForLeaf(513)).toEqual({ level: 0, tile: 2, offset: 1 });
  });
});
