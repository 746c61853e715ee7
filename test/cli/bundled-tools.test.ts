/**
 * bin/accord-keygen.js, accord-sign.js, accord-admin.js and accord-export.js run their cached
 * esbuild bundles (bin/bundled.js), as real child processes, one after the other against one real
 * registry: keygen makes a key, sign logs a pledge with it, admin delists the signatory, export
 * mirrors the database and the auditor accepts the mirror. A preload in each child records,
 * without changing anything, whether a module loader (tsx) was registered and whether the storage
 * drivers were loaded; Node 20 cannot load a .ts file without a loader, so a run with none came
 * from the bundle. The cache is a temporary directory outside the checkout (ACCORD_BUNDLE_CACHE),
 * so the packages left out of the bundles (bundled.js EXTERNAL) must be found from the checkout.
 */
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAudit } from '../../src/audit/run-audit.ts';
import type { BundleManifest } from '../../bin/bundled.js';
import { openSource } from '../../src/audit/source.ts';
import { loadKeyFile } from '../../src/cli/key-file.ts';
import { startHarness, type Harness } from '../server/harness.ts';
import { listen, type Listening } from './fixtures.ts';
import { REPO_ROOT, runTool, type ToolResult } from './run-tool.ts';

type Tool = 'keygen' | 'sign' | 'export' | 'admin';

/** Main thread: counts node:module register() calls (tsx registers its loader so); at exit, which drivers were required. */
const SPY = `
import module from 'node:module';
const seen = { loaders: 0, drivers: [] };
const register = module.register;
module.register = function (...args) { seen.loaders++; return register.apply(this, args); };
module.syncBuiltinESMExports();
process.on('exit', () => {
  const loaded = Object.keys(module._cache).map((f) => /[\\\\/]node_modules[\\\\/](better-sqlite3|pg)[\\\\/]/.exec(f)?.[1]).filter(Boolean);
  seen.drivers = [...new Set(loaded)].sort();
  process.stderr.write(JSON.stringify(seen) + '\\n');
});`;

interface Seen {
  loaders: number;
  drivers: string[];
}

let h: Harness;
let web: Listening;
let tmp: string;
let cacheParent: string;

beforeAll(async () => {
  h = await startHarness({ domains: ['acme.test'] });
  web = await listen(h.app);
  tmp = await mkdtemp(join(tmpdir(), 'accord-bundled-tools-'));
  cacheParent = join(tmp, 'cache');
});
afterAll(async () => {
  await web?.close();
  await h?.close();
  await rm(tmp, { recursive: true, force: true });
});

/** `node bin/accord-<tool>.js ...args` with the temporary cache and the spy; the spy's line is taken off stderr. */
async function run(tool: Tool, args: string[], env: Record<string, string> = {}): Promise<ToolResult & { seen: Seen }> {
  const r = await runTool(tool, args, {
    cwd: tmp,
    env: { ...env, ACCORD_BUNDLE_CACHE: cacheParent, NODE_OPTIONS: `--import=data:text/javascript,${encodeURIComponent(SPY)}` },
  });
  const lines = r.stderr.trimEnd().split('\n');
  const seen = JSON.parse(lines.pop() ?? '') as Seen;
  return { ...r, stderr: lines.join('\n'), seen };
}

/** The operator's tools read the registry's database as `npm start` is configured. */
function operatorEnv(): Record<string, string> {
  return { DATA_DIR: h.dir, DATABASE_URL: '', REGISTRY_ORIGIN: h.config.origin };
}

async function manifestOf(tool: Tool): Promise<BundleManifest> {
  return JSON.parse(await readFile(join(cacheParent, `accord-${tool}`, 'bundles.json'), 'utf8')) as BundleManifest;
}

/** The bundle set was built into its own cache directory, from its one entry, and used without a loader. */
async function expectRanFromBundle(tool: Tool, seen: Seen): Promise<BundleManifest> {
  expect(seen.loaders).toBe(0);
  expect((await readdir(join(cacheParent, `accord-${tool}`))).sort()).toEqual([`${tool}.mjs`, 'bundles.json'].sort());
  const manifest = await manifestOf(tool);
  expect(manifest.root).toBe(REPO_ROOT);
  expect(manifest.entries).toEqual([`src/cli/${tool}.ts`]);
  return manifest;
}

describe('the bundled command-line tools', () => {
  const keyPath = (): string => join(tmp, 'acme-key.json');

  describe('accord-keygen', () => {
    it('runs from its bundle and writes a key file with mode 0600 and the did.json to publish', async () => {
      const r = await run('keygen', ['--did', 'did:web:acme.test', '--out', 'acme-key.json']);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
      await expectRanFromBundle('keygen', r.seen);
      expect(r.seen.drivers).toEqual([]);
      expect((await stat(keyPath())).mode & 0o777).toBe(0o600);
      const key = await loadKeyFile(keyPath());
      expect(key.did).toBe('did:web:acme.test');
      const doc = JSON.parse(await readFile(join(tmp, 'did.json'), 'utf8')) as { id: string; assertionMethod: string[] };
      expect(doc.id).toBe('did:web:acme.test');
      expect(doc.assertionMethod).toEqual(['did:web:acme.test#key-1']);
    });
  });

  describe('accord-sign', () => {
    it('runs from its bundle and logs a pledge signed with that key, verifying the receipt', async () => {
      // The did.json accord-keygen wrote, published where the registry resolves did:web:acme.test.
      h.host.set('acme.test', { kind: 'document', body: await readFile(join(tmp, 'did.json'), 'utf8'), contentType: 'application/did+json' });
      const before = await h.snapshot();
      const receiptPath = join(tmp, 'pledge-receipt.json');
      const r = await run('sign', ['pledge', '--key', keyPath(), '--registry', web.url, '--name', 'Acme Bundled', '--log-key', h.logKey, '--receipt', receiptPath]);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
      await expectRanFromBundle('sign', r.seen);
      const receipt = JSON.parse(await readFile(receiptPath, 'utf8')) as { index: number; digest: string; statement: { issuer: string } };
      expect(r.stdout).toContain(`Logged: pledge by did:web:acme.test as entry ${receipt.index} (${receipt.digest}).`);
      expect(r.stdout).toContain('signed by the pinned log key and includes the entry');
      // The registry may log an attestation of the did:web key first, in the same batch.
      expect(receipt.index).toBeGreaterThanOrEqual(before.size);
      expect((await h.snapshot()).size).toBe(receipt.index + 1);
      expect(receipt.statement.issuer).toBe('did:web:acme.test');
      const signatory = await request(h.app).get('/api/v1/signatories/acme.test');
      expect(signatory.status).toBe(200);
      expect(signatory.body).toMatchObject({ status: 'signatory', name: 'Acme Bundled', head: receipt.digest });
    });
  });

  describe('accord-admin', () => {
    it('answers --help from its bundle without loading the storage drivers', async () => {
      const r = await run('admin', ['--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^usage: accord-admin accord FILE/);
      await expectRanFromBundle('admin', r.seen);
      expect(r.seen.drivers).toEqual([]);
    });

    it('runs from its bundle on the registry database (better-sqlite3 loaded from the checkout) and logs a delist notice', async () => {
      const before = await h.snapshot();
      const r = await run('admin', ['notice', 'delist', 'acme.test', '--reason', 'bundled tool test', '--json'], operatorEnv());
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
      const manifest = await expectRanFromBundle('admin', r.seen);
      expect(r.seen.drivers).toContain('better-sqlite3');
      // The drivers stay in node_modules: none of their files went into the bundle.
      expect(Object.keys(manifest.inputs).filter((p) => /^node_modules\/(better-sqlite3|pg|bindings)\//.test(p))).toEqual([]);
      const receipt = JSON.parse(r.stdout) as { index: number };
      expect(receipt.index).toBe(before.size);
      expect((await h.snapshot()).size).toBe(before.size + 1);
      const signatory = await request(h.app).get('/api/v1/signatories/acme.test');
      expect(signatory.body.status).toBe('delisted');
    });
  });

  describe('accord-export', () => {
    it('answers --help from its bundle without loading the storage drivers', async () => {
      const r = await run('export', ['--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^usage: accord-export --out DIR/);
      await expectRanFromBundle('export', r.seen);
      expect(r.seen.drivers).toEqual([]);
    });

    it('runs from its bundle and writes a mirror of the registry database that the auditor accepts', async () => {
      const { size } = await h.snapshot();
      const out = join(tmp, 'mirror');
      const r = await run('export', ['--out', out], operatorEnv());
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
      await expectRanFromBundle('export', r.seen);
      expect(r.seen.drivers).toContain('better-sqlite3');
      expect(r.stdout).toContain(`Exported the log of size ${size} `);
      const result = await runAudit(await openSource(out), { logKey: h.logKey, stateCheckpoint: null, workers: 0 });
      expect(result.findings).toEqual([]);
      expect(result.size).toBe(size);
    });
  });
});
