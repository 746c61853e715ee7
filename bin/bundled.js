/**
 * Cached esbuild bundles of the TypeScript sources, for the bin shims and the worker threads: a
 * program run through tsx carries its loader (a module-hooks thread and the transform, ~35 MB
 * resident, half a second to start) and runs transformed code; a bundle needs neither.
 *
 * A bundle set (e.g. ACCORD_VERIFY: the CLI and its two worker threads) is built by one esbuild
 * call into node_modules/.cache/<set name>/ (ACCORD_BUNDLE_CACHE moves the parent directory), next
 * to bundles.json: the checkout root, the entries, the SHA-256 of every input (and of this file)
 * and of every output. The set is used only while all of them still match, so an edited source, an
 * updated dependency or a moved checkout rebuilds it. Outputs are written first and the manifest
 * last, each by rename, so a reader sees a complete set or a manifest that no longer matches.
 * Building the CLI and its workers in one call with one manifest means one check per run and a main
 * thread and workers always built from the same sources (they speak verify-protocol.ts to each
 * other); the result is kept per process (on globalThis, so the copy of this module inside a bundle
 * sees it too): worker-bundle.ts, running inside the CLI bundle, gets the workers without checking
 * again.
 *
 * Inside a bundle, `import.meta.url` would be the bundle's location; the build replaces
 * `import.meta.url`/`dirname`/`filename` in every module with that module's own source location,
 * so code that finds files or the checkout from it (worker-bundle.ts, runCli's isMainModule, data
 * directories) behaves as when run from source. Bundled CommonJS dependencies get a `require`.
 * The packages in EXTERNAL (native drivers) stay out of every bundle and load from the checkout.
 *
 * Without a writable cache the set is built in memory (data: URLs, used by the worker threads);
 * without esbuild, bundles() gives null. runBundled() then runs the TypeScript source through tsx,
 * as the shims did before: slower to start and larger, same results.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * @typedef {object} BundleSet
 * @property {string} name the cache directory's name
 * @property {string[]} entries entry points relative to the checkout root; each becomes
 *   `<file name without extension>.mjs`, so file names must differ
 */

/**
 * @typedef {object} Bundles
 * @property {Record<string, URL>} urls output name (e.g. `verify`) -> module URL
 * @property {boolean} onDisk true: file: URLs in the cache; false: data: URLs (no writable cache)
 */

/**
 * @typedef {object} Manifest
 * @property {number} format
 * @property {string} root
 * @property {string[]} entries
 * @property {Record<string, string>} inputs path relative to root -> base64 SHA-256
 * @property {Record<string, string>} outputs output name -> base64 SHA-256
 */

/** accord-verify: its command line and the audit and checking threads it starts. */
export const ACCORD_VERIFY = Object.freeze({
  name: 'accord-verify',
  entries: Object.freeze(['src/cli/verify.ts', 'src/audit/audit-worker.ts', 'src/audit/verify-worker.ts']),
});
/** accord-keygen: one command line, no threads. */
export const ACCORD_KEYGEN = Object.freeze({ name: 'accord-keygen', entries: Object.freeze(['src/cli/keygen.ts']) });
/** accord-sign: one command line, no threads. */
export const ACCORD_SIGN = Object.freeze({ name: 'accord-sign', entries: Object.freeze(['src/cli/sign.ts']) });
/** accord-export: the command line with the storage stack it loads for an export from the database. */
export const ACCORD_EXPORT = Object.freeze({ name: 'accord-export', entries: Object.freeze(['src/cli/export.ts']) });
/** accord-admin: the command line with the registry (storage, sequencer, keys) it opens. */
export const ACCORD_ADMIN = Object.freeze({ name: 'accord-admin', entries: Object.freeze(['src/cli/admin.ts']) });
/** The registry server (`npm start`) and its proof-checking thread. */
export const ACCORD_REGISTRY = Object.freeze({
  name: 'accord-registry',
  entries: Object.freeze(['src/main.ts', 'src/server/proof-worker.ts']),
});

/**
 * CommonJS packages that are never bundled, in every set: better-sqlite3 finds its native addon
 * through `bindings`, from the path of its own files; pg may load the optional native pg-native;
 * esbuild (which the registry calls at start-up to build its browser verifier) starts its native
 * binary, also found from the path of its own files. All three stay where npm put them, and a
 * bundle loads them from the checkout as the source does: an `import` of one becomes `require()`
 * from the checkout root (the banner's `require`), run when the importing module is first
 * evaluated. So they resolve wherever the cache is (a bare `import`
 * in the output would resolve from the bundle's directory, which ACCORD_BUNDLE_CACHE may put
 * outside the checkout), and stay lazy (esbuild hoists an external `import` to the top of the
 * output: `--help` would load the storage drivers). Their code is not an input of the manifest:
 * it is read at run time, never copied into a bundle. Only CommonJS packages can be listed (the
 * build refuses others): `import x from` an ES module through require() would give x the module
 * namespace, not its default export.
 */
export const EXTERNAL = Object.freeze(['better-sqlite3', 'pg', 'esbuild']);

/** Bump when the build options change in a way the input hashes do not show. */
const FORMAT = 1;
const THIS_FILE = fileURLToPath(import.meta.url);
/** This file sits in <root>/bin/. */
export const CHECKOUT_ROOT = fileURLToPath(new URL('../', import.meta.url));

const MEMO = Symbol.for('accord-registry.bundles');

/** @param {Uint8Array | string} bytes */
function sha256(bytes) {
  return createHash('sha256').update(bytes).digest('base64');
}

/** @param {string} entry */
export function outputName(entry) {
  return basename(entry, extname(entry));
}

/**
 * The bundles of `set` for this process: checked against (or built into) the cache once per
 * process. null when esbuild is missing or the build failed.
 * @param {BundleSet} set
 * @param {string} [root] the checkout root
 * @returns {Promise<Bundles | null>}
 */
export function bundles(set, root = CHECKOUT_ROOT) {
  const base = process.env.ACCORD_BUNDLE_CACHE || join(root, 'node_modules', '.cache');
  const cache = resolve(base, set.name);
  /** @type {Map<string, Promise<Bundles | null>>} */
  const memo = (/** @type {Record<symbol, Map<string, Promise<Bundles | null>>>} */ (globalThis))[MEMO] ??= new Map();
  const key = JSON.stringify([cache, root, set.entries]);
  let found = memo.get(key);
  if (found === undefined) {
    found = findOrBuild(set, root, cache).catch(() => null);
    memo.set(key, found);
  }
  return found;
}

/**
 * Runs `entry` of `set` (e.g. `src/cli/verify.ts`) as this process's program: its bundle from the
 * cache, or the TypeScript source through tsx when there is no cached bundle.
 * @param {BundleSet} set
 * @param {string} entry
 */
export async function runBundled(set, entry) {
  const built = await bundles(set);
  const url = built?.onDisk === true ? built.urls[outputName(entry)] : undefined;
  if (url !== undefined) {
    await import(url.href);
    return;
  }
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(resolve(CHECKOUT_ROOT, entry)).href);
}

/**
 * @param {BundleSet} set
 * @param {string} root
 * @param {string} cache
 * @returns {Promise<Bundles | null>}
 */
async function findOrBuild(set, root, cache) {
  const names = set.entries.map(outputName);
  if (new Set(names).size !== names.length) throw new Error(`bundle entries must have different file names: ${names.join(', ')}`);
  const files = Object.fromEntries(names.map((n) => [n, join(cache, `${n}.mjs`)]));
  const onDisk = () => ({ urls: Object.fromEntries(names.map((n) => [n, pathToFileURL(files[n])])), onDisk: true });
  const manifestPath = join(cache, 'bundles.json');
  if (await fresh(manifestPath, set, root, files)) return onDisk();

  const built = await build(set, root, cache);
  try {
    await mkdir(cache, { recursive: true });
    for (const n of names) await writeAtomically(files[n], built.outputs[n]);
    await writeAtomically(manifestPath, JSON.stringify(built.manifest));
    return onDisk();
  } catch {
    /** @param {Uint8Array} code */
    const dataUrl = (code) => new URL(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`);
    return { urls: Object.fromEntries(names.map((n) => [n, dataUrl(built.outputs[n])])), onDisk: false };
  }
}

/**
 * Whether the manifest matches this file, the root, the entries, every input and every output.
 * @param {string} manifestPath
 * @param {BundleSet} set
 * @param {string} root
 * @param {Record<string, string>} files
 */
async function fresh(manifestPath, set, root, files) {
  try {
    const m = /** @type {Partial<Manifest>} */ (JSON.parse(await readFile(manifestPath, 'utf8')));
    if (m.format !== FORMAT || m.root !== root || JSON.stringify(m.entries) !== JSON.stringify(set.entries)) return false;
    const inputs = Object.entries(m.inputs ?? {});
    const outputs = Object.entries(m.outputs ?? {});
    if (inputs.length === 0 || JSON.stringify(outputs.map(([n]) => n).sort()) !== JSON.stringify(Object.keys(files).sort())) return false;
    // One file after the other, synchronously: a set has hundreds of small inputs (kysely alone
    // some 350), and at start-up, with nothing else to do, that takes less than half the time and
    // memory of reading them all at once through the thread pool.
    const sources = inputs.map(([path, hash]) => /** @type {const} */ ([resolve(root, path), hash]));
    const built = outputs.map(([name, hash]) => /** @type {const} */ ([files[name], hash]));
    return [...sources, ...built].every(([path, hash]) => sha256(readFileSync(path)) === hash);
  } catch {
    return false;
  }
}

/**
 * @param {string} path
 * @param {Uint8Array | string} data
 */
async function writeAtomically(path, data) {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}

/** @type {Record<string, 'ts' | 'js' | 'json'>} */
const LOADERS = { '.ts': 'ts', '.mts': 'ts', '.js': 'js', '.mjs': 'js', '.cjs': 'js', '.json': 'json' };

const EXTERNAL_NS = 'accord-external';
/** A listed package or a file in one; names escaped for esbuild's (Go) regular expressions. */
const EXTERNAL_RE = new RegExp(`^(?:${EXTERNAL.map((p) => p.replace(/[^\w-]/g, '\\$&')).join('|')})(?:/|$)`);

/**
 * Whether Node loads `file` as an ES module: .mjs, or .js under a package.json of type module
 * (Node's own rule for a file it finds through require()).
 * @param {string} file
 */
async function isEsModule(file) {
  if (file.endsWith('.mjs')) return true;
  if (!file.endsWith('.js')) return false;
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    try {
      return /** @type {{ type?: unknown }} */ (JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'))).type === 'module';
    } catch (e) {
      if (/** @type {NodeJS.ErrnoException} */ (e).code !== 'ENOENT' || dirname(dir) === dir) throw e;
    }
  }
}

/** Module-local stand-ins for import.meta's fields (see the file comment). */
const META = { 'import.meta.url': '__accordMetaUrl', 'import.meta.dirname': '__accordMetaDirname', 'import.meta.filename': '__accordMetaFilename' };

/**
 * @param {BundleSet} set
 * @param {string} root
 * @param {string} cache
 * @returns {Promise<{ outputs: Record<string, Uint8Array>, manifest: Manifest }>}
 */
async function build(set, root, cache) {
  // The asynchronous API runs esbuild as a child process; the synchronous one would start a
  // worker thread of its own in this process and keep it for the process's lifetime.
  const esbuild = /** @type {typeof import('esbuild')} */ (createRequire(import.meta.url)('esbuild'));
  /** @type {Record<string, string>} */
  const inputs = { [relative(root, THIS_FILE)]: sha256(await readFile(THIS_FILE)) };
  const rootRequire = createRequire(join(root, 'package.json'));
  /** @type {import('esbuild').Plugin} */
  const hashAndRelocate = {
    name: 'hash-and-relocate',
    setup(b) {
      // EXTERNAL (see there): each import of a listed package, or of a file in one, goes to a
      // stand-in module that requires it; that require() call itself is left to run time.
      b.onResolve({ filter: EXTERNAL_RE }, (args) => {
        if (args.namespace === EXTERNAL_NS) return { path: args.path, external: true };
        return { path: args.path, namespace: EXTERNAL_NS };
      });
      b.onLoad({ filter: /.*/, namespace: EXTERNAL_NS }, async (args) => {
        const file = rootRequire.resolve(args.path);
        if (await isEsModule(file)) throw new Error(`${args.path} is an ES module (${file}); EXTERNAL takes CommonJS packages only`);
        return { contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js' };
      });
      b.onLoad({ filter: /.*/, namespace: 'file' }, async (args) => {
        const loader = LOADERS[extname(args.path)];
        if (loader === undefined) throw new Error(`unexpected input ${args.path}`);
        const bytes = await readFile(args.path);
        // Every input is read here, so the manifest holds the hash of exactly the bytes compiled.
        inputs[relative(root, args.path)] = sha256(bytes);
        const text = bytes.toString('utf8');
        if (loader === 'json' || !text.includes('import.meta')) return { contents: bytes, loader };
        const [, hashbang = '', rest = text] = /^(#![^\n]*\n)?([\s\S]*)$/.exec(text) ?? [];
        const meta =
          `var ${META['import.meta.url']} = ${JSON.stringify(pathToFileURL(args.path).href)}, ` +
          `${META['import.meta.dirname']} = ${JSON.stringify(dirname(args.path))}, ${META['import.meta.filename']} = ${JSON.stringify(args.path)};`;
        return { contents: `${hashbang}${meta}${rest}`, loader };
      });
    },
  };
  try {
    const result = await esbuild.build({
      entryPoints: set.entries.map((e) => resolve(root, e)),
      entryNames: '[name]',
      bundle: true,
      write: false,
      outdir: cache,
      outExtension: { '.js': '.mjs' },
      format: 'esm',
      platform: 'node',
      target: ['node20'],
      legalComments: 'inline',
      logLevel: 'silent',
      absWorkingDir: root,
      // Loaded only by runBundled's fallback, never from a bundle.
      external: ['tsx'],
      define: META,
      banner: {
        js: `import { createRequire as __accordCreateRequire } from 'node:module';\nconst require = __accordCreateRequire(${JSON.stringify(join(root, 'package.json'))});`,
      },
      plugins: [hashAndRelocate],
    });
    /** @type {Record<string, Uint8Array>} */
    const outputs = {};
    /** @type {Record<string, string>} */
    const outputHashes = {};
    for (const entry of set.entries) {
      const name = outputName(entry);
      const file = result.outputFiles.find((f) => f.path === join(cache, `${name}.mjs`));
      if (file === undefined) throw new Error(`esbuild produced no ${name}.mjs`);
      outputs[name] = file.contents;
      outputHashes[name] = sha256(file.contents);
    }
    return { outputs, manifest: { format: FORMAT, root, entries: [...set.entries], inputs, outputs: outputHashes } };
  } finally {
    await esbuild.stop();
  }
}
