import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The full tier (`npm run test:full`, MG_TEST_SCALE=full; see test/helpers/scale.ts) runs the heavy
    // tests at their full N: minutes, not seconds.
    testTimeout: process.env.MG_TEST_SCALE === 'full' ? 600_000 : 30_000,
    hookTimeout: 120_000,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
