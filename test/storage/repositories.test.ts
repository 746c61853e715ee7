import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptySignatory, type SignatoryState } from '../../src/core/audit/registry-state.ts';
import { sha256, utf8 } from '../../src/core/bytes.ts';
import { openDatabase, type DatabaseHandle } from '../../src/storage/db.ts';
import { getCheckpointBySize, getLatestCheckpoint, getLatestCheckpointSize, getRecentCheckpoints, insertCheckpoint } from '../../src/storage/checkpoints-repo.ts';
import {
  countEntries,
  countEntriesBySubject,
  countEntriesByType,
  findIndexesByDigest,
  getAccordById,
  getAccordEntries,
  getEntriesBySubject,
  getEntry,
  getEntryByDigest,
  getEntryBytesRange,
  getEntrySummariesBySubject,
  getLatestBySubjectAndType,
  getRecentEntries,
  insertEntries,
  type EntryRow,
} from '../../src/storage/entries-repo.ts';
import { getAllMeta, getMeta, recordMetaIfAbsent } from '../../src/storage/meta-repo.ts';
import { countSignatoriesByStatus, getSignatories, getSignatory, getSignatoryByDomain, listSignatories, upsertSignatories } from '../../src/storage/signatories-repo.ts';
import { getNode, getNodes, getNodesRange, getTileBytes, insertNodes, nodeKey } from '../../src/storage/tree-repo.ts';
import { useEngines } from './engines.ts';

const engines = useEngines();

const TYPES = ['AccordText', 'DomainAttestation', 'AccordPledge', 'DomainAttestation', 'AccordPledge', 'AccordWithdrawal', 'AccordText'];
const SUBJECTS = ['urn:accord:tech-sector:1', 'did:web:a.example', 'did:web:a.example', 'did:web:b.example', 'did:web:b.example', 'did:web:a.example', 'urn:accord:tech-sector:2'];

function row(index: number): EntryRow {
  const bytes = utf8(`{"i":${index}}`);
  return { index, digest: `sha256:${index.toString(16).padStart(64, 'a')}`, bytes, type: TYPES[index]!, subject: SUBJECTS[index]!, validFrom: `2026-12-01T10:00:0${index}Z` };
}

function state(did: string, patch: Partial<SignatoryState>): SignatoryState {
  return { ...emptySignatory(did), ...patch };
}

describe.each(engines)('repositories on $name', (engine) => {
  let h: DatabaseHandle;
  beforeAll(async () => {
    h = await openDatabase(await engine.fresh());
    await insertEntries(h.db, TYPES.map((_, i) => row(i)));
  });
  afterAll(async () => {
    await h.close();
  });

  describe('entries', () => {
    it('reads back exactly what was appended, by index, range and digest', async () => {
      expect(await countEntries(h.db)).toBe(7);
      const e3 = await getEntry(h.db, 3);
      expect(e3).toEqual(row(3));
      expect(e3?.bytes.constructor).toBe(Uint8Array);
      expect(await getEntry(h.db, 7)).toBeUndefined();
      expect(await getEntryBytesRange(h.db, 2, 5)).toEqual([row(2).bytes, row(3).bytes, row(4).bytes]);
      expect(await getEntryByDigest(h.db, row(5).digest)).toEqual(row(5));
      const found = await findIndexesByDigest(h.db, [row(1).digest, row(6).digest, 'sha256:none', row(1).digest]);
      expect([...found.entries()].sort()).toEqual([
        [row(1).digest, 1],
        [row(6).digest, 6],
      ]);
    });

    it("lists a signatory's statements, the latest of a type, recent entries and counts by type", async () => {
      expect((await getEntriesBySubject(h.db, 'did:web:a.example')).map((e) => e.index)).toEqual([1, 2, 5]);
      expect((await getEntriesBySubject(h.db, 'did:web:a.example', { type: 'AccordPledge' })).map((e) => e.index)).toEqual([2]);
      expect(await countEntriesBySubject(h.db, 'did:web:a.example')).toBe(3);
      expect(await countEntriesBySubject(h.db, 'did:web:nobody.example')).toBe(0);
      expect(await getEntrySummariesBySubject(h.db, 'did:web:a.example', { offset: 1, limit: 2 })).toEqual([
        { index: 2, digest: row(2).digest, type: 'AccordPledge', subject: 'did:web:a.example', validFrom: row(2).validFrom },
        { index: 5, digest: row(5).digest, type: 'AccordWithdrawal', subject: 'did:web:a.example', validFrom: row(5).validFrom },
      ]);
      expect(await getEntrySummariesBySubject(h.db, 'did:web:a.example', { offset: 3, limit: 2 })).toEqual([]);
      expect((await getLatestBySubjectAndType(h.db, 'did:web:b.example', 'DomainAttestation'))?.index).toBe(3);
      expect((await getRecentEntries(h.db, { limit: 3 })).map((e) => e.index)).toEqual([6, 5, 4]);
      expect((await getRecentEntries(h.db, { limit: 3, before: 4 })).map((e) => e.index)).toEqual([3, 2, 1]);
      expect((await getRecentEntries(h.db, { limit: 10, types: ['AccordPledge'] })).map((e) => e.index)).toEqual([4, 2]);
      expect(await countEntriesByType(h.db)).toEqual({ AccordText: 2, DomainAttestation: 2, AccordPledge: 2, AccordWithdrawal: 1 });
    });

    it("returns every statement of a long history, the latest included, and pages it in the subject's own order", async () => {
      const other = await openDatabase(await engine.fresh());
      try {
        const n = 10_005;
        const did = 'did:web:busy.example';
        await insertEntries(
          other.db,
          Array.from({ length: n }, (_, i) => {
            const bytes = utf8(`{"n":${i}}`);
            return { index: i, digest: `sha256:${i.toString(16).padStart(64, '0')}`, bytes, type: 'AccordPledge', subject: did, validFrom: '2026-12-01T10:00:00Z' };
          }),
        );
        const all = await getEntriesBySubject(other.db, did);
        expect(all).toHaveLength(n);
        expect(all[n - 1]?.index).toBe(n - 1);
        expect(await countEntriesBySubject(other.db, did)).toBe(n);
        expect((await getEntrySummariesBySubject(other.db, did, { offset: n - 2, limit: 50 })).map((e) => e.index)).toEqual([n - 2, n - 1]);
      } finally {
        await other.close();
      }
    });

    it('lists the accords and finds one by its URN', async () => {
      expect((await getAccordEntries(h.db)).map((e) => e.index)).toEqual([0, 6]);
      expect((await getAccordById(h.db, 'urn:accord:tech-sector:2'))?.index).toBe(6);
      expect(await getAccordById(h.db, 'did:web:a.example')).toBeUndefined();
    });
  });

  describe('tree nodes', () => {
    it('reads single nodes, sets of nodes and ranges (tiles)', async () => {
      const hash = (l: number, i: number) => sha256(utf8(`${l}/${i}`));
      await insertNodes(h.db, [0, 1, 2, 3].map((i) => ({ level: 0, index: i, hash: hash(0, i) })).concat([{ level: 1, index: 0, hash: hash(1, 0) }]));
      expect(await getNode(h.db, 1, 0)).toEqual(hash(1, 0));
      expect(await getNode(h.db, 1, 1)).toBeUndefined();
      const some = await getNodes(h.db, [
        { level: 0, index: 2 },
        { level: 1, index: 0 },
        { level: 1, index: 1 },
      ]);
      expect(some.size).toBe(2);
      expect(some.get(nodeKey(0, 2))).toEqual(hash(0, 2));
      expect(await getNodesRange(h.db, 0, 1, 3)).toEqual([hash(0, 1), hash(0, 2)]);
      expect((await getTileBytes(h.db, 0, 0, 4))?.length).toBe(128);
      expect(await getTileBytes(h.db, 0, 0, 5)).toBeUndefined();
    });
  });

  describe('checkpoints', () => {
    it('keeps every checkpoint and serves the largest as the latest', async () => {
      expect(await getLatestCheckpointSize(h.db)).toBe(0);
      const big = await openDatabase(await engine.fresh());
      try {
        for (let size = 1; size <= 4; size++) {
          await insertEntries(big.db, [{ ...row(size - 1), index: size - 1 }]);
          await insertCheckpoint(big.db, { size, root: sha256(utf8(String(size))), note: `note ${size}`, createdAt: `2026-12-01T10:00:0${size}Z` });
        }
        expect((await getLatestCheckpoint(big.db))?.note).toBe('note 4');
        expect(await getLatestCheckpointSize(big.db)).toBe(4);
        expect((await getCheckpointBySize(big.db, 2))?.root).toEqual(sha256(utf8('2')));
        expect((await getRecentCheckpoints(big.db, 2)).map((c) => c.size)).toEqual([4, 3]);
      } finally {
        await big.close();
      }
    });
  });

  describe('meta', () => {
    it('records a value once: the first writer wins', async () => {
      expect(await recordMetaIfAbsent(h.db, { origin: 'a/log' })).toEqual({ origin: 'a/log' });
      expect(await recordMetaIfAbsent(h.db, { origin: 'b/log', other: 'x' })).toEqual({ origin: 'a/log', other: 'x' });
      expect(await getMeta(h.db, 'origin')).toBe('a/log');
      expect(await getAllMeta(h.db)).toEqual({ origin: 'a/log', other: 'x' });
    });
  });

  describe('signatories', () => {
    beforeAll(async () => {
      await upsertSignatories(h.db, [
        { state: state('did:web:alpha.example', { membership: 'signatory', name: 'Alpha Corp', since: '2026-12-01T10:00:00Z' }), updatedIndex: 1 },
        { state: state('did:web:beta.example', { membership: 'withdrawn', name: 'Beta 100%_Secure', since: '2026-12-02T10:00:00Z' }), updatedIndex: 2 },
        { state: state('did:web:gamma.example', { membership: 'signatory', delisted: true, name: 'Gamma', since: '2026-12-03T10:00:00Z' }), updatedIndex: 3 },
        { state: state('did:web:attested-only.example', {}), updatedIndex: 4 },
      ]);
      // A later state replaces the row.
      await upsertSignatories(h.db, [{ state: state('did:web:alpha.example', { membership: 'signatory', name: 'Alpha Corporation', since: '2026-12-01T10:00:00Z' }), updatedIndex: 9 }]);
    });

    it('gets one, many or by domain, with the state as stored', async () => {
      const a = await getSignatory(h.db, 'did:web:alpha.example');
      expect(a).toMatchObject({ domain: 'alpha.example', name: 'Alpha Corporation', status: 'signatory', updatedIndex: 9 });
      expect(a?.state.name).toBe('Alpha Corporation');
      expect((await getSignatoryByDomain(h.db, 'gamma.example'))?.status).toBe('delisted');
      const many = await getSignatories(h.db, ['did:web:beta.example', 'did:web:none.example', 'did:web:gamma.example']);
      expect([...many.keys()].sort()).toEqual(['did:web:beta.example', 'did:web:gamma.example']);
    });

    it('lists by status, searches name or domain (case-insensitive, literal % and _), and pages', async () => {
      const all = await listSignatories(h.db, { limit: 10 });
      expect(all.rows.map((r) => r.domain)).toEqual(['alpha.example', 'beta.example', 'gamma.example']);
      expect(all.total).toBe(3);
      expect((await listSignatories(h.db, { limit: 10, status: 'signatory' })).rows.map((r) => r.domain)).toEqual(['alpha.example']);
      expect((await listSignatories(h.db, { limit: 10, search: 'ALPHA' })).rows.map((r) => r.domain)).toEqual(['alpha.example']);
      expect((await listSignatories(h.db, { limit: 10, search: 'gamma.ex' })).rows.map((r) => r.domain)).toEqual(['gamma.example']);
      expect((await listSignatories(h.db, { limit: 10, search: '100%_' })).rows.map((r) => r.domain)).toEqual(['beta.example']);
      expect((await listSignatories(h.db, { limit: 10, search: '%' })).total).toBe(1);
      const page = await listSignatories(h.db, { limit: 1, offset: 1, order: 'since' });
      expect(page.rows.map((r) => r.domain)).toEqual(['beta.example']);
      expect(page.total).toBe(3);
      expect(await countSignatoriesByStatus(h.db)).toEqual({ signatory: 1, withdrawn: 1, delisted: 1 });
    });
  });
});
