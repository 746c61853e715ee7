/**
 * bin/accord-verify.js runs the cached esbuild bundle of its command line and worker threads
 * (bin/bundled.js), as a real child process over the `large` vector mirror. Each run gets its own
 * cache directory (ACCORD_BUNDLE_CACHE), so the checkout's cache is never touched. A preload in the
 * child records, without changing anything, whether a module loader (tsx) was registered and which
 * scripts the worker threads were started from.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BundleManifest } from '../../bin/bundled.js';
import { REPO_ROOT, runTool, type ToolResult } from './run-tool.ts';

const LARGE = new URL('../../../shared/vectors/registry-mirrors/large/', import.meta.url).pathname;
const HOLDOUT_KEY = 'holdout.accord.example/log+d8761c85+AWrxEOMrpToy6O3mGuYU48K0I0ldpSNZrJ9WNF/7IC6Q';

/**
 * Main thread only: counts node:module register() calls (tsx registers its loader so) and Worker
 * starts. A data: URL is recorded by its first characters: written whole (hundreds of KB) at exit,
 * the line could be cut off when stderr does not take it at once (seen under load).
 */
const SPY = `
import module from 'node:module';
import wt from 'node:worker_threads';
if (wt.isMainThread) {
  const short = (u) => (u == null || !String(u).startsWith('data:') ? u ?? null : String(u).slice(0, 64));
  const seen = { loaders: 0, workers: [] };
  const register = module.register;
  module.register = function (...args) { seen.loaders++; return register.apply(this, args); };
  const Worker = wt.Worker;
  wt.Worker = class extends Worker {
    constructor(url, options) {
      seen.workers.push({ url: short(String(url)), verifyScript: short(options?.workerData?.verifyScript) });
      super(url, options);
    }
  };
  module.syncBuiltinESMExports();
  process.on('exit', () => process.stderr.write(JSON.stringify(seen) + '\\n'));
}`;

interface Seen {
  loaders: number;
  workers: { url: string; verifyScript: string | null }[];
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'accord-verify-bundle-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** accord-verify on the large mirror with two worker threads and `cacheParent` as the cache. */
async function verifyLarge(cacheParent: string): Promise<{ run: ToolResult; seen: Seen }> {
  const run = await runTool('verify', [LARGE, '--log-key', HOLDOUT_KEY, '--workers', '2'], {
    env: { ACCORD_BUNDLE_CACHE: cacheParent, NODE_OPTIONS: `--import=data:text/javascript,${encodeURIComponent(SPY)}` },
  });
  const lines = run.stderr.trim().split('\n');
  const seen = JSON.parse(lines.pop() ?? '') as Seen;
  expect({ code: run.code, stderr: lines.join('\n') }).toEqual({ code: 0, stderr: '' });
  expect(run.stdout).toMatch(/^accord-verify: OK, holdout\.accord\.example\/log verified at size 765\n/);
  expect(run.stdout).toContain('765 signatures');
  expect(run.stdout).toContain('(2 worker threads)');
  return { run, seen };
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('base64');
}

describe('bin/accord-verify.js', () => {
  describe('with a writable cache', () => {
    let cacheParent: string;
    let cache: string;
    const manifestPath = (): string => join(cache, 'bundles.json');
    const readManifest = async (): Promise<BundleManifest> => JSON.parse(await readFile(manifestPath(), 'utf8')) as BundleManifest;
    beforeAll(() => {
      cacheParent = join(tmp, 'cache');
      cache = join(cacheParent, 'accord-verify');
    });

    it('builds the bundles on first use and runs the command line and both kinds of worker thread from them, without tsx', async () => {
      const { seen } = await verifyLarge(cacheParent);
      expect(seen.loaders).toBe(0);
      expect((await readdir(cache)).sort()).toEqual(['audit-worker.mjs', 'bundles.json', 'verify-worker.mjs', 'verify.mjs']);
      // The audit thread is started here; it starts the checking threads from the script it is given.
      expect(seen.workers).toEqual([{ url: pathToFileURL(join(cache, 'audit-worker.mjs')).href, verifyScript: pathToFileURL(join(cache, 'verify-worker.mjs')).href }]);
      const manifest = await readManifest();
      expect(manifest.root).toBe(REPO_ROOT);
      expect(manifest.entries).toEqual(['src/cli/verify.ts', 'src/audit/audit-worker.ts', 'src/audit/verify-worker.ts']);
      // Every input is recorded with the hash of its bytes, the shared bundler itself included.
      for (const path of ['src/cli/verify.ts', 'src/audit/worker-bundle.ts', 'bin/bundled.js', 'node_modules/@noble/ed25519/index.js']) {
        expect(manifest.inputs[path], path).toBe(sha256(await readFile(join(REPO_ROOT, path))));
      }
      expect(manifest.outputs.verify).toBe(sha256(await readFile(join(cache, 'verify.mjs'))));
    });

    it('uses the cached bundles as they are while every hash matches', async () => {
      const before = await stat(join(cache, 'verify.mjs'));
      const manifest = await readFile(manifestPath(), 'utf8');
      const { seen } = await verifyLarge(cacheParent);
      expect(seen.loaders).toBe(0);
      expect((await stat(join(cache, 'verify.mjs'))).ino).toBe(before.ino);
      expect(await readFile(manifestPath(), 'utf8')).toBe(manifest);
    });

    it('rebuilds them when an input hash no longer matches', async () => {
      const before = await stat(join(cache, 'verify.mjs'));
      const manifest = await readManifest();
      const real = manifest.inputs['src/cli/verify.ts'];
      await writeFile(manifestPath(), JSON.stringify({ ...manifest, inputs: { ...manifest.inputs, 'src/cli/verify.ts': sha256(new Uint8Array([1])) } }));
      const { seen } = await verifyLarge(cacheParent);
      expect(seen.loaders).toBe(0);
      // Replaced by rename: a new file, and the manifest holds the real hash again.
      expect((await stat(join(cache, 'verify.mjs'))).ino).not.toBe(before.ino);
      expect((await readManifest()).inputs['src/cli/verify.ts']).toBe(real);
    });

    it('rebuilds them when a bundle was changed', async () => {
      await writeFile(join(cache, 'verify-worker.mjs'), 'throw new Error("not the checking thread");\n');
      await verifyLarge(cacheParent);
      expect(sha256(await readFile(join(cache, 'verify-worker.mjs')))).toBe((await readManifest()).outputs['verify-worker']);
    });
  });

  describe('when the cache directory cannot be made', () => {
    it('runs the command line from the source through tsx and the worker threads from bundles built in memory', async () => {
      const notADirectory = join(tmp, 'a-file');
      await writeFile(notADirectory, 'the cache cannot go here\n');
      const { seen } = await verifyLarge(notADirectory);
      expect(seen.loaders).toBeGreaterThan(0);
      expect(seen.workers).toHaveLength(1);
      expect(seen.workers[0]?.url).toMatch(/^data:text\/javascript;base64,/);
      expect(seen.workers[0]?.verifyScript).toMatch(/^data:text\/javascript;base64,/);
      expect(await readFile(notADirectory, 'utf8')).toBe('the cache cannot go here\n');
    });
  });
});
