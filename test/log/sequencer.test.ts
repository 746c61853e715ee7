import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64 } from '../../src/core/bytes.ts';
import { AccordError } from '../../src/core/errors.ts';
import { verifyCheckpoint } from '../../src/core/log/checkpoint.ts';
import { leafHash, verifyInclusion } from '../../src/core/log/merkle.ts';
import type { AppendGroup, Receipt } from '../../src/log/sequencer.ts';
import { DEFAULT_ACCORDS_DIR, openRegistry, type Registry } from '../../src/registry.ts';
import { getEntryByDigest } from '../../src/storage/entries-repo.ts';
import { getSignatory } from '../../src/storage/signatories-repo.ts';
import { useEngines, type FreshDatabase } from '../storage/engines.ts';
import { auditStorage } from './audit-storage.ts';
import { bundleScript } from './fixtures/bundle.ts';
import { attestation, groupOf, label, type TestStatement } from './fixtures/statements.ts';
import { expectConsistentWithLatest, verifyReceipt } from './receipts.ts';

const ORIGIN = 'sequencer.test/log';
const engines = useEngines();

async function expectAuditOk(reg: Registry): Promise<void> {
  const result = await auditStorage(reg.reader, reg.keys);
  expect(result.findings).toEqual([]);
  expect(result.ok).toBe(true);
}

describe.each(engines)('the sequencer on $name', (engine) => {
  const open: Registry[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((r) => r.close()));
  });
  async function registry(where?: FreshDatabase): Promise<{ reg: Registry; where: FreshDatabase }> {
    const w = where ?? (await engine.fresh());
    const reg = await openRegistry({ ...w, origin: ORIGIN });
    open.push(reg);
    return { reg, where: w };
  }
  const statements = (reg: Registry, n: number, prefix: string): TestStatement[] => Array.from({ length: n }, () => attestation(reg.keys, label(prefix)));

  describe('when many groups are appended at once', () => {
    it('commits them in few batches, and every receipt verifies under the log key', async () => {
      const { reg } = await registry();
      const all = statements(reg, 120, 'many');
      const receipts = await Promise.all(all.map((s) => reg.sequencer.append(groupOf(reg.keys, s))));
      const checkpoints = new Set(receipts.map((r) => r[0]?.checkpoint));
      expect(checkpoints.size).toBeLessThanOrEqual(3);
      const indexes = receipts.map((r) => r[0]?.index).sort((a, b) => (a as number) - (b as number));
      expect(indexes).toEqual(Array.from({ length: 120 }, (_, i) => i + 1)); // entry 0 is the accord
      for (const [i, s] of all.entries()) {
        const [receipt] = receipts[i] as Receipt[];
        expect(receipt?.digest).toBe(s.digest);
        verifyReceipt(receipt as Receipt, s.bytes, reg.keys.logVerifierKey);
      }
      await expectAuditOk(reg);
    });

    it('puts groups that arrive while a batch commits together into the next batch', async () => {
      const { reg } = await registry();
      const wave1 = statements(reg, 20, 'wa');
      const wave2 = statements(reg, 20, 'wb');
      const first = wave1.map((s) => reg.sequencer.append(groupOf(reg.keys, s)));
      // Two turns of the event loop: the first batch has been taken and is committing.
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
      const second = wave2.map((s) => reg.sequencer.append(groupOf(reg.keys, s)));
      const r1 = await Promise.all(first);
      const r2 = await Promise.all(second);
      expect(new Set(r1.map((r) => r[0]?.checkpoint)).size).toBe(1);
      expect(new Set(r2.map((r) => r[0]?.checkpoint)).size).toBe(1);
      expect(Math.min(...r2.map((r) => r[0]?.index as number))).toBeGreaterThan(Math.max(...r1.map((r) => r[0]?.index as number)));
      await expectAuditOk(reg);
    });
  });

  describe('when the same bytes are appended twice', () => {
    it('returns the existing receipt and logs them once, whether sequential or in one batch', async () => {
      const { reg } = await registry();
      const s = attestation(reg.keys, label('dup'));
      let admits = 0;
      const counted = (): AppendGroup => {
        const g = groupOf(reg.keys, s);
        return { entries: g.entries, admit: async (ctx) => (admits++, g.admit!(ctx)) };
      };
      const [a] = await reg.sequencer.append(counted());
      const [b] = await reg.sequencer.append(counted());
      expect(b?.index).toBe(a?.index);
      expect(b?.digest).toBe(s.digest);
      verifyReceipt(b as Receipt, s.bytes, reg.keys.logVerifierKey);
      const t = attestation(reg.keys, label('dup'));
      const [c, d] = await Promise.all([reg.sequencer.append(groupOf(reg.keys, t)), reg.sequencer.append(groupOf(reg.keys, t))]);
      expect(c?.[0]?.index).toBe(d?.[0]?.index);
      expect(admits).toBe(1);
      expect(await reg.reader.size()).toBe(3);
      await expectAuditOk(reg);
    });

    it('refuses a group whose earlier entry is logged but whose last is not (LOG_DUPLICATE_ENTRY)', async () => {
      const { reg } = await registry();
      const [a, b] = statements(reg, 2, 'pair');
      await reg.sequencer.append(groupOf(reg.keys, a!));
      const both: AppendGroup = { entries: [...groupOf(reg.keys, a!).entries, ...groupOf(reg.keys, b!).entries] };
      await expect(reg.sequencer.append(both)).rejects.toMatchObject({ code: 'LOG_DUPLICATE_ENTRY' });
      expect(await getEntryByDigest(reg.handle.db, b!.digest)).toBeUndefined();
    });

    it('answers a group whose last entry is logged with the receipts of its logged entries only', async () => {
      const { reg } = await registry();
      const [fresh, logged] = statements(reg, 2, 'last');
      const [r] = await reg.sequencer.append(groupOf(reg.keys, logged!));
      const receipts = await reg.sequencer.append({ entries: [...groupOf(reg.keys, fresh!).entries, ...groupOf(reg.keys, logged!).entries] });
      expect(receipts.map((x) => x.index)).toEqual([r?.index]);
      expect(await getEntryByDigest(reg.handle.db, fresh!.digest)).toBeUndefined();
    });
  });

  describe('when one group of a batch is rejected', () => {
    it('rejects that group alone: the others commit and nothing of it is written', async () => {
      const { reg } = await registry();
      const [s1, bad, s3] = statements(reg, 3, 'rej');
      const refusing: AppendGroup = {
        entries: groupOf(reg.keys, bad!).entries,
        admit: async () => {
          throw new AccordError('TEST_REFUSED', 'refused by the test');
        },
      };
      const [r1, r2, r3] = await Promise.allSettled([
        reg.sequencer.append(groupOf(reg.keys, s1!)),
        reg.sequencer.append(refusing),
        reg.sequencer.append(groupOf(reg.keys, s3!)),
      ]);
      expect(r2).toMatchObject({ status: 'rejected', reason: { code: 'TEST_REFUSED' } });
      expect(r1.status).toBe('fulfilled');
      expect(r3.status).toBe('fulfilled');
      const i1 = (r1 as PromiseFulfilledResult<Receipt[]>).value[0]?.index as number;
      const i3 = (r3 as PromiseFulfilledResult<Receipt[]>).value[0]?.index as number;
      expect(i3).toBe(i1 + 1); // no gap where the rejected group would have been
      expect(await getEntryByDigest(reg.handle.db, bad!.digest)).toBeUndefined();
      expect(await getSignatory(reg.handle.db, bad!.did)).toBeUndefined();
      expect((await getSignatory(reg.handle.db, s1!.did))?.state.attestation?.index).toBe(i1);
      await expectAuditOk(reg);
    });

    it('refuses entries whose digest does not match their bytes before queueing them', async () => {
      const { reg } = await registry();
      const s = attestation(reg.keys, label('dig'));
      const g = groupOf(reg.keys, s);
      const wrong: AppendGroup = { entries: [{ ...g.entries[0]!, digest: `sha256:${'0'.repeat(64)}` }] };
      await expect(reg.sequencer.append(wrong)).rejects.toMatchObject({ code: 'LOG_DIGEST_MISMATCH' });
      await expect(reg.sequencer.append({ entries: [] })).rejects.toMatchObject({ code: 'LOG_EMPTY_GROUP' });
    });
  });

  describe('admit', () => {
    it('sees the entries and signatory states of earlier groups in the same batch', async () => {
      const { reg } = await registry();
      const did = `${label('same')}`;
      const first = attestation(reg.keys, did);
      const second = attestation(reg.keys, did);
      const seen: { nextIndex: number; prevIndex: number | undefined; firstAt: number | undefined }[] = [];
      const g2 = groupOf(reg.keys, second);
      const observed: AppendGroup = {
        entries: g2.entries,
        admit: async (ctx) => {
          seen.push({ nextIndex: ctx.nextIndex, prevIndex: (await ctx.getSignatory(second.did))?.attestation?.index, firstAt: await ctx.findDigest(first.digest) });
          return g2.admit!(ctx);
        },
      };
      const [[a], [b]] = await Promise.all([reg.sequencer.append(groupOf(reg.keys, first)), reg.sequencer.append(observed)]);
      expect(a?.checkpoint).toBe(b?.checkpoint); // one batch
      expect(seen).toEqual([{ nextIndex: b?.index, prevIndex: a?.index, firstAt: a?.index }]);
      const row = await getSignatory(reg.handle.db, second.did);
      expect(row?.state.attestation?.digest).toBe(second.digest);
      expect(row?.updatedIndex).toBe(b?.index);
    });

    it('finds the accord of entry 0 by digest and by id', async () => {
      const { reg } = await registry();
      const accordEntry = await reg.reader.entry(0);
      let found: unknown[] = [];
      await reg.sequencer.append({
        ...groupOf(reg.keys, attestation(reg.keys, label('acc'))),
        admit: async (ctx) => {
          found = [await ctx.getAccord(accordEntry!.digest), await ctx.getAccordById('urn:accord:tech-sector:1'), await ctx.getAccord(`sha256:${'1'.repeat(64)}`)];
          return [];
        },
      });
      expect(found[0]).toMatchObject({ index: 0, digest: accordEntry!.digest, id: 'urn:accord:tech-sector:1', version: 1, principleNumbers: [1, 2, 3, 4, 5, 6] });
      expect(found[1]).toEqual(found[0]);
      expect(found[2]).toBeUndefined();
    });
  });

  describe('appendBulk', () => {
    it('appends many entries in one batch, covered by one signed checkpoint', async () => {
      const { reg } = await registry();
      const all = statements(reg, 30, 'bulk');
      const entries = all.flatMap((s) => groupOf(reg.keys, s).entries);
      const [before] = await reg.sequencer.append(groupOf(reg.keys, attestation(reg.keys, label('pre'))));
      const result = await reg.sequencer.appendBulk(entries);
      expect(result.first).toBe(before!.index + 1);
      expect(result.size).toBe(result.first + 30);
      const cp = verifyCheckpoint(result.checkpoint, reg.keys.logVerifierKey);
      expect(cp.size).toBe(result.size);
      verifyInclusion(leafHash(all[7]!.bytes), result.first + 7, cp.size, await reg.reader.inclusionProof(result.first + 7, cp.size), cp.root);
      await expect(reg.sequencer.appendBulk(entries.slice(0, 3))).rejects.toMatchObject({ code: 'LOG_DUPLICATE_ENTRY' });
      await expectAuditOk(reg);
    });
  });

  describe('when two sequencers on two database handles append at once', () => {
    it('never forks: one log that verifies and includes every receipt', async () => {
      const { reg: one, where } = await registry();
      const { reg: two } = await registry(where);
      const all = [...statements(one, 40, 'ha'), ...statements(one, 40, 'hb')];
      const receipts = await Promise.all(all.map((s, i) => (i % 2 === 0 ? one : two).sequencer.append(groupOf(one.keys, s))));
      const indexes = receipts.map((r) => r[0]?.index as number).sort((a, b) => a - b);
      expect(indexes).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
      for (const [i, s] of all.entries()) verifyReceipt((receipts[i] as Receipt[])[0] as Receipt, s.bytes, one.keys.logVerifierKey);
      await expectConsistentWithLatest(one.reader, receipts.map((r) => r[0]?.checkpoint as string), one.keys.logVerifierKey);
      await expectAuditOk(one);
    });
  });
});

describe('two registry processes on one SQLite database', () => {
  const [sqlite] = engines;
  let child: Awaited<ReturnType<typeof bundleScript>>;
  beforeAll(async () => {
    child = await bundleScript(fileURLToPath(new URL('./fixtures/append-child.ts', import.meta.url)));
  });
  afterAll(async () => {
    await child?.remove();
  });

  function runChild(dataDir: string, count: number, prefix: string): Promise<{ code: number | null; receipts: (Receipt & { bytes: string })[]; stderr: string }> {
    return new Promise((resolve, reject) => {
      const p = spawn(process.execPath, [child.file, dataDir, ORIGIN, String(count), '4', prefix, DEFAULT_ACCORDS_DIR], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let stderr = '';
      p.stdout.on('data', (d: Buffer) => (out += d.toString()));
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      p.on('error', reject);
      p.on('close', (code) => {
        const receipts = out
          .split('\n')
          .filter((l) => l.startsWith('{"index"'))
          .map((l) => JSON.parse(l) as Receipt & { bytes: string });
        resolve({ code, receipts, stderr });
      });
    });
  }

  it('never forks: every receipt of both processes is in the one log, which verifies', async () => {
    const where = await sqlite!.fresh();
    const reg = await openRegistry({ ...where, origin: ORIGIN }); // creates keys and entry 0
    try {
      const [a, b] = await Promise.all([runChild(where.dataDir, 60, 'pa'), runChild(where.dataDir, 60, 'pb')]);
      expect(a.stderr).toBe('');
      expect(b.stderr).toBe('');
      expect([a.code, b.code]).toEqual([0, 0]);
      const all = [...a.receipts, ...b.receipts];
      expect(all).toHaveLength(120);
      expect(all.map((r) => r.index).sort((x, y) => x - y)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
      for (const r of all) {
        verifyReceipt(r, fromBase64(r.bytes), reg.keys.logVerifierKey);
        expect((await reg.reader.entry(r.index))?.digest).toBe(r.digest);
      }
      await expectConsistentWithLatest(reg.reader, all.map((r) => r.checkpoint), reg.keys.logVerifierKey);
      await expectAuditOk(reg);
    } finally {
      await reg.close();
    }
  });
});
