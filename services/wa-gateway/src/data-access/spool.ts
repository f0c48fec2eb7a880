import { randomBytes } from 'node:crypto';
import {
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  stat,
  unlink,
  utimes,
  writeFile,
  type FileHandle,
} from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

export interface SpooledJob {
  name: string;
  jobId: string;
  payload: unknown;
}

export interface SpoolOptions {
  /** Shared by every instance that may replay another's spool (a persistent volume). */
  dir: string;
  /** The instance's name; each process adds a nonce, so two processes never share a file. */
  instanceId: string;
  /** A segment whose owner has not shown a sign of life for this long may be replayed by anyone. */
  orphanAfterMs: number;
}

/** One file of the spool: appended to while active, then sealed, replayed and removed. */
export interface SpoolSegment {
  path: string;
  /** Jobs fsync'd into it (for a claimed orphan: complete lines found in it). */
  count: number;
}

interface ActiveSegment extends SpoolSegment {
  handle: FileHandle;
  /** The write + fsync in flight on this file, if any. */
  inflight: Promise<void> | null;
}

interface OwnerBeacon {
  host: string;
  pid: number;
  /** When the process started (ms): tells a reused pid (a container's pid 1) from this process. */
  processStartedAt: number;
}

const processStartedAt = () => Math.round(Date.now() - process.uptime() * 1_000);

const SEGMENT = /^([\w-]+~[\w-]+)\.(\d{10})\.spool\.jsonl$/;
/** The single-file spool of earlier versions, `<instance>.spool.jsonl`, replayed once stale. */
const LEGACY = /^[\w.-]+\.spool\.jsonl$/;

/**
 * An append-only, fsync'd store of jobs that could not reach Redis, in segment files of a
 * directory shared by instances. Appends arriving together share one write + fsync (group commit).
 *
 * Files are never truncated: `rotate()` starts a new segment and seals the old one, which is
 * replayed and then removed, so an append can never land in a file being emptied. A live owner
 * keeps a beacon file fresh; a segment whose owner is dead (beacon stale, or its pid gone on this
 * host) is an orphan, and an instance takes it over by renaming it under its own name — an atomic
 * rename, so exactly one instance replays each file.
 */
export class Spool {
  readonly owner: string;
  private readonly beaconPath: string;
  private active: ActiveSegment | null = null;
  private readonly sealed: SpoolSegment[] = [];
  private sequence = 0;
  private waiting: Array<{ line: string; done: (error?: Error) => void }> = [];
  private writing: Promise<void> | null = null;
  private rotating: Promise<void> | null = null;
  private beat: NodeJS.Timeout | null = null;
  private lastBeatAt = 0;
  /** Jobs appended (or claimed) and not yet replayed. */
  size = 0;

  constructor(private readonly options: SpoolOptions) {
    const safe = options.instanceId.replace(/[^\w-]/g, '_');
    this.owner = `${safe}~${process.pid}-${randomBytes(4).toString('hex')}`;
    this.beaconPath = join(options.dir, `${this.owner}.owner`);
  }

  get dir(): string {
    return this.options.dir;
  }

  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    // The beacon exists before any segment, so no segment of a live owner is ever without one.
    const beacon: OwnerBeacon = {
      host: hostname(),
      pid: process.pid,
      processStartedAt: processStartedAt(),
    };
    await writeFile(this.beaconPath, JSON.stringify(beacon), { mode: 0o600 });
    this.lastBeatAt = Date.now();
    const every = Math.max(50, Math.floor(this.options.orphanAfterMs / 6));
    this.beat = setInterval(() => void this.heartbeat(), every);
    this.beat.unref();
    this.active = await this.openSegment();
  }

  append(job: SpooledJob): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({
        line: `${JSON.stringify(job)}\n`,
        done: (e) => (e ? reject(e) : resolve()),
      });
      this.writing ??= this.writeLoop();
    });
  }

  /** Appends waiting or in flight. */
  get busy(): boolean {
    return this.writing !== null || this.waiting.length > 0 || this.rotating !== null;
  }

  /** True when the active segment holds nothing and nothing is being appended. */
  get activeEmpty(): boolean {
    return !this.busy && (this.active?.count ?? 0) === 0;
  }

  /** Sealed segments waiting for replay, oldest first. */
  get pending(): readonly SpoolSegment[] {
    return this.sealed;
  }

  /** Resolves when no append is in flight. */
  async idle(): Promise<void> {
    while (this.writing ?? this.rotating) await (this.writing ?? this.rotating);
  }

  /**
   * Seals the active segment (once its last write is on disk) and starts a new one: appends from
   * now on go to the new file, the sealed one can be replayed and removed.
   */
  rotate(): Promise<void> {
    this.rotating ??= this.rotateOnce().finally(() => (this.rotating = null));
    return this.rotating;
  }

  private async rotateOnce(): Promise<void> {
    const old = this.active;
    if (old === null || (old.count === 0 && old.inflight === null && this.waiting.length === 0)) {
      return;
    }
    this.active = await this.openSegment();
    // A batch started before the switch still writes to the old file; wait for it.
    while (old.inflight) await old.inflight;
    await old.handle.close();
    if (old.count > 0) this.sealed.push({ path: old.path, count: old.count });
    else await unlink(old.path).catch(() => undefined);
  }

  async read(segment: SpoolSegment): Promise<SpooledJob[]> {
    return parseLines(await readFile(segment.path, 'utf8'));
  }

  /** Removes a sealed segment whose every job reached Redis. */
  async remove(segment: SpoolSegment): Promise<void> {
    await unlink(segment.path).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
    const i = this.sealed.indexOf(segment);
    if (i >= 0) this.sealed.splice(i, 1);
    this.size -= segment.count;
  }

  /**
   * Takes over every segment of the directory whose owner is dead, by renaming it under this
   * instance's name; returns the jobs taken over. A rename that loses the race (ENOENT) means
   * another instance took the file.
   */
  async claimOrphans(now = Date.now()): Promise<number> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const deadOwners = new Map<string, boolean>();
    let claimed = 0;
    for (const name of names.sort()) {
      const match = SEGMENT.exec(name);
      const owner = match?.[1];
      if (owner === this.owner) continue;
      const path = join(this.dir, name);
      let orphan: boolean;
      if (owner !== undefined) {
        if (!deadOwners.has(owner)) deadOwners.set(owner, await this.ownerDead(owner, now));
        orphan = deadOwners.get(owner) === true;
      } else if (LEGACY.test(name)) {
        const info = await stat(path).catch(() => null);
        orphan = info !== null && now - info.mtimeMs > this.options.orphanAfterMs;
      } else {
        continue;
      }
      if (!orphan) continue;
      const target = this.nextSegmentPath();
      try {
        await rename(path, target);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw error;
      }
      const jobs = parseLines(await readFile(target, 'utf8'));
      if (jobs.length === 0) {
        await unlink(target).catch(() => undefined);
        continue;
      }
      this.sealed.push({ path: target, count: jobs.length });
      this.size += jobs.length;
      claimed += jobs.length;
    }
    await this.syncDir();
    // A dead owner's beacon goes once none of its segments is left.
    const left = new Set(
      (await readdir(this.dir).catch(() => [])).map((n) => SEGMENT.exec(n)?.[1]),
    );
    for (const [owner, dead] of deadOwners) {
      if (dead && !left.has(owner)) {
        await unlink(join(this.dir, `${owner}.owner`)).catch(() => undefined);
      }
    }
    return claimed;
  }

  private async ownerDead(owner: string, now: number): Promise<boolean> {
    const path = join(this.dir, `${owner}.owner`);
    const [text, info] = await Promise.all([
      readFile(path, 'utf8').catch(() => null),
      stat(path).catch(() => null),
    ]);
    // No beacon: the owner closed (its beacon goes last) or never had one.
    if (text === null || info === null) return true;
    let beacon: OwnerBeacon | null = null;
    try {
      beacon = JSON.parse(text) as OwnerBeacon;
    } catch {
      beacon = null;
    }
    // On this host a dead pid is proof at once; elsewhere only a stale beacon is.
    if (beacon?.host === hostname()) {
      const thisProcess =
        beacon.pid === process.pid &&
        Math.abs(beacon.processStartedAt - processStartedAt()) < 2_000;
      if (beacon.pid === process.pid ? !thisProcess : !pidAlive(beacon.pid)) return true;
    }
    return now - info.mtimeMs > this.options.orphanAfterMs;
  }

  private async heartbeat(): Promise<void> {
    const now = new Date();
    await utimes(this.beaconPath, now, now).catch(() => undefined);
    this.lastBeatAt = now.getTime();
  }

  private nextSegmentPath(): string {
    this.sequence += 1;
    return join(this.dir, `${this.owner}.${String(this.sequence).padStart(10, '0')}.spool.jsonl`);
  }

  private async openSegment(): Promise<ActiveSegment> {
    const path = this.nextSegmentPath();
    const handle = await open(path, 'a', 0o600);
    // The new name must survive a power loss along with what is appended to it.
    await this.syncDir();
    return { path, handle, count: 0, inflight: null };
  }

  private async syncDir(): Promise<void> {
    const dir = await open(this.dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  /**
   * After a stall longer than the orphan threshold another instance may have taken the active
   * file; appends then go to a new one rather than into a file being replayed.
   */
  private async ensureActiveOwned(): Promise<void> {
    const active = this.active;
    if (active === null || Date.now() - this.lastBeatAt < this.options.orphanAfterMs / 2) return;
    await this.heartbeat();
    const still = await stat(active.path).catch(() => null);
    if (still !== null && still.ino === (await active.handle.stat()).ino) return;
    this.active = await this.openSegment();
    await active.handle.close().catch(() => undefined);
  }

  private async writeLoop(): Promise<void> {
    try {
      while (this.waiting.length > 0) {
        if (this.rotating) await this.rotating;
        await this.ensureActiveOwned().catch(() => undefined);
        const batch = this.waiting.splice(0);
        const segment = this.active;
        const write = (async () => {
          if (!segment) throw new Error('spool not open');
          await segment.handle.write(batch.map((b) => b.line).join(''));
          await segment.handle.datasync();
          segment.count += batch.length;
          this.size += batch.length;
        })();
        if (segment) segment.inflight = write;
        try {
          await write;
          for (const b of batch) b.done();
        } catch (error) {
          for (const b of batch) b.done(error as Error);
        } finally {
          if (segment) segment.inflight = null;
        }
      }
    } finally {
      this.writing = null;
    }
  }

  async close(): Promise<void> {
    await this.idle();
    if (this.beat) clearInterval(this.beat);
    const active = this.active;
    this.active = null;
    if (active) {
      await active.handle.close();
      if (active.count === 0) await unlink(active.path).catch(() => undefined);
    }
    // Without a beacon, what is left here is an orphan: the next instance replays it at once.
    await unlink(this.beaconPath).catch(() => undefined);
  }
}

function parseLines(text: string): SpooledJob[] {
  // A torn last line (crash mid-append, never acknowledged) is skipped.
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as SpooledJob];
      } catch {
        return [];
      }
    });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
