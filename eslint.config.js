// Typed lint rules need the TypeScript compiler API, which is why TypeScript stays on 5.9.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import redos from 'eslint-plugin-redos';
import { readFileSync } from 'node:fs';

/**
 * recheck's options, owned by recheck.options.json (rule-patterns.test.ts reads the same file):
 * step limits and no clock, so a loaded CI machine gets the same verdict as a quiet one. Recall
 * validation stays skipped (recallTimeout < 0, recheck's default): with no limit it replays the
 * attack on a real engine until recheck gives up, and then reports even /^(a+)+$/ as safe.
 */
const RECHECK = JSON.parse(
  readFileSync(new URL('./recheck.options.json', import.meta.url), 'utf8'),
);

const WEB_CONTRACTS =
  'Import API payload types from @wacrm/api-client; only @wacrm/contracts/inbox and /message-status (shared rules) are allowed here.';

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '.data/**',
      '.tools/**',
      '**/*.config.*',
      // Generated from the OpenAPI document (npm run openapi:update).
      'libs/api-client/src/schema.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { redos },
    rules: {
      // Every regular expression must run in linear time: texts come from strangers on WhatsApp.
      // recheck proves each literal pattern; patterns built at run time are checked by the tests
      // that construct them (services/ai-extractor: rule-patterns.test.ts). Every limit is a step
      // count, none a clock, so the verdict is the same on a loaded CI machine as on a quiet one.
      'redos/no-vulnerable': ['error', RECHECK],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': [
        'error',
        { checksVoidReturn: { arguments: false } },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Read the environment only in libs/config.',
        },
      ],
    },
  },
  {
    // The web client runs in browsers: DOM globals, not Node's.
    files: ['services/web/src/**/*.{ts,tsx}'],
    languageOptions: { globals: globals.browser },
    rules: {
      // API payloads come only from the client generated from the OpenAPI document (issue 21), so
      // the web compiles against what the API documents. From libs/contracts it may take only the
      // zod-free shared rules (status order, inbox stages and defaults), never a payload schema.
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@wacrm/contracts',
              message: WEB_CONTRACTS,
            },
          ],
          patterns: [
            {
              group: [
                '@wacrm/contracts/*',
                '!@wacrm/contracts/inbox',
                '!@wacrm/contracts/message-status',
                '**/libs/contracts/**',
                '@wacrm/*/src/**',
              ],
              message: WEB_CONTRACTS,
            },
          ],
        },
      ],
    },
  },
  {
    // API routes register through documentedRoutes(), whose types require an operationId,
    // summary, description and declared tag (issue 21): the OpenAPI document has them all.
    files: [
      'services/api-gateway/src/entry-points/**/*.ts',
      'services/api-gateway/src/webhooks/**/*.ts',
    ],
    ignores: ['services/api-gateway/src/entry-points/documented.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.property.name='withTypeProvider']",
          message: 'Register API routes through documentedRoutes(root) (./documented.js).',
        },
      ],
    },
  },
  {
    files: ['libs/config/src/**/*.ts', '**/*.test.ts', 'e2e/**/*.ts', 'libs/testing/src/**/*.ts'],
    rules: { 'no-restricted-properties': 'off' },
  },
);
