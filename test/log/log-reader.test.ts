import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesEqual, concatBytes, utf8 } from '../../src/core/bytes.ts';
import { verifyCheckpoint } from '../../src/core/log/checkpoint.ts';
import { leafHash, MerkleAccumulator, rootFromLeafHashes, verifyConsistency, verifyInclusion } from '../../src/core/log/merkle.ts';
import { readLog, rootFromTiles } from '../../src/core/log/tile-reader.ts';
import { encodeEntryBundle, entriesPath, pathOf, TILE_WIDTH, tilePath, tilesForSize } from '../../src/core/log/tiles.ts';
import { verifyTlogProof } from '../../src/core/log/tlog-proof.ts';
import { openRegistry, type Registry } from '../../src/registry.ts';
import { getEntriesRange } from '../../src/storage/entries-repo.ts';
import { useEngines, type FreshDatabase } from '../storage/engines.ts';
import { auditStorage } from './audit-storage.ts';
import { rawGroup } from './fixtures/statements.ts';

const ORIGIN = 'reader.test/log';
const engines = useEngines();

/** A deterministic pseudo-random sequence, so a failure names the same pairs every run. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe.each(engines)('the log reader on $name', (engine) => {
  let where: FreshDatabase;
  let reg: Registry;
  let entries: Uint8Array[];
  let leaves: Uint8Array[];
  /** roots[n]: RFC 6962 root of the first n entries, computed from the entries themselves. */
  let roots: Uint8Array[];
  const SIZE = 600; // two full level-0 tiles, a partial one, and a partial level-1 tile

  beforeAll(async () => {
    where = await engine.fresh();
    reg = await openRegistry({ ...where, origin: ORIGIN });
    // Batches of varying size, so that there are checkpoints at many sizes.
    let n = 1;
    for (let batch = 1; n < SIZE; batch++) {
      const k = Math.min(batch * 7, SIZE - n);
      await Promise.all(Array.from({ length: k }, (_, i) => reg.sequencer.append(rawGroup(`{"test":${n + i}}`))));
      n += k;
    }
    entries = (await getEntriesRange(reg.handle.db, 0, SIZE)).map((e) => e.bytes);
    leaves = entries.map(leafHash);
    const acc = new MerkleAccumulator();
    roots = [acc.root()];
    for (const l of leaves) {
      acc.push(l);
      roots.push(acc.root());
    }
  });
  afterAll(async () => {
    await reg?.close();
  });

  it('serves the latest checkpoint, signed by the log key, over all entries', async () => {
    const latest = await reg.reader.latestCheckpoint();
    const cp = verifyCheckpoint(latest!.note, reg.keys.logVerifierKey);
    expect(cp.size).toBe(SIZE);
    expect(cp.origin).toBe(ORIGIN);
    expect(cp.root).toEqual(rootFromLeafHashes(leaves));
  });

  describe('tiles', () => {
    it('equal the tiles recomputed from the entries, for every tile of the tree', async () => {
      const level8 = Array.from({ length: Math.floor(SIZE / TILE_WIDTH) }, (_, i) => rootFromLeafHashes(leaves.slice(i * TILE_WIDTH, (i + 1) * TILE_WIDTH)));
      const tiles = tilesForSize(SIZE);
      expect(tiles.map(pathOf)).toEqual(['tile/0/000', 'tile/0/001', 'tile/0/002.p/88', 'tile/1/000.p/2', 'tile/entries/000', 'tile/entries/001', 'tile/entries/002.p/88']);
      for (const t of tiles) {
        const start = t.index * TILE_WIDTH;
        const expected =
          t.kind === 'entries'
            ? encodeEntryBundle(entries.slice(start, start + t.width))
            : concatBytes(...(t.level === 0 ? leaves : level8).slice(start, start + t.width));
        expect(await reg.reader.readTile(pathOf(t)), pathOf(t)).toEqual(expected);
      }
    });

    it('serves smaller partial tiles as prefixes of the full ones', async () => {
      expect(await reg.reader.readTile(tilePath(0, 0, 5))).toEqual(concatBytes(...leaves.slice(0, 5)));
      expect(await reg.reader.readTile(entriesPath(2, 10))).toEqual(encodeEntryBundle(entries.slice(512, 522)));
      expect(await reg.reader.readTile(tilePath(1, 0, 1))).toEqual(rootFromLeafHashes(leaves.slice(0, 256)));
    });

    it('answers null for tiles beyond the latest checkpoint and for paths that name no tile', async () => {
      for (const path of ['tile/0/002', 'tile/0/002.p/89', 'tile/0/003.p/1', 'tile/entries/002', 'tile/entries/002.p/200', 'tile/1/000', 'tile/1/000.p/3', 'tile/2/000.p/1', 'tile/0/x000/000', 'tile/0/000.p/256', 'tile/../000', 'checkpoint', '']) {
        expect(await reg.reader.readTile(path), path).toBeNull();
      }
    });

    it('let a tlog-tiles client rebuild the tree and match the checkpoint root', async () => {
      const fetch = reg.reader.tileFetcher();
      const cp = verifyCheckpoint(new TextDecoder().decode((await fetch('checkpoint'))!), reg.keys.logVerifierKey);
      expect(await rootFromTiles(fetch, cp.size)).toEqual(cp.root);
      const log = readLog(fetch, cp.size);
      let n = 0;
      for await (const r of log) {
        expect(r.matchesTile).toBe(true);
        n++;
      }
      expect(n).toBe(SIZE);
      expect(log.root()).toEqual(cp.root);
    });
  });

  describe('proofs', () => {
    it('prove inclusion for many (index, size) pairs against independently computed roots', async () => {
      const rnd = prng(1);
      const pairs: [number, number][] = [
        [0, 1],
        [0, SIZE],
        [SIZE - 1, SIZE],
        [255, 256],
        [256, 257],
        [511, 600],
      ];
      for (let i = 0; i < 150; i++) {
        const size = 1 + Math.floor(rnd() * SIZE);
        pairs.push([Math.floor(rnd() * size), size]);
      }
      for (const [index, size] of pairs) {
        const proof = await reg.reader.inclusionProof(index, size);
        verifyInclusion(leaves[index]!, index, size, proof, roots[size]!);
      }
    });

    it('prove consistency for many (m, n) pairs against independently computed roots', async () => {
      const rnd = prng(2);
      const pairs: [number, number][] = [
        [1, 1],
        [1, SIZE],
        [SIZE, SIZE],
        [256, 512],
        [255, 257],
        [599, 600],
      ];
      for (let i = 0; i < 150; i++) {
        const n = 1 + Math.floor(rnd() * SIZE);
        pairs.push([1 + Math.floor(rnd() * n), n]);
      }
      for (const [m, n] of pairs) {
        const proof = await reg.reader.consistencyProof(m, n);
        verifyConsistency(m, n, proof, roots[m]!, roots[n]!);
      }
    });

    it('computes the root at any size from stored nodes', async () => {
      for (const size of [1, 2, 3, 255, 256, 257, 511, 599, SIZE]) {
        expect(bytesEqual(await reg.reader.rootAt(size), roots[size]!)).toBe(true);
      }
    });

    it('refuses proofs beyond the latest checkpoint (LOG_BAD_PROOF_REQUEST)', async () => {
      await expect(reg.reader.inclusionProof(0, SIZE + 1)).rejects.toMatchObject({ code: 'LOG_BAD_PROOF_REQUEST' });
      await expect(reg.reader.inclusionProof(5, 5)).rejects.toMatchObject({ code: 'LOG_BAD_PROOF_REQUEST' });
      await expect(reg.reader.consistencyProof(0, 5)).rejects.toMatchObject({ code: 'LOG_BAD_PROOF_REQUEST' });
      await expect(reg.reader.consistencyProof(6, 5)).rejects.toMatchObject({ code: 'LOG_BAD_PROOF_REQUEST' });
      await expect(reg.reader.consistencyProof(1, SIZE + 1)).rejects.toMatchObject({ code: 'LOG_BAD_PROOF_REQUEST' });
      await expect(reg.reader.tlogProof(SIZE)).rejects.toMatchObject({ code: 'LOG_ENTRY_NOT_FOUND' });
    });

    it('writes C2SP tlog-proofs that verify offline against the latest checkpoint', async () => {
      for (const index of [0, 1, 255, 256, 599]) {
        const cp = verifyTlogProof(await reg.reader.tlogProof(index), entries[index]!, reg.keys.logVerifierKey);
        expect(cp.size).toBe(SIZE);
      }
      await expect(async () => verifyTlogProof(await reg.reader.tlogProof(3), utf8('not the entry'), reg.keys.logVerifierKey)).rejects.toThrow();
    });
  });

  describe('when the registry is closed and opened again', () => {
    it('serves the same checkpoint (never a smaller one), appends no second genesis, and goes on growing', async () => {
      const before = await reg.reader.latestCheckpoint();
      await reg.close();
      reg = await openRegistry({ ...where, origin: ORIGIN });
      const after = await reg.reader.latestCheckpoint();
      expect(after?.note).toBe(before?.note);
      const [r] = await reg.sequencer.append(rawGroup('{"after":"reopen"}'));
      expect(r?.index).toBe(SIZE);
      expect((await reg.reader.latestCheckpoint())?.size).toBe(SIZE + 1);
      verifyConsistency(SIZE, SIZE + 1, await reg.reader.consistencyProof(SIZE, SIZE + 1), before!.root, (await reg.reader.latestCheckpoint())!.root);
    });
  });
});

describe('a new registry', () => {
  const [sqlite] = engines;
  it('begins with the accord issued by its attestation key, and its log passes the audit', async () => {
    const where = await sqlite!.fresh();
    const reg = await openRegistry({ ...where, origin: ORIGIN, now: () => new Date('2026-12-01T09:00:00.500Z') });
    try {
      const e0 = await reg.reader.entry(0);
      const doc = JSON.parse(new TextDecoder().decode(e0!.bytes)) as { type: string[]; issuer: string; validFrom: string; credentialSubject: { id: string }; proof: { verificationMethod: string } };
      expect(doc.type).toEqual(['VerifiableCredential', 'AccordText']);
      expect(doc.issuer).toBe(reg.keys.attestationDid);
      expect(doc.proof.verificationMethod).toBe(reg.keys.attestationMethod);
      expect(doc.validFrom).toBe('2026-12-01T09:00:00Z');
      expect(e0?.subject).toBe(doc.credentialSubject.id);
      const result = await auditStorage(reg.reader, reg.keys);
      expect(result.findings).toEqual([]);
      expect(result.ok).toBe(true);
      expect(result.size).toBe(1);
    } finally {
      await reg.close();
    }
  });
});
