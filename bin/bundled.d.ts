// Types of bundled.js (plain JavaScript, so the shims run without tsx) for the TypeScript that imports it.

/** A set of entry points built by one esbuild call and cached together. */
export interface BundleSet {
  /** The cache directory's name. */
  readonly name: string;
  /** Entry points relative to the checkout root; each becomes `<file name without extension>.mjs`. */
  readonly entries: readonly string[];
}

export interface Bundles {
  /** Output name (e.g. `verify`) -> module URL. */
  urls: Record<string, URL>;
  /** true: file: URLs in the cache; false: data: URLs (no writable cache). */
  onDisk: boolean;
}

/** `bundles.json` in a set's cache directory: what the cached bundles were built from. */
export interface BundleManifest {
  format: number;
  /** The checkout root the inputs are relative to. */
  root: string;
  entries: string[];
  /** Input path (relative to root) -> base64 SHA-256. */
  inputs: Record<string, string>;
  /** Output name -> base64 SHA-256. */
  outputs: Record<string, string>;
}

/** accord-verify: its command line and the audit and checking threads it starts. */
export const ACCORD_VERIFY: BundleSet;
/** accord-keygen: `src/cli/keygen.ts`. */
export const ACCORD_KEYGEN: BundleSet;
/** accord-sign: `src/cli/sign.ts`. */
export const ACCORD_SIGN: BundleSet;
/** accord-export: `src/cli/export.ts`. */
export const ACCORD_EXPORT: BundleSet;
/** accord-admin: `src/cli/admin.ts`. */
export const ACCORD_ADMIN: BundleSet;
/** The registry server and its proof-checking thread. */
export const ACCORD_REGISTRY: BundleSet;
/** CommonJS packages never bundled: a bundle require()s them from the checkout root when first needed. */
export const EXTERNAL: readonly string[];
/** The checkout root (absolute, with a trailing separator). */
export const CHECKOUT_ROOT: string;
/** `src/audit/verify-worker.ts` -> `verify-worker`. */
export function outputName(entry: string): string;
/** The bundles of `set`, from the cache or built once per process; null without esbuild or when the build failed. */
export function bundles(set: BundleSet, root?: string): Promise<Bundles | null>;
/** Runs `entry` of `set` as this process's program: its cached bundle, or the source through tsx. */
export function runBundled(set: BundleSet, entry: string): Promise<void>;
