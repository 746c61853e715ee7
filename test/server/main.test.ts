import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BundleManifest } from '../../bin/bundled.js';
import { verifyCheckpoint } from '../../src/core/log/checkpoint.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

/**
 * A preload that counts node:module register() calls (tsx registers its loader so) and writes the
 * count on stderr at exit: Node 20 cannot load a .ts file without a loader, so none means the
 * server ran from its bundle.
 */
const SPY = `
import module from 'node:module';
let loaders = 0;
const register = module.register;
module.register = function (...args) { loaders++; return register.apply(this, args); };
module.syncBuiltinESMExports();
process.on('exit', () => process.stderr.write(JSON.stringify({ loaders }) + '\\n'));`;

let cacheParent: string;
beforeAll(async () => {
  // Its own bundle cache (ACCORD_BUNDLE_CACHE), so the test sees the set built and never touches the checkout's.
  cacheParent = await mkdtemp(join(tmpdir(), 'accord-main-cache-'));
});
afterAll(async () => {
  await rm(cacheParent, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts `node bin/accord-registry.js` (what `npm start` runs) with the given environment and the spy. */
function start(env: Record<string, string>, onStdout?: (text: string, kill: (signal: NodeJS.Signals) => void) => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/accord-registry.js'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ACCORD_BUNDLE_CACHE: cacheParent, NODE_OPTIONS: `--import=data:text/javascript,${encodeURIComponent(SPY)}`, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      onStdout?.(stdout, (s) => child.kill(s));
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm start (bin/accord-registry.js: the bundle of src/main.ts)', () => {
  it('refuses a bad configuration with one clear line and exit code 2', async () => {
    const run = await start({ PORT: 'eighty', DID_WEB_HOSTS: 'example.com=ftp://x' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('PORT');
    expect(run.stderr).toContain('DID_WEB_HOSTS');
    expect(run.stderr).not.toMatch(/\bat .*\.ts:\d+/);
  });

  it('creates the registry on first start, serves it, and stops cleanly on SIGTERM', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'accord-main-'));
    try {
      let checkpoint = '';
      let core = { status: 0, type: '', text: '' };
      let fetched = false;
      const run = await start({ HOST: '127.0.0.1', PORT: '0', DATA_DIR: dir, REGISTRY_ORIGIN: 'main.test/log', LOG_LEVEL: 'info' }, (text, kill) => {
        const m = /"port":(\d+)/.exec(text);
        if (m === null || fetched) return;
        fetched = true;
        void (async () => {
          try {
            const res = await fetch(`http://127.0.0.1:${m[1]}/log/checkpoint`);
            checkpoint = await res.text();
            const keys = (await (await fetch(`http://127.0.0.1:${m[1]}/.well-known/accord-registry.json`)).json()) as { logKey: string };
            verifyCheckpoint(checkpoint, keys.logKey);
            // The browser's copy of the core, which the server builds with esbuild at start-up
            // (from its bundle, esbuild is loaded from the checkout: bin/bundled.js EXTERNAL).
            const asset = await fetch(`http://127.0.0.1:${m[1]}/assets/accord-core.js`);
            core = { status: asset.status, type: asset.headers.get('content-type') ?? '', text: await asset.text() };
          } finally {
            kill('SIGTERM');
          }
        })();
      });
      expect(run.code).toBe(0);
      expect(checkpoint.split('\n').slice(0, 2)).toEqual(['main.test/log', '1']);
      expect(core.status).toBe(200);
      expect(core.type).toMatch(/^text\/javascript/);
      expect(core.text).toMatch(/export\s*\{[^}]*\bverifyProofBundle\b/);
      // It ran from the bundle set of the server and its proof thread, with no loader registered.
      expect(JSON.parse(run.stderr.trimEnd().split('\n').pop() ?? '')).toEqual({ loaders: 0 });
      expect((await readdir(join(cacheParent, 'accord-registry'))).sort()).toEqual(['bundles.json', 'main.mjs', 'proof-worker.mjs']);
      const manifest = JSON.parse(await readFile(join(cacheParent, 'accord-registry', 'bundles.json'), 'utf8')) as BundleManifest;
      expect(manifest.entries).toEqual(['src/main.ts', 'src/server/proof-worker.ts']);
      expect(run.stdout).toContain('"msg":"stopped"');
      // HOST: listening on the loopback address only, and saying so.
      expect(run.stdout).toContain('"host":"127.0.0.1"');
      expect(run.stdout).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+\//);
      // DESIGN 6: the key files exist, readable by the owner only.
      expect((await stat(join(dir, 'log-key.json'))).mode & 0o077).toBe(0);
      expect((await stat(join(dir, 'registry.sqlite'))).isFile()).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
