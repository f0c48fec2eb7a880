import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The lock test harnesses hold while they build the libraries' and services' dist. */
export const BUILD_LOCK = join(tmpdir(), 'wacrm-wa-gateway-build.lock');

function holderAlive(lock: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(lock, 'pid'), 'utf8'));
  } catch {
    // Made but its pid not written yet: a holder is starting.
    return true;
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Runs `work` while holding a lock directory shared by every test worker on the machine, so one
 * build runs at a time and no process reads a half-written dist. The holder's pid is in the lock:
 * a lock left by a run that was killed (its pid gone) is taken over at once instead of making every
 * later run wait out the deadline and fail.
 */
export function withBuildLock<T>(
  work: () => T,
  options: { lock?: string; timeoutMs?: number } = {},
): T {
  const lock = options.lock ?? BUILD_LOCK;
  const deadline = Date.now() + (options.timeoutMs ?? 300_000);
  let staleChecked = 0;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // A holder that is starting has not written its pid: give it a few rounds before judging.
      if (!holderAlive(lock) && ++staleChecked > 2) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new Error(`build lock ${lock} held for ${options.timeoutMs ?? 300_000} ms`);
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    return work();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
