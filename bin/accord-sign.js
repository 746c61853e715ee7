#!/usr/bin/env node
// Runs the cached esbuild bundle of src/cli/sign.ts, built on first use and whenever a source
// changes; the TypeScript source through tsx when it cannot: see bundled.js.
import { ACCORD_SIGN, runBundled } from './bundled.js';

await runBundled(ACCORD_SIGN, 'src/cli/sign.ts');
