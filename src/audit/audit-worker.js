// Audit-thread entry of run-audit.ts when no bundle can be made (worker-bundle.ts): loads the
// TypeScript through tsx like the bin shims do; tsx is resolved from this file's location.
import { register } from 'tsx/esm/api';

register();
await import('./audit-worker.ts');
