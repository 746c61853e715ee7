// Worker-thread entry of proof-verifier.ts. The worker loads TypeScript through tsx, like the bin
// shims do (no build step); tsx is resolved from this file's location.
import { register } from 'tsx/esm/api';

register();
await import('./proof-worker.ts');
