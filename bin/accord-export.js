#!/usr/bin/env node
// Runs the TypeScript source directly through tsx (no build step): see README, "Architecture".
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/export.ts');
