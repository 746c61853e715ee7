import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAudit } from '../../src/audit/run-audit.ts';
import { openSource } from '../../src/audit/source.ts';
import { pathOf, tilesForSize } from '../../src/core/log/tiles.ts';
import { Company } from '../helpers/company.ts';
import { startHarness, type Harness } from '../server/harness.ts';
import { listen, type Listening } from './fixtures.ts';
import { runTool } from './run-tool.ts';

const COMPANIES = 20;
let h: Harness;
let web: Listening;
let dir: string;
let companies: Company[];
const heads = new Map<string, string | null>();

/** Every file under `root`, relative, with '/' separators, sorted. */
async function files(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
}

async function expectedFiles(size: number): Promise<string[]> {
  return ['.well-known/accord-registry.json', 'log/checkpoint', ...tilesForSize(size).map((t) => `log/${pathOf(t)}`)].sort();
}

/** `rounds` pledges from every company, the companies in parallel (group commit batches them). */
async function pledgeRounds(rounds: number): Promise<void> {
  await Promise.all(
    companies.map(async (c) => {
      for (let i = 0; i < rounds; i++) {
        const res = await h.submit(c.pledge({ accord: h.accord, previous: heads.get(c.did) ?? null, name: `${c.domain} ${i}` }));
        expect(res.status).toBe(201);
        heads.set(c.did, res.body.digest as string);
      }
    }),
  );
}

async function size(): Promise<number> {
  return (await h.snapshot()).size;
}

async function audit(target: string) {
  return runAudit(await openSource(target), { logKey: h.logKey, stateCheckpoint: null, workers: 0 });
}

beforeAll(async () => {
  const domains = Array.from({ length: COMPANIES }, (_, i) => `company-${i}.test`);
  h = await startHarness({ domains });
  web = await listen(h.app);
  dir = await mkdtemp(join(tmpdir(), 'accord-export-'));
  companies = domains.map((d) => new Company(d, h.host));
  // 1 accord + 20 attestations + 260 pledges: one full tile of 256, a partial one, a level-1 tile.
  await pledgeRounds(13);
});
afterAll(async () => {
  await web?.close();
  await h?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('accord-export', () => {
  describe('from the database and over --registry', () => {
    it('writes the same mirror, holding exactly the tiles of the checkpoint size, which the auditor accepts', async () => {
      const n = await size();
      expect(n).toBeGreaterThan(256);
      const fromDb = join(dir, 'db');
      const overHttp = join(dir, 'http');
      const [a, b] = await Promise.all([
        runTool('export', ['--out', fromDb], { env: { DATA_DIR: h.dir, DATABASE_URL: '' } }),
        runTool('export', ['--out', overHttp, '--registry', web.url]),
      ]);
      expect([a.code, a.stderr]).toEqual([0, '']);
      expect([b.code, b.stderr]).toEqual([0, '']);
      const expected = await expectedFiles(n);
      expect(expected).toContain('log/tile/1/000.p/1');
      expect(await files(fromDb)).toEqual(expected);
      expect(await files(overHttp)).toEqual(expected);
      for (const f of expected) expect(await readFile(join(fromDb, f)), f).toEqual(await readFile(join(overHttp, f)));
      const wellKnown = await request(h.app).get('/.well-known/accord-registry.json');
      expect(JSON.parse(await readFile(join(fromDb, '.well-known/accord-registry.json'), 'utf8'))).toEqual(wellKnown.body);
      const result = await audit(fromDb);
      expect(result.findings).toEqual([]);
      expect(result.size).toBe(n);
    });
  });

  describe('into a directory holding an earlier export, after the log grew', () => {
    it('replaces the checkpoint and removes the partial tiles of the old size', async () => {
      const out = join(dir, 'incremental');
      expect((await runTool('export', ['--out', out, '--registry', web.url])).code).toBe(0);
      const oldFiles = await files(out);
      await pledgeRounds(1);
      const n = await size();
      const r = await runTool('export', ['--out', out, '--registry', web.url]);
      expect(r.code).toBe(0);
      const now = await files(out);
      expect(now).toEqual(await expectedFiles(n));
      expect(oldFiles.filter((f) => f.includes('.p/') && !now.includes(f)).length).toBeGreaterThan(0);
      expect((await audit(out)).ok).toBe(true);
    });
  });

  describe('when the registry fails while tiles are fetched', () => {
    it('exits 2 (500) or 1 (404), and leaves no checkpoint, so the mirror cannot pass for complete', async () => {
      let status = 500;
      // A registry that serves its checkpoint but fails on the entry bundles.
      const failing = await listen((req, res) => {
        if ((req.url ?? '').startsWith('/log/tile/entries/')) {
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'BROKEN', message: 'disk on fire' } }));
          return;
        }
        void fetch(new URL(req.url ?? '/', web.url)).then(async (up) => {
          res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'application/octet-stream' });
          res.end(Buffer.from(await up.arrayBuffer()));
        });
      });
      try {
        const out = join(dir, 'interrupted');
        const r500 = await runTool('export', ['--out', out, '--registry', failing.url]);
        expect(r500.code).toBe(2);
        expect(r500.stderr).toMatch(/500/);
        status = 404;
        const r404 = await runTool('export', ['--out', out, '--registry', failing.url]);
        expect(r404.code).toBe(1);
        expect(r404.stderr).toMatch(/404/);
        expect(await files(out)).not.toContain('log/checkpoint');
        const result = await audit(out);
        expect(result.ok).toBe(false);
        expect(result.findings.some((f) => f.index === -1)).toBe(true);
      } finally {
        await failing.close();
      }
    });
  });

  describe('without --out', () => {
    it('exits 2 with the usage', async () => {
      const r = await runTool('export', ['--registry', web.url]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/usage: accord-export/);
    });
  });
});
