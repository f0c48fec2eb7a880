import { fileURLToPath } from 'node:url';
import { ESLint, type Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

/**
 * `npm run lint` must refuse a catastrophic regular expression (issue 15). This takes the
 * `redos/no-vulnerable` setting the repository's own eslint.config.js gives a service's source
 * file and runs exactly that rule over planted code (the type-aware rules, which need the whole
 * program, are left out so the test stays fast).
 */
const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const A_SOURCE_FILE = 'services/ai-extractor/src/domain/extract-event.handler.ts';

async function lintWithRepoRedosRule(code: string): Promise<string[]> {
  const repo = new ESLint({ cwd: REPO });
  const config = (await repo.calculateConfigForFile(A_SOURCE_FILE)) as {
    rules: Partial<Record<string, Linter.RuleEntry>>;
    plugins: Partial<Record<string, ESLint.Plugin>>;
  };
  const setting = config.rules['redos/no-vulnerable'];
  const redos = config.plugins.redos;
  expect(setting, 'eslint.config.js enables redos/no-vulnerable for service sources').toBeDefined();
  expect(redos, 'eslint.config.js loads eslint-plugin-redos').toBeDefined();
  const eslint = new ESLint({
    cwd: REPO,
    overrideConfigFile: true,
    overrideConfig: [
      {
        files: ['**/*.ts'],
        languageOptions: { parser: tseslint.parser },
        plugins: { redos: redos! },
        rules: { 'redos/no-vulnerable': setting! },
      },
    ],
  });
  const [result] = await eslint.lintText(code, { filePath: 'planted.ts' });
  return (result?.messages ?? []).map((m) => `${m.line}:${m.ruleId ?? 'parse'}:${m.severity}`);
}

describe('the lint ReDoS check', () => {
  it('when a catastrophic pattern is planted, then npm run lint reports it as an error', async () => {
    const planted = [
      'export const nested = /^(a+)+$/;', // exponential: the textbook case
      'export const days = /^(\\s*\\d+)+$/;', // exponential, over the texts contacts send
      'export const words = /(\\w+\\s?)*!/;', // exponential, a separator that may be empty
      'export const line = /^\\d+$/;', // linear: must pass
    ].join('\n');
    expect(await lintWithRepoRedosRule(planted)).toEqual([
      '1:redos/no-vulnerable:2',
      '2:redos/no-vulnerable:2',
      '3:redos/no-vulnerable:2',
    ]);
  }, 120_000);
});
