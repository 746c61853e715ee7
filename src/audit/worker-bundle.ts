/**
 * The code of accord-verify's worker threads as plain JavaScript modules, made by esbuild from
 * audit-worker.ts (the thread that runs the audit) and verify-worker.ts (the threads that check
 * entries and signatures) with what they import. A worker started through tsx would register the
 * loader in each thread (its own loader thread, tens of MB, half a second to start) and run the
 * transformed code, which keeps function names with a helper call per closure and is markedly
 * slower in the schema checks; a bundle starts in about 0.1 s and needs no loader.
 *
 * The workers are built together with the command line (src/cli/verify.ts) as one bundle set,
 * bin/bundled.js's ACCORD_VERIFY: cached in node_modules/.cache/accord-verify/ with the SHA-256 of
 * every input and rebuilt when one changes, in memory without a writable cache. Started as
 * bin/accord-verify.js, the shim has already checked the set and this gets its answer without
 * checking again. Without esbuild the workers fall back to tsx (the .js shims next to this file):
 * slower, same results.
 */
import { fileURLToPath } from 'node:url';
import { ACCORD_VERIFY, bundles } from '../../bin/bundled.js';

export interface WorkerScripts {
  /** The audit thread (audit-worker.ts). */
  audit: URL;
  /** A checking thread (verify-worker.ts). */
  verify: URL;
  /** false: the tsx fallback. */
  bundled: boolean;
}

let scripts: Promise<WorkerScripts> | undefined;

/** The worker scripts for this process: built (or read from the cache) once. */
export function workerScripts(): Promise<WorkerScripts> {
  scripts ??= find();
  return scripts;
}

async function find(): Promise<WorkerScripts> {
  // In a bundle too, import.meta.url is this source file's location (bin/bundled.js relocates it).
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const built = await bundles(ACCORD_VERIFY, root);
  const audit = built?.urls['audit-worker'];
  const verify = built?.urls['verify-worker'];
  if (audit !== undefined && verify !== undefined) return { audit, verify, bundled: true };
  return { audit: new URL('audit-worker.js', import.meta.url), verify: new URL('verify-worker.js', import.meta.url), bundled: false };
}
