import { defineConfig } from 'vitest/config';

// The e2e suite: real `memscope serve` children and Debian's Chromium, one spec file at a time (each
// spec starts a browser and a scan; the machine has two cores).
export default defineConfig({
  test: {
    include: ['e2e/**/*.e2e.ts'],
    testTimeout: 180_000,
    hookTimeout: 300_000,
    pool: 'forks',
    fileParallelism: false,
    sequence: { concurrent: false },
  },
});
