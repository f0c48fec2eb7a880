import { execFile } from 'node:child_process';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnNodeProcess, type NodeProcess } from '@wacrm/testing';

const run = promisify(execFile);
const packageDir = fileURLToPath(new URL('..', import.meta.url));
const rootDir = join(packageDir, '..', '..');
const entry = join(packageDir, 'dist', 'wa-emulator.main.js');

let dataDir: string;
const processes: NodeProcess[] = [];

beforeAll(async () => {
  // The process runs the build output, as the launcher does: build what it imports first.
  const tsc = join(rootDir, 'node_modules', '.bin', 'tsc');
  for (const lib of ['contracts', 'config']) {
    await run(tsc, ['-p', join(rootDir, 'libs', lib, 'tsconfig.build.json')], { cwd: rootDir });
  }
  await run(tsc, ['-p', join(packageDir, 'tsconfig.build.json')], { cwd: rootDir });
  dataDir = await mkdtemp(join(tmpdir(), 'wa-emulator-main-'));
}, 120_000);

afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop('SIGKILL')));
  await rm(dataDir, { recursive: true, force: true });
});

function start(env: Record<string, string>): NodeProcess {
  const child = spawnNodeProcess({ name: 'wa-emulator', entry, cwd: rootDir, env });
  processes.push(child);
  return child;
}

async function readyLine(child: NodeProcess): Promise<Record<string, unknown>> {
  await expect
    .poll(() => child.lines.find((l) => l.msg === 'wa-emulator ready'), { timeout: 15_000 })
    .toBeDefined();
  return child.lines.find((l) => l.msg === 'wa-emulator ready')!;
}

describe('wa-emulator.main', () => {
  it('when started with a data dir, then it logs its loopback URL, serves the control API and stops cleanly on SIGTERM', async () => {
    const child = start({ WA_EMULATOR_DATA_DIR: dataDir, WA_EMULATOR_PORT: '0' });
    const ready = await readyLine(child);
    expect(ready.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(ready.socketUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/ws\?account=/);
    expect(ready.mediaHost).toMatch(/^127\.0\.0\.1:\d+$/);
    const health = await fetch(`${String(ready.url)}/health`);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ca = await fetch(`${String(ready.url)}/media-ca.pem`);
    const pem = await ca.text();
    expect(pem).toContain('BEGIN CERTIFICATE');
    expect(await readFile(String(ready.mediaCaFile), 'utf8')).toBe(pem);

    await child.stop('SIGTERM');
    expect(child.child.exitCode).toBe(0);
    expect(child.lines.some((l) => l.msg === 'wa-emulator stopping')).toBe(true);
    await access(join(dataDir, 'wa-emulator-state.json'));
  });

  it('when asked to listen beyond loopback, then it refuses to start', async () => {
    const child = start({ WA_EMULATOR_HOST: '0.0.0.0' });
    // EX_CONFIG: the configuration names what is wrong.
    expect(await child.exited).toBe(78);
  });
});
