/**
 * The proof worker's module for the registry process: proof-worker.ts bundled by esbuild together
 * with the server (bin/bundled.js's ACCORD_REGISTRY set, cached in node_modules/.cache/), so the
 * thread starts without a TypeScript loader (tsx would start its own loader thread in the worker,
 * tens of MB) and runs untransformed code. Started as `npm start` (bin/accord-registry.js), the
 * shim has already checked the set and this gets its answer without checking again. Without
 * esbuild, the source shim next to proof-worker.ts: slower to start, same verdicts.
 */
import { fileURLToPath } from 'node:url';
import { ACCORD_REGISTRY, bundles } from '../../bin/bundled.js';
import { PROOF_WORKER_SOURCE } from './proof-verifier.ts';

export async function proofWorkerScript(): Promise<URL> {
  // In a bundle too, import.meta.url is this source file's location (bin/bundled.js relocates it).
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const built = await bundles(ACCORD_REGISTRY, root);
  return built?.urls['proof-worker'] ?? PROOF_WORKER_SOURCE;
}
