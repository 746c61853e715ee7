/**
 * Where accord-verify reads a registry from (DESIGN 8): a registry URL (the site root; only
 * `/.well-known/accord-registry.json` and `/log/...` are read), a mirror directory holding the same
 * paths, or a proof bundle file (DESIGN 7, `proof.json`).
 *
 * A file that is absent (HTTP 404 or 410, a file missing from a mirror) is `null`: the caller turns
 * it into a finding. Anything that stops us from looking at all (network failure, HTTP 5xx or
 * another unexpected status, a file we may not read) throws SOURCE_UNAVAILABLE: exit 2.
 */
import { open, readFile, stat, type FileHandle } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { AccordError } from '../core/errors.ts';
import { readCappedBody } from '../node/read-capped.ts';

/** Reads a file by its path relative to the site root, e.g. `log/checkpoint`; null when absent. */
export type FileFetcher = (path: string) => Promise<Uint8Array | null>;
/**
 * fetchFile into memory the caller provides: `into(size)` gives a view of `size` bytes to fill,
 * which is returned (null when absent). The auditor reads every tile of a log into a few buffers
 * it reuses, instead of allocating one per tile.
 */
export type FileReader = (path: string, into: (size: number) => Uint8Array) => Promise<Uint8Array | null>;

export type Source =
  /** `target`: what openSource was given, so that a worker thread can open the same source. */
  | { kind: 'registry' | 'mirror'; label: string; fetchFile: FileFetcher; readInto?: FileReader; target?: string }
  | { kind: 'bundle'; label: string; bytes: Uint8Array };

/** The largest file we read: a full entry bundle of 256 maximal entries (tlog-tiles). */
export const MAX_FILE_BYTES = 256 * (2 + 0xffff);
const FETCH_TIMEOUT_MS = 60_000;

function unavailable(message: string, cause?: unknown): AccordError {
  return new AccordError('SOURCE_UNAVAILABLE', message, cause === undefined ? undefined : { cause });
}

export async function openSource(target: string): Promise<Source> {
  if (/^https?:\/\//i.test(target)) return registrySource(target);
  let info;
  try {
    info = await stat(target);
  } catch (cause) {
    throw unavailable(`cannot read ${target}: ${(cause as Error).message}`, cause);
  }
  if (info.isDirectory()) return mirrorSource(target);
  if (info.size > MAX_FILE_BYTES) throw unavailable(`${target} is ${info.size} bytes, too large for a proof bundle`);
  try {
    return { kind: 'bundle', label: `proof bundle ${target}`, bytes: toPlainBytes(await readFile(target)) };
  } catch (cause) {
    throw unavailable(`cannot read ${target}: ${(cause as Error).message}`, cause);
  }
}

/** A Buffer as a plain Uint8Array view (the core's hashing is faster on those). */
function toPlainBytes(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function checkRelative(path: string): void {
  // Paths come from our own code (tile paths); refuse anything that could leave the root anyway.
  if (path.startsWith('/') || path.split('/').some((p) => p === '..' || p === '')) {
    throw new AccordError('BAD_ARGUMENT', `not a relative site path: ${path}`);
  }
}

function mirrorSource(dir: string): Source {
  const root = resolve(dir);
  const fileOf = (path: string): string => {
    checkRelative(path);
    const file = join(root, ...path.split('/'));
    if (!file.startsWith(root + sep)) throw new AccordError('BAD_ARGUMENT', `path leaves the mirror: ${path}`);
    return file;
  };
  return {
    kind: 'mirror',
    label: `mirror directory ${dir}`,
    target: root,
    readInto: async (path, into) => readFileInto(fileOf(path), into),
    async fetchFile(path: string): Promise<Uint8Array | null> {
      const file = fileOf(path);
      try {
        const info = await stat(file);
        if (!info.isFile()) return null;
        if (info.size > MAX_FILE_BYTES) throw unavailable(`${file} is ${info.size} bytes, larger than any tile`);
        return toPlainBytes(await readFile(file));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return null;
        if (e instanceof AccordError) throw e;
        throw unavailable(`cannot read ${file}: ${(e as Error).message}`, e);
      }
    },
  };
}

/** The mirror's readInto: the whole file, read straight into the caller's view. */
async function readFileInto(file: string, into: (size: number) => Uint8Array): Promise<Uint8Array | null> {
  let handle: FileHandle;
  try {
    // Looked at before it is opened: opening a FIFO would wait for a writer.
    if (!(await stat(file)).isFile()) return null;
    handle = await open(file, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw unavailable(`cannot read ${file}: ${(e as Error).message}`, e);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) return null;
    if (info.size > MAX_FILE_BYTES) throw unavailable(`${file} is ${info.size} bytes, larger than any tile`);
    const view = into(info.size);
    let done = 0;
    while (done < view.length) {
      const { bytesRead } = await handle.read(view, done, view.length - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    // A file that changes while it is read has no one content to check.
    if (done !== view.length || (await handle.read(new Uint8Array(1), 0, 1, done)).bytesRead !== 0) {
      throw unavailable(`${file} changed while it was read`);
    }
    return view;
  } catch (e) {
    if (e instanceof AccordError) throw e;
    throw unavailable(`cannot read ${file}: ${(e as Error).message}`, e);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

function registrySource(target: string): Source {
  let base: URL;
  try {
    base = new URL(target);
  } catch (cause) {
    throw new AccordError('USAGE', `not a URL: ${target}`, { cause });
  }
  if (base.search !== '' || base.hash !== '') throw new AccordError('USAGE', `a registry URL is the site root, without query or fragment: ${target}`);
  // Relative resolution keeps a path prefix (https://example.org/registry/ -> .../registry/log/...).
  if (!base.pathname.endsWith('/')) base.pathname += '/';
  return {
    kind: 'registry',
    label: `registry ${base.href}`,
    target: base.href,
    fetchFile: (path: string) => fetchFile(new URL(path, base), path),
  };
}

async function fetchFile(url: URL, path: string): Promise<Uint8Array | null> {
  checkRelative(path);
  let res: Response;
  try {
    // No redirects: only the registry's own paths are read (DESIGN 8).
    res = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  } catch (cause) {
    const why = cause instanceof Error ? ((cause.cause as Error | undefined)?.message ?? cause.message) : String(cause);
    throw unavailable(`cannot fetch ${url.href}: ${why}`, cause);
  }
  if (res.status === 404 || res.status === 410) {
    await res.body?.cancel();
    return null;
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    throw unavailable(`${url.href} answered HTTP ${res.status}${res.status >= 500 ? ' (server error)' : ''}`);
  }
  return readCapped(res, url);
}

/** Reads a response body, refusing more than MAX_FILE_BYTES without buffering it all first. */
async function readCapped(res: Response, url: URL): Promise<Uint8Array> {
  try {
    return await readCappedBody(res, MAX_FILE_BYTES, (declared) =>
      unavailable(declared === null ? `${url.href} is larger than any tile (over ${MAX_FILE_BYTES} bytes)` : `${url.href} is ${declared} bytes, larger than any tile`),
    );
  } catch (cause) {
    if (cause instanceof AccordError) throw cause;
    throw unavailable(`reading ${url.href} failed: ${(cause as Error).message}`, cause);
  }
}
