/**
 * accord-export (DESIGN section 8): a static mirror of a registry's log that any web server can
 * host and `accord-verify DIR` checks. Its files sit at the registry's own URL paths:
 *
 *   DIR/.well-known/accord-registry.json
 *   DIR/log/checkpoint
 *   DIR/log/tile/<L>/<N>[.p/<W>]          hash tiles      } exactly the tiles of the checkpoint's
 *   DIR/log/tile/entries/<N>[.p/<W>]      entry bundles   } size (tlog-tiles), full and partial
 *
 *   accord-export --out DIR                  from the registry's own database (DATA_DIR / DATABASE_URL)
 *   accord-export --out DIR --registry URL   from any registry over HTTP
 *
 * Nothing is verified here (that is accord-verify's job), but every file must be there: a
 * non-200 answer stops the export. Write order makes an interrupted export detectable: the
 * checkpoint is read first and its tiles written, each file atomically (temporary name, then
 * rename); the well-known file and the checkpoint are written last. A directory holding an earlier
 * mirror stays a consistent earlier mirror until the new checkpoint replaces the old one; a first
 * export interrupted midway has no checkpoint, which accord-verify reports. Partial tiles of other
 * sizes are removed once the new checkpoint is in place, so the mirror holds exactly its tiles.
 */
import { access, mkdir, readdir, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { Config } from '../config.ts';
import { utf8 } from '../core/bytes.ts';
import { decodePublicMultikey, didKeyFromPublicKey } from '../core/crypto/multikey.ts';
import { AccordError } from '../core/errors.ts';
import { parseCheckpoint } from '../core/log/checkpoint.ts';
import { makeVerifierKey, parseNote } from '../core/log/note.ts';
import { pathOf, tilesForSize } from '../core/log/tiles.ts';
import { parseCli, runCli, usageError } from './args.ts';
import { getBytes, registryUrl } from './http.ts';

// The storage modules (kysely, zod) load only for an export from the database: `--registry`
// exports and `--help` start faster without them.
const storage = async () => ({
  ...(await import('../config.ts')),
  ...(await import('../log/log-reader.ts')),
  ...(await import('../storage/db.ts')),
  ...(await import('../storage/meta-repo.ts')),
});

const USAGE = `usage: accord-export --out DIR [--registry URL]

Writes a static mirror of the log (DESIGN section 8) into DIR: from the registry's own database
(configured by DATA_DIR / DATABASE_URL, as for npm start), or with --registry from any registry
over HTTP. Check it with: accord-verify DIR`;

/** Where a mirror's files come from. Paths are relative to the log prefix (`checkpoint`, `tile/...`). */
export interface MirrorSource {
  /** The bytes of /.well-known/accord-registry.json. */
  wellKnown(): Promise<Uint8Array>;
  /** The signed checkpoint note. */
  checkpoint(): Promise<Uint8Array>;
  /** A tile or entry bundle, e.g. `tile/0/000.p/5`. */
  tile(path: string): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** Reads any registry over HTTP: the checkpoint first, then exactly its tiles (tlog-tiles). */
export function httpSource(root: string): MirrorSource {
  registryUrl(root, ''); // a bad URL is a usage error before anything is fetched
  return {
    wellKnown: () => getBytes(registryUrl(root, '.well-known/accord-registry.json')),
    checkpoint: () => getBytes(registryUrl(root, 'log/checkpoint')),
    tile: (path) => getBytes(registryUrl(root, `log/${path}`)),
    close: async () => undefined,
  };
}

/**
 * Refuses (REGISTRY_NOT_FOUND) a configuration that names no existing registry, so that the
 * operator's tools never create a new, empty registry by mistake (a wrong DATA_DIR). Shared with
 * accord-admin.
 */
export async function assertRegistryExists(config: Config): Promise<void> {
  const { SQLITE_FILE, openDatabase, getAllMeta, META_ORIGIN, META_LOG_PUBLIC_KEY, META_ATTESTATION_PUBLIC_KEY } = await storage();
  if (config.databaseUrl === null) {
    const file = join(config.dataDir, SQLITE_FILE);
    try {
      await access(file);
    } catch (cause) {
      throw new AccordError('REGISTRY_NOT_FOUND', `no registry database at ${file}; set DATA_DIR (or DATABASE_URL) as for npm start`, { cause });
    }
  }
  const handle = await openDatabase({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  try {
    const meta = await getAllMeta(handle.db);
    if (meta[META_ORIGIN] === undefined || meta[META_LOG_PUBLIC_KEY] === undefined || meta[META_ATTESTATION_PUBLIC_KEY] === undefined) {
      throw new AccordError('REGISTRY_NOT_FOUND', `the database ${handle.location} holds no registry yet (start it once with npm start)`);
    }
  } finally {
    await handle.close();
  }
}

/**
 * The registry's own database, configured as for `npm start` (DATA_DIR, DATABASE_URL), read through
 * the server's own log reader. Only public data is read: no registry key file is needed. A data
 * directory without a registry is refused rather than silently given a new, empty database.
 */
export async function databaseSource(env: Readonly<Record<string, string | undefined>>): Promise<MirrorSource> {
  const { loadConfig, openDatabase, getAllMeta, createLogReader, META_ORIGIN, META_LOG_PUBLIC_KEY, META_ATTESTATION_PUBLIC_KEY } = await storage();
  const config = loadConfig(env);
  await assertRegistryExists(config);
  const handle = await openDatabase({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  try {
    const meta = await getAllMeta(handle.db);
    const origin = meta[META_ORIGIN] as string;
    const logPublic = meta[META_LOG_PUBLIC_KEY] as string;
    const attestationPublic = meta[META_ATTESTATION_PUBLIC_KEY] as string;
    // The same three members, in the same order and form, as the server's well-known route.
    const wellKnown = utf8(
      JSON.stringify({
        origin,
        logKey: makeVerifierKey(origin, decodePublicMultikey(logPublic)),
        attestationKey: didKeyFromPublicKey(decodePublicMultikey(attestationPublic)),
      }),
    );
    const reader = createLogReader(handle.db);
    return {
      wellKnown: async () => wellKnown,
      checkpoint: async () => {
        const cp = await reader.latestCheckpoint();
        if (cp === undefined) throw new AccordError('REGISTRY_NOT_FOUND', 'the registry log is empty (start it once with npm start)');
        return utf8(cp.note);
      },
      tile: async (path) => {
        const bytes = await reader.readTile(path);
        if (bytes === null) throw new AccordError('LOG_STATE_INCONSISTENT', `the database has no ${path}, which the checkpoint covers`);
        return bytes;
      },
      close: () => handle.close(),
    };
  } catch (e) {
    await handle.close();
    throw e;
  }
}

async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (cause) {
    await unlink(tmp).catch(() => undefined);
    throw new AccordError('FILE_UNWRITABLE', `cannot write ${path}: ${(cause as Error).message}`, { cause });
  }
}

/** Every file under `dir`, as paths relative to it with '/' separators. */
async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  let entries;
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return out;
    throw e;
  }
  for (const e of entries) {
    if (e.isFile()) out.push(relative(dir, join(e.parentPath, e.name)).split(sep).join('/'));
  }
  return out;
}

/** How many tiles are fetched at once. */
const CONCURRENCY = 8;

/**
 * Writes the mirror of `source` into `outDir`; returns the checkpoint's size and the number of
 * tile files written.
 */
export async function exportMirror(source: MirrorSource, outDir: string, progress?: (done: number, total: number) => void): Promise<{ size: number; tiles: number }> {
  const checkpoint = await source.checkpoint();
  let size: number;
  try {
    size = parseCheckpoint(parseNote(checkpoint).text).size;
  } catch (cause) {
    throw new AccordError('BAD_RESPONSE', `the registry's checkpoint cannot be read: ${(cause as Error).message}`, { cause });
  }
  const wellKnown = await source.wellKnown();
  const logDir = join(outDir, 'log');
  const paths = tilesForSize(size).map(pathOf);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < paths.length) {
      const path = paths[next++] as string;
      await writeAtomically(join(logDir, ...path.split('/')), await source.tile(path));
      progress?.(++done, paths.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, paths.length) }, worker));
  await writeAtomically(join(outDir, '.well-known', 'accord-registry.json'), wellKnown);
  await writeAtomically(join(logDir, 'checkpoint'), checkpoint);
  // Only now that the new checkpoint is in place: drop tiles that belong to no tile of this size
  // (partial tiles of an earlier export), so the mirror holds exactly the checkpoint's tiles.
  const keep = new Set(paths);
  for (const file of await listFiles(join(logDir, 'tile'))) {
    const path = `tile/${file}`;
    if (!keep.has(path)) await rm(join(logDir, ...path.split('/')), { force: true });
  }
  return { size, tiles: paths.length };
}

export async function exportCli(argv: string[], out: (line: string) => void = console.log): Promise<number> {
  const { values } = parseCli(argv, USAGE, { out: { type: 'string' }, registry: { type: 'string' } });
  if (values.help) {
    out(USAGE);
    return 0;
  }
  if (typeof values.out !== 'string' || values.out === '') throw usageError('--out DIR is required', USAGE);
  const source = typeof values.registry === 'string' ? httpSource(values.registry) : await databaseSource(process.env);
  try {
    const { size, tiles } = await exportMirror(source, values.out);
    out(`Exported the log of size ${size} (${tiles} tile files) from ${values.registry ?? 'the registry database'} to ${values.out}.`);
    out(`Check it with: accord-verify ${values.out}`);
  } finally {
    await source.close();
  }
  return 0;
}

await runCli(import.meta.url, exportCli);
