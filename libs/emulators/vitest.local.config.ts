import { defineConfig } from 'vitest/config';

// Throwaway: the root integration project needs libs/testing's global setup, which does not exist yet.
export default defineConfig({
  resolve: { conditions: ['source'] },
  test: {
    env: { METADATA_SERVER_DETECTION: 'none', NODE_ENV: 'test' },
    include: ['libs/emulators/src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
