// Worker-thread entry of verify-pool.ts. Workers load TypeScript through tsx like the bin shims
// do (no build step); tsx is resolved from this file's location, so the working directory of the
// command line does not matter.
import { register } from 'tsx/esm/api';

register();
await import('./verify-worker.ts');
