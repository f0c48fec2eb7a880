#!/usr/bin/env node
// The OpenAPI document and the client generated from it, checked or updated from the route code.
//   node libs/api-client/scripts/openapi.mjs check   (npm run lint:openapi): lints the document
//     the api-gateway serves with Redocly (recommended) and Spectral (spectral:oas), failing on
//     any error or warning, and fails when libs/api-client/openapi.json or src/schema.ts is stale.
//   node libs/api-client/scripts/openapi.mjs update  (npm run openapi:update): rewrites both.
// Needs the api-gateway built (dist/openapi-export.js builds the app without listening). Both
// linters run offline: Redocly's telemetry and update check are off, Spectral's ruleset is built in.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const pkg = join(root, 'libs/api-client');
const committedDoc = join(pkg, 'openapi.json');
const committedSchema = join(pkg, 'src/schema.ts');
const bin = (name) => join(root, 'node_modules/.bin', name);
const mode = process.argv[2] ?? 'check';
const tmp = mkdtempSync(join(tmpdir(), 'wacrm-openapi-'));
const env = {
  ...process.env,
  REDOCLY_TELEMETRY: 'off',
  REDOCLY_SUPPRESS_NOTIFICATIONS: 'true',
  REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true',
};

function run(cmd, args) {
  return spawnSync(cmd, args, { cwd: root, env, encoding: 'utf8', maxBuffer: 64 << 20 });
}

let failed = false;
try {
  const doc = join(tmp, 'openapi.json');
  execFileSync(
    process.execPath,
    ['--no-warnings', join(root, 'services/api-gateway/dist/openapi-export.js'), doc],
    {
      cwd: root,
      env,
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );

  const redocly = run(bin('redocly'), [
    'lint',
    '--extends',
    'recommended',
    '--format',
    'json',
    doc,
  ]);
  const totals = JSON.parse(redocly.stdout.slice(redocly.stdout.indexOf('{'))).totals;
  console.log(
    `openapi: Redocly recommended — ${totals.errors} errors, ${totals.warnings} warnings`,
  );
  if (totals.errors + totals.warnings > 0) {
    failed = true;
    process.stdout.write(run(bin('redocly'), ['lint', '--extends', 'recommended', doc]).stdout);
  }
  const ruleset = join(tmp, 'spectral.yaml');
  writeFileSync(ruleset, 'extends: ["spectral:oas"]\n');
  const report = join(tmp, 'spectral.json');
  run(bin('spectral'), ['lint', '--format', 'json', '--output', report, '-r', ruleset, doc]);
  const results = JSON.parse(readFileSync(report, 'utf8'));
  console.log(`openapi: Spectral spectral:oas — ${results.length} problems`);
  for (const r of results) {
    failed = true;
    console.log(`  ${r.code} ${r.path.join('.')}: ${r.message}`);
  }

  const schema = join(tmp, 'schema.ts');
  execFileSync(bin('openapi-typescript'), [doc, '--output', schema], {
    cwd: root,
    stdio: 'ignore',
  });
  if (mode === 'update') {
    writeFileSync(committedDoc, readFileSync(doc));
    writeFileSync(committedSchema, readFileSync(schema));
    console.log('openapi: libs/api-client/openapi.json and src/schema.ts updated');
  } else {
    for (const [fresh, committed] of [
      [doc, committedDoc],
      [schema, committedSchema],
    ]) {
      if (readFileSync(fresh, 'utf8') !== readFileSync(committed, 'utf8')) {
        failed = true;
        console.log(
          `openapi: ${committed.slice(root.length + 1)} is stale (the routes changed): run npm run openapi:update`,
        );
      }
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
