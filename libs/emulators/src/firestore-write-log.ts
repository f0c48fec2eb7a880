import { mkdir, open, readdir, truncate, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { syncDirectory } from './firestore-snapshot.file.js';

// The write-ahead log of the Firestore emulator: files `<snapshot>.wal.<generation>`, each a
// sequence of records framed as [payload length u32 LE][CRC-32 of the payload u32 LE][payload].
// A snapshot names the first generation it does not contain; recovery loads the snapshot, then
// replays every log from that generation on, in order.

const HEADER_BYTES = 8;
const READ_CHUNK = 1024 * 1024;
/** Larger than any record the emulator writes (a commit holds at most 500 documents of 1 MiB). */
const MAX_RECORD_BYTES = 1024 * 1024 * 1024;

export interface LogFile {
  generation: number;
  path: string;
}

export interface TornTail {
  path: string;
  /** Where the last whole record ends: the file is cut there. */
  offset: number;
  droppedBytes: number;
  reason: string;
}

/** The log files next to `snapshotPath`, oldest generation first. */
export async function listLogFiles(snapshotPath: string): Promise<LogFile[]> {
  const dir = dirname(snapshotPath);
  const prefix = `${basename(snapshotPath)}.wal.`;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names
    .filter((name) => name.startsWith(prefix) && /^\d+$/.test(name.slice(prefix.length)))
    .map((name) => ({ generation: Number(name.slice(prefix.length)), path: join(dir, name) }))
    .sort((a, b) => a.generation - b.generation);
}

export function logFilePath(snapshotPath: string, generation: number): string {
  return `${snapshotPath}.wal.${generation}`;
}

/** Frames one record: length, CRC-32 of the payload, payload. */
export function frameRecord(payload: Buffer): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32LE(payload.length, 0);
  header.writeUInt32LE(crc32(payload), 4);
  return Buffer.concat([header, payload]);
}

/**
 * Calls `onRecord` with each whole record of the file, in order. The first record that is cut
 * short or fails its checksum ends the log: it and everything after it are a torn tail, which is
 * cut off the file when `cutTornTail` is set (the last log, written when the process died) and
 * an error otherwise (an older log is never written again, so damage there is not a crash).
 */
export async function replayLogFile(
  path: string,
  onRecord: (payload: Buffer) => void,
  cutTornTail: boolean,
): Promise<{ records: number; tornTail?: TornTail }> {
  const file = await open(path, 'r');
  let records = 0;
  let offset = 0;
  let pending = Buffer.alloc(0);
  let reason: string | undefined;
  let size: number;
  try {
    size = (await file.stat()).size;
    let position = 0;
    while (reason === undefined) {
      const chunk = Buffer.alloc(READ_CHUNK);
      const { bytesRead } = await file.read(chunk, 0, READ_CHUNK, position);
      position += bytesRead;
      pending =
        pending.length === 0
          ? chunk.subarray(0, bytesRead)
          : Buffer.concat([pending, chunk.subarray(0, bytesRead)]);
      for (;;) {
        if (pending.length < HEADER_BYTES) break;
        const length = pending.readUInt32LE(0);
        if (length > MAX_RECORD_BYTES) {
          reason = `record length ${length} is not plausible`;
          break;
        }
        if (pending.length < HEADER_BYTES + length) break;
        const payload = pending.subarray(HEADER_BYTES, HEADER_BYTES + length);
        if (crc32(payload) !== pending.readUInt32LE(4)) {
          reason = 'checksum mismatch';
          break;
        }
        onRecord(payload);
        records += 1;
        offset += HEADER_BYTES + length;
        pending = pending.subarray(HEADER_BYTES + length);
      }
      if (bytesRead === 0) {
        if (pending.length > 0) reason ??= 'partial record at the end';
        break;
      }
    }
  } finally {
    await file.close();
  }
  if (reason === undefined) return { records };
  const tornTail = { path, offset, droppedBytes: size - offset, reason };
  if (!cutTornTail) {
    throw new Error(
      `Firestore log ${path} is damaged at byte ${offset} (${reason}) and is not the last log`,
    );
  }
  await truncate(path, offset);
  return { records, tornTail };
}

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * One log file being appended to. Appends are batched (group commit): every record queued while
 * a write + fdatasync is in flight goes out in the next one, so many concurrent commits share one
 * disk flush and each resolves only once its record is on disk.
 */
class LogSegment {
  private queue: Buffer[] = [];
  private waiters: Waiter[] = [];
  private inFlight: Promise<void> | undefined;
  private draining: Promise<void> | undefined;
  private failure: Error | undefined;
  bytes = 0;

  constructor(
    readonly generation: number,
    readonly path: string,
    private readonly file: Promise<FileHandle>,
  ) {
    // A failed open is reported by the first append.
    file.catch(() => undefined);
  }

  append(record: Buffer): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    this.queue.push(record);
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.draining ??= this.drain();
    return done;
  }

  /** Resolves once the file is open (rejects when it cannot be created). */
  async opened(): Promise<void> {
    await this.file;
  }

  /** Resolves once every record appended so far is on disk. */
  durable(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.queue.length > 0) {
      return new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    }
    return this.inFlight ?? Promise.resolve();
  }

  /** Waits for the queue to drain, then closes the file. */
  async close(): Promise<void> {
    await this.durable().catch(() => undefined);
    await (await this.file).close();
  }

  private async drain(): Promise<void> {
    // Let the commits that arrived in this turn of the event loop join the first batch.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.queue.length > 0 && this.failure === undefined) {
      const batch = this.queue.length === 1 ? this.queue[0]! : Buffer.concat(this.queue);
      const waiters = this.waiters;
      this.queue = [];
      this.waiters = [];
      this.inFlight = this.writeBatch(batch);
      try {
        await this.inFlight;
        this.bytes += batch.length;
        for (const waiter of waiters) waiter.resolve();
      } catch (err) {
        this.failure = err instanceof Error ? err : new Error(String(err));
        for (const waiter of [...waiters, ...this.waiters]) waiter.reject(this.failure);
        this.queue = [];
        this.waiters = [];
      }
    }
    this.inFlight = undefined;
    this.draining = undefined;
  }

  private async writeBatch(batch: Buffer): Promise<void> {
    const file = await this.file;
    let written = 0;
    while (written < batch.length) {
      const { bytesWritten } = await file.write(batch, written, batch.length - written);
      written += bytesWritten;
    }
    await file.datasync();
  }
}

/** The log appended to by the emulator; `rotate()` starts a new generation for compaction. */
export class FirestoreWriteLog {
  private segment: LogSegment;
  private retiring = new Set<Promise<void>>();

  private constructor(
    private readonly snapshotPath: string,
    generation: number,
  ) {
    this.segment = this.openSegment(generation);
  }

  /** Starts appending to a new log file of `generation` (which must not exist yet). */
  static async create(snapshotPath: string, generation: number): Promise<FirestoreWriteLog> {
    await mkdir(dirname(snapshotPath), { recursive: true });
    const log = new FirestoreWriteLog(snapshotPath, generation);
    await log.segment.opened();
    await syncDirectory(dirname(snapshotPath));
    return log;
  }

  get generation(): number {
    return this.segment.generation;
  }

  /** Bytes appended to the current generation. */
  get bytes(): number {
    return this.segment.bytes;
  }

  /** Appends one record; resolves once it is on disk. */
  append(payload: Buffer): Promise<void> {
    return this.segment.append(frameRecord(payload));
  }

  /** Resolves once every record appended so far (to any generation) is on disk. */
  async durable(): Promise<void> {
    await Promise.all([...this.retiring, this.segment.durable()]);
  }

  /**
   * From now on appends go to a new generation; resolves with it once the previous generation
   * is flushed and closed. Everything applied to the state before this call is in older logs.
   */
  async rotate(): Promise<number> {
    const previous = this.segment;
    this.segment = this.openSegment(previous.generation + 1);
    const retired = previous.close();
    this.retiring.add(retired);
    try {
      await retired;
    } finally {
      this.retiring.delete(retired);
    }
    await this.segment.opened();
    await syncDirectory(dirname(this.snapshotPath));
    return this.segment.generation;
  }

  /** Deletes the log files of generations before `generation` (they are in the snapshot). */
  async removeBefore(generation: number): Promise<void> {
    for (const file of await listLogFiles(this.snapshotPath)) {
      if (file.generation < generation) await unlink(file.path);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.retiring, this.segment.close()]);
  }

  private openSegment(generation: number): LogSegment {
    const path = logFilePath(this.snapshotPath, generation);
    // 'ax': append-only, and never reuse a file that already exists.
    return new LogSegment(generation, path, open(path, 'ax'));
  }
}
