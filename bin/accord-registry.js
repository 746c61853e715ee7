#!/usr/bin/env node
// The registry server (`npm start`): runs the cached esbuild bundle of src/main.ts (with its proof
// thread), built on first use and whenever a source changes; the TypeScript source through tsx
// when it cannot: see bundled.js.
import { ACCORD_REGISTRY, runBundled } from './bundled.js';

await runBundled(ACCORD_REGISTRY, 'src/main.ts');
