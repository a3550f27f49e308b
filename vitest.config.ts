import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['main/**/*.test.ts', 'renderer/**/*.test.ts', 'common/**/*.test.ts', 'native/**/*.test.ts', 'scripts/**/*.test.ts', 'bench/**/*.test.ts', 'preload/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
