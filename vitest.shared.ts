import { defineConfig } from 'vitest/config';

/**
 * Test configuration every workspace shares. Tests that stop or restart the shared
 * RabbitMQ broker are named `*.fault.test.ts`: they run in a second phase, one file at a
 * time across the whole repository (`npm run test:faults`), so they never break a
 * neighbour's suite that is using the same broker.
 */
export const testConfig = (faults = process.env.MAGASIN_TEST_PHASE === 'faults') =>
  defineConfig({
    test: {
      include: faults ? ['{src,test}/**/*.fault.test.ts'] : ['{src,test}/**/*.test.ts'],
      exclude: faults ? [] : ['**/*.fault.test.ts', '**/node_modules/**'],
      fileParallelism: !faults,
      passWithNoTests: true,
      testTimeout: 30_000,
      hookTimeout: 60_000,
      teardownTimeout: 30_000,
      reporters: process.env.CI ? ['default'] : ['default'],
    },
  });
