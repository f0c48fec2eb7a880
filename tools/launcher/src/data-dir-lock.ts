import { readFileSync, unlinkSync } from 'node:fs';
import { link, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

/** A process named in the lock file; `startTime` tells it apart from a later one with its pid. */
export interface LockedProcess {
  pid: number;
  startTime?: string;
}

interface LockContent extends LockedProcess {
  /** Everything the launcher started: they may still be stopping after the launcher is gone. */
  children: LockedProcess[];
}

/** Thrown when another launcher (or what it started) is still using the data directory. */
export class DataDirInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: number,
    detail: string,
  ) {
    super(
      `DATA_DIR ${dataDir} is in use by process ${holder} (${detail}); stop it or choose another DATA_DIR`,
    );
    this.name = 'DataDirInUseError';
  }
}

/**
 * One launcher per data directory: `DATA_DIR/launcher.lock` names the launcher's pid and the
 * pids of what it started. A lock whose processes are all gone (a launcher that was SIGKILLed)
 * is taken over; while its children are still stopping, the new launcher waits for them first,
 * so two redis-servers or two Firestore emulators never share the files.
 */
export class DataDirLock {
  private readonly content: LockContent;
  private writing: Promise<void> = Promise.resolve();

  private constructor(private readonly path: string) {
    this.content = { ...describe(process.pid), children: [] };
  }

  static async acquire(
    dataDir: string,
    options: { waitForChildrenMs?: number; onWait?: (pids: number[]) => void } = {},
  ): Promise<DataDirLock> {
    const lock = new DataDirLock(join(dataDir, 'launcher.lock'));
    for (let attempt = 1; ; attempt++) {
      if (await lock.tryCreate()) return lock;
      const holder = await readLock(lock.path);
      if (holder !== undefined && isRunning(holder)) {
        throw new DataDirInUseError(dataDir, holder.pid, commandOf(holder.pid));
      }
      const children = holder?.children.filter(isRunning) ?? [];
      if (children.length > 0) {
        options.onWait?.(children.map((c) => c.pid));
        const deadline = Date.now() + (options.waitForChildrenMs ?? 20_000);
        while (children.some(isRunning) && Date.now() < deadline) await delay(100);
        const left = children.find(isRunning);
        if (left !== undefined) {
          throw new DataDirInUseError(
            dataDir,
            left.pid,
            `${commandOf(left.pid)}, left by launcher ${holder?.pid ?? '?'} that is gone`,
          );
        }
      }
      if (attempt >= 5) throw new Error(`Could not take over ${lock.path}`);
      // Stale: its launcher and everything it started are gone.
      await unlink(lock.path).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    }
  }

  /** Records a started child, so a later launcher waits for it even if this one is killed. */
  recordChild(pid: number | undefined): Promise<void> {
    if (pid === undefined) return this.writing;
    this.content.children = this.content.children.filter(isRunning);
    this.content.children.push(describe(pid));
    const tmp = `${this.path}.${process.pid}.tmp`;
    const next = this.writing.then(async () => {
      await writeFile(tmp, JSON.stringify(this.content));
      await rename(tmp, this.path);
    });
    this.writing = next.catch(() => undefined);
    return next;
  }

  /** Synchronous, for the launcher's 'exit': removes the lock if it is still this launcher's. */
  releaseSync(): void {
    try {
      const holder = JSON.parse(readFileSync(this.path, 'utf8')) as Partial<LockContent>;
      if (holder.pid === process.pid) unlinkSync(this.path);
    } catch {
      // Already gone.
    }
  }

  private async tryCreate(): Promise<boolean> {
    // Written whole to a private file, then linked into place: link() fails if the lock exists,
    // so no launcher ever sees a half-written lock or replaces another's.
    const tmp = `${this.path}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(this.content));
    try {
      await link(tmp, this.path);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }
}

async function readLock(path: string): Promise<LockContent | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<LockContent>;
    if (typeof parsed.pid !== 'number') return undefined;
    return { pid: parsed.pid, startTime: parsed.startTime, children: parsed.children ?? [] };
  } catch {
    // Unreadable or gone: nobody can be shown to hold it.
    return undefined;
  }
}

function describe(pid: number): LockedProcess {
  const startTime = startTimeOf(pid);
  return startTime === undefined ? { pid } : { pid, startTime };
}

/** Alive, and the same process that was recorded (pids are reused, e.g. after a reboot). */
function isRunning(process_: LockedProcess): boolean {
  try {
    process.kill(process_.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const now = startTimeOf(process_.pid);
  if (now === 'zombie') return false;
  return process_.startTime === undefined || now === undefined || now === process_.startTime;
}

/** Linux: the start time in clock ticks since boot, from /proc; undefined elsewhere. */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Field 3 is the state, field 22 the start time; fields[0] is field 3.
    if (fields[0] === 'Z') return 'zombie';
    return fields[19];
  } catch {
    return undefined;
  }
}

function commandOf(pid: number): string {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
    return cmd.length > 0 ? cmd.slice(0, 200) : 'a running process';
  } catch {
    return 'a running process';
  }
}
