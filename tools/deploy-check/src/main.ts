#!/usr/bin/env node
import { resolve } from 'node:path';
import { checkRepository, formatProblems } from './index.js';

// Usage: wacrm-deploy-check [repository root, default: the current directory]
const root = resolve(process.argv[2] ?? '.');
const problems = await checkRepository(root);
if (problems.length > 0) {
  process.stderr.write(`${formatProblems(problems)}\n${problems.length} problem(s)\n`);
  process.exit(1);
}
process.stdout.write('docker-compose.yml and deploy/k8s are valid\n');
