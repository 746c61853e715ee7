#!/usr/bin/env node
// Runs the cached esbuild bundle of src/cli/export.ts, built on first use and whenever a source
// changes; the TypeScript source through tsx when it cannot: see bundled.js.
import { ACCORD_EXPORT, runBundled } from './bundled.js';

await runBundled(ACCORD_EXPORT, 'src/cli/export.ts');
