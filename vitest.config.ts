import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

// Workspace packages resolve to their TypeScript sources (the "source" export condition),
// so tests never need a build; e2e tests run the built services the way `npm start` does.
const resolve = {
  conditions: ['source'],
  // @firestore-emulator/server's ESM build imports paths without extensions, which Node rejects.
  alias: [
    {
      find: '@firestore-emulator/server',
      replacement: require.resolve('@firestore-emulator/server'),
    },
    // Global setup runs outside the projects' SSR environment, where export conditions are not
    // applied; an alias reaches the libraries' sources everywhere without a build.
    {
      find: /^@wacrm\/(contracts|config|observability|queue|firestore|emulators|testing|wa-emulator|net)$/,
      replacement: fileURLToPath(new URL('./libs/$1/src/index.ts', import.meta.url)),
    },
  ],
};
const env = { METADATA_SERVER_DETECTION: 'none', NODE_ENV: 'test' };

export default defineConfig({
  resolve,
  ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
  test: {
    env,
    projects: [
      {
        resolve,
        ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
        test: {
          name: 'unit',
          env,
          include: ['{libs,services,tools}/*/src/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/node_modules/**', '**/dist/**'],
        },
      },
      {
        resolve,
        ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
        test: {
          name: 'integration',
          env,
          include: ['{libs,services,tools}/*/src/**/*.int.test.ts'],
          globalSetup: ['libs/testing/src/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        resolve,
        ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
        test: {
          name: 'e2e',
          env,
          include: ['e2e/**/*.test.ts'],
          exclude: ['e2e/chaos/**', '**/node_modules/**'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        resolve,
        ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
        test: {
          // `npm run test:chaos`: the whole system as real processes under kills and outages.
          name: 'chaos',
          env,
          include: ['e2e/chaos/**/*.chaos.test.ts'],
          testTimeout: 900_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
