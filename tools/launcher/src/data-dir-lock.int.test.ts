import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DataDirInUseError, DataDirLock } from './data-dir-lock.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wacrm-lock-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A real process that stays until killed. */
function sleeper(): ChildProcess {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  });
  return child;
}

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await once(child, 'exit');
  return child.pid!;
}

/** Field 22 of /proc/PID/stat, as the lock records it. */
function startTime(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}

describe('DataDirLock', () => {
  it('when the data dir is free, then the lock names this process and is removed on release', async () => {
    const dir = await dataDir();

    const lock = await DataDirLock.acquire(dir);

    const content = JSON.parse(await readFile(join(dir, 'launcher.lock'), 'utf8')) as {
      pid: number;
    };
    expect(content.pid).toBe(process.pid);
    lock.releaseSync();
    await expect(readFile(join(dir, 'launcher.lock'), 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it('when a running process holds the lock, then acquiring fails naming its pid', async () => {
    const dir = await dataDir();
    const holder = sleeper();
    await writeFile(
      join(dir, 'launcher.lock'),
      JSON.stringify({ pid: holder.pid, startTime: startTime(holder.pid!), children: [] }),
    );

    const error = await DataDirLock.acquire(dir).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(DataDirInUseError);
    expect((error as Error).message).toContain(
      `DATA_DIR ${dir} is in use by process ${holder.pid}`,
    );
  });

  it('when the lock names a dead pid, or a live pid started at another time (reused), then it is taken over', async () => {
    for (const holder of [{ pid: await deadPid() }, { pid: sleeper().pid!, startTime: '1' }]) {
      const dir = await dataDir();
      await writeFile(join(dir, 'launcher.lock'), JSON.stringify({ ...holder, children: [] }));

      const lock = await DataDirLock.acquire(dir);

      const content = JSON.parse(await readFile(join(dir, 'launcher.lock'), 'utf8')) as {
        pid: number;
      };
      expect(content.pid).toBe(process.pid);
      lock.releaseSync();
    }
  });

  it('when the launcher is gone but a child it recorded still runs, then the next waits for it and refuses if it stays', async () => {
    const dir = await dataDir();
    const child = sleeper();
    const lockFile = JSON.stringify({
      pid: await deadPid(),
      children: [{ pid: child.pid, startTime: startTime(child.pid!) }],
    });
    await writeFile(join(dir, 'launcher.lock'), lockFile);

    const refused = await DataDirLock.acquire(dir, { waitForChildrenMs: 300 }).catch(
      (e: unknown) => e,
    );
    expect((refused as Error).message).toContain(`is in use by process ${child.pid}`);

    const waited: number[][] = [];
    const acquiring = DataDirLock.acquire(dir, {
      waitForChildrenMs: 10_000,
      onWait: (pids) => waited.push(pids),
    });
    setTimeout(() => child.kill('SIGTERM'), 300);
    const lock = await acquiring;
    expect(waited).toEqual([[child.pid]]);
    lock.releaseSync();
  });
});
