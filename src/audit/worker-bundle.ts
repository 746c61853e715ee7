/**
 * The code of accord-verify's worker threads as plain JavaScript modules, made by esbuild from
 * audit-worker.ts (the thread that runs the audit) and verify-worker.ts (the threads that check
 * entries and signatures) with what they import. A worker started through tsx would register the
 * loader in each thread (its own loader thread, tens of MB, half a second to start) and run the
 * transformed code, which keeps function names with a helper call per closure and is markedly
 * slower in the schema checks; a bundle starts in about 0.1 s and needs no loader.
 *
 * The bundles are cached in node_modules/.cache/accord-verify/ next to a list of their inputs and
 * the SHA-256 of each, and used only while every input still has that hash, so an edited source or
 * an updated dependency rebuilds them. Without a writable cache they are built in memory for each
 * run; without esbuild the workers fall back to tsx (the .js shims next to this file): slower,
 * same results.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as Esbuild from 'esbuild';
import type { Plugin } from 'esbuild';

export interface WorkerScripts {
  /** The audit thread (audit-worker.ts). */
  audit: URL;
  /** A checking thread (verify-worker.ts). */
  verify: URL;
  /** false: the tsx fallback. */
  bundled: boolean;
}

interface Manifest {
  entries: string[];
  /** Input path (relative to the checkout) -> base64 SHA-256 of its bytes. */
  inputs: Record<string, string>;
}

/** Paths are computed on use: in a bundle, import.meta.url is the bundle's own location. */
function paths() {
  const here = new URL('./', import.meta.url);
  const root = fileURLToPath(new URL('../../', here));
  const cache = join(root, 'node_modules', '.cache', 'accord-verify');
  return {
    root,
    entries: [fileURLToPath(new URL('audit-worker.ts', here)), fileURLToPath(new URL('verify-worker.ts', here))],
    cache,
    audit: join(cache, 'audit-worker.mjs'),
    verify: join(cache, 'verify-worker.mjs'),
    manifest: join(cache, 'workers.json'),
    tsx: { audit: new URL('audit-worker.js', here), verify: new URL('verify-worker.js', here) },
  };
}

let scripts: Promise<WorkerScripts> | undefined;

/** The worker scripts for this process: built (or read from the cache) once. */
export function workerScripts(): Promise<WorkerScripts> {
  scripts ??= findOrBuild();
  return scripts;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('base64');
}

async function cached(p: ReturnType<typeof paths>): Promise<boolean> {
  try {
    const manifest = JSON.parse(await readFile(p.manifest, 'utf8')) as Manifest;
    if (!Array.isArray(manifest.entries) || manifest.entries.join('\n') !== p.entries.join('\n')) return false;
    const inputs = Object.entries(manifest.inputs ?? {});
    if (inputs.length === 0) return false;
    const same = await Promise.all(inputs.map(async ([path, hash]) => sha256(await readFile(resolve(p.root, path))) === hash));
    if (!same.every(Boolean)) return false;
    await Promise.all([readFile(p.audit), readFile(p.verify)]); // present and readable
    return true;
  } catch {
    return false;
  }
}

async function findOrBuild(): Promise<WorkerScripts> {
  let p: ReturnType<typeof paths>;
  try {
    p = paths();
  } catch {
    throw new Error('worker scripts are built from the source checkout only');
  }
  if (await cached(p)) return { audit: pathToFileURL(p.audit), verify: pathToFileURL(p.verify), bundled: true };
  let built: { audit: Uint8Array; verify: Uint8Array; manifest: Manifest };
  try {
    built = await build(p);
  } catch {
    return { ...p.tsx, bundled: false };
  }
  try {
    await mkdir(p.cache, { recursive: true });
    // Bundles first, manifest last, each by rename: a reader sees a consistent set or a manifest
    // whose hashes no longer match (and rebuilds), never half a file.
    await writeAtomically(p.audit, built.audit);
    await writeAtomically(p.verify, built.verify);
    await writeAtomically(p.manifest, JSON.stringify(built.manifest));
    return { audit: pathToFileURL(p.audit), verify: pathToFileURL(p.verify), bundled: true };
  } catch {
    const dataUrl = (code: Uint8Array): URL => new URL(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`);
    return { audit: dataUrl(built.audit), verify: dataUrl(built.verify), bundled: true };
  }
}

async function writeAtomically(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}

const LOADERS: Record<string, 'ts' | 'js' | 'json'> = { '.ts': 'ts', '.mts': 'ts', '.js': 'js', '.mjs': 'js', '.cjs': 'js', '.json': 'json' };

async function build(p: ReturnType<typeof paths>): Promise<{ audit: Uint8Array; verify: Uint8Array; manifest: Manifest }> {
  // The asynchronous API runs esbuild as a child process; the synchronous one would start a
  // worker thread of its own in this process and keep it for the process's lifetime.
  const esbuild = createRequire(import.meta.url)('esbuild') as typeof Esbuild;
  const inputs: Record<string, string> = {};
  // Every input is read here, so the manifest holds the hash of exactly the bytes compiled.
  const hashInputs: Plugin = {
    name: 'hash-inputs',
    setup(b) {
      b.onLoad({ filter: /.*/, namespace: 'file' }, async (args) => {
        const loader = LOADERS[extname(args.path)];
        if (loader === undefined) throw new Error(`unexpected input ${args.path}`);
        const contents = await readFile(args.path);
        inputs[relative(p.root, args.path)] = sha256(contents);
        return { contents, loader };
      });
    },
  };
  try {
    const result = await esbuild.build({
      entryPoints: p.entries,
      bundle: true,
      write: false,
      outdir: p.cache,
      outExtension: { '.js': '.mjs' },
      format: 'esm',
      platform: 'node',
      target: ['node20'],
      legalComments: 'inline',
      logLevel: 'silent',
      absWorkingDir: p.root,
      plugins: [hashInputs],
    });
    const out = (name: string): Uint8Array => {
      const file = result.outputFiles.find((f) => basename(f.path) === name);
      if (file === undefined) throw new Error(`esbuild produced no ${name}`);
      return file.contents;
    };
    return { audit: out('audit-worker.mjs'), verify: out('verify-worker.mjs'), manifest: { entries: p.entries, inputs } };
  } finally {
    await esbuild.stop();
  }
}
