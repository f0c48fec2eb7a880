import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '@wacrm/emulators';
import {
  commandLine,
  descendants,
  isAlive,
  startLauncher,
  type LauncherProcess,
} from './launcher-process.js';
import { systemApi } from './system-api.js';

// `npm start` killed the way a new user's machine kills it: SIGKILL to the launcher alone (the
// OOM killer, `kill -9`), with no chance to stop anything in order.
let dataDir: string;
const launchers: LauncherProcess[] = [];
const seenPids = new Set<number>();

async function launcherEnv(): Promise<Record<string, string>> {
  return {
    DATA_DIR: dataDir,
    PORT: String(await freePort()),
    REDIS_PORT: String(await freePort()),
    FIRESTORE_EMULATOR_PORT: String(await freePort()),
    FIREBASE_PROJECT_ID: 'demo-e2e-crash',
    // The launcher must start its own dependencies, whatever the outer environment says.
    REDIS_URL: '',
    FIRESTORE_EMULATOR_HOST: '',
    ADMIN_TOKEN: '',
  };
}

function launch(env: Record<string, string>): LauncherProcess {
  const launcher = startLauncher(env);
  launchers.push(launcher);
  return launcher;
}

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'wacrm-e2e-crash-'));
});

afterEach(async () => {
  for (const launcher of launchers.splice(0)) await launcher.interrupt();
  // Whatever outlived a failed assertion must not outlive the test.
  for (const pid of seenPids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  seenPids.clear();
  await rm(dataDir, { recursive: true, force: true });
});

/** So that afterEach can kill whatever a failed test left running. */
function rememberDescendants(launcher: LauncherProcess): void {
  if (launcher.child.pid === undefined) return;
  for (const pid of descendants(launcher.child.pid)) seenPids.add(pid);
}

describe('npm start (launcher) killed with SIGKILL', () => {
  it('when the launcher is SIGKILLed, then every process it started ends within seconds and the next start takes over', async () => {
    const env = await launcherEnv();
    const first = launch(env);
    await first.ready;
    const pid = first.child.pid!;
    const children = descendants(pid);
    children.forEach((p) => seenPids.add(p));
    const commands = children.map(commandLine).join('\n');
    // redis-server, the Firestore emulator and the seven services on embedded defaults.
    expect(children.length, commands).toBeGreaterThanOrEqual(9);
    expect(commands).toMatch(/redis-server/);
    expect(commands).toMatch(/firestore-emulator\.main\.js/);

    process.kill(pid, 'SIGKILL');

    const deadline = Date.now() + 10_000;
    let alive = children.filter(isAlive);
    while (alive.length > 0 && Date.now() < deadline) {
      await delay(100);
      alive = children.filter(isAlive);
    }
    expect(
      alive.map((p) => `${p} ${commandLine(p)}`),
      `${children.length} processes started`,
    ).toEqual([]);

    const second = launch(await launcherEnv());
    await second.ready;
    expect(second.output()).not.toMatch(/in use by/);
  });

  it('when a second launcher starts on a DATA_DIR in use, then it exits non-zero naming the process that holds it', async () => {
    const first = launch(await launcherEnv());
    await first.ready;
    rememberDescendants(first);

    const second = launch(await launcherEnv());
    const outcome = await Promise.race([
      once(second.child, 'exit').then(([code]) => ({ exitCode: code as number | null })),
      // `ready` rejects when the launcher exits first; the exit code is what is asserted then.
      second.ready.then(
        () => ({ exitCode: 'started' as const }),
        () => once(second.child, 'exit').then(([code]) => ({ exitCode: code as number | null })),
      ),
    ]);
    rememberDescendants(second);

    expect(outcome.exitCode, second.output().slice(-3_000)).not.toBe('started');
    expect(outcome.exitCode).not.toBe(0);
    expect(second.output()).toContain(
      `DATA_DIR ${dataDir} is in use by process ${first.child.pid}`,
    );
    const health = await (await systemApi(await first.ready)).GET('/health');
    expect(health.response.status).toBe(200);
  });
});
