import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Both cores: the default leaves one idle on a 2-core machine.
    maxWorkers: 2,
    minWorkers: 1,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
