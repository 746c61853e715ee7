#!/usr/bin/env node
// Runs the cached esbuild bundle of src/cli/verify.ts (with its worker threads), built on first use
// and whenever a source changes; the TypeScript source through tsx when it cannot: see bundled.js.
import { ACCORD_VERIFY, runBundled } from './bundled.js';

await runBundled(ACCORD_VERIFY, 'src/cli/verify.ts');
