import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Storage tests start their own PostgreSQL; keep files in separate processes.
    pool: 'forks',
  },
});
