// Checking-thread entry of verify-pool.ts when no bundle can be made (worker-bundle.ts): loads
// the TypeScript through tsx like the bin shims do; tsx is resolved from this file's location, so
// the working directory of the command line does not matter.
import { register } from 'tsx/esm/api';

register();
await import('./verify-worker.ts');
