import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One DynamoDB Local for the run; each file makes its own tables (test/helpers/dynamodb.ts).
    globalSetup: ['./test/global-setup.ts'],
    // The full tier (`npm run test:full`, MG_TEST_SCALE=full; see test/helpers/scale.ts) runs the heavy
    // tests at their full N: minutes, not seconds.
    testTimeout: process.env.MG_TEST_SCALE === 'full' ? 600_000 : 30_000,
    hookTimeout: 120_000,
    // Vitest's default is one worker fewer than the CPUs: one on a 2-core CI box, so every file ran in
    // series while a core waited on DynamoDB Local, Chromium or a child process. One per core, at least two.
    maxWorkers: Math.max(2, availableParallelism()),
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
