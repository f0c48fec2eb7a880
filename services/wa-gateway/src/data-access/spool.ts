import { mkdir, open, readFile, truncate, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface SpooledJob {
  name: string;
  jobId: string;
  payload: unknown;
}

/**
 * An append-only, fsync'd file of jobs that could not reach Redis. Appends arriving together
 * share one write + fsync (group commit), so a burst costs one disk flush, not one per job.
 */
export class Spool {
  private handle: FileHandle | null = null;
  private waiting: Array<{ line: string; done: (error?: Error) => void }> = [];
  private writing: Promise<void> | null = null;
  /** Jobs appended and not yet replayed (counted from the file at open). */
  size = 0;

  constructor(readonly path: string) {}

  async open(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    this.handle = await open(this.path, 'a', 0o600);
    this.size = (await this.readAll()).length;
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

  get busy(): boolean {
    return this.writing !== null || this.waiting.length > 0;
  }

  /** Resolves when no append is in flight. */
  async idle(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async writeLoop(): Promise<void> {
    try {
      while (this.waiting.length > 0) {
        const batch = this.waiting.splice(0);
        try {
          if (!this.handle) throw new Error('spool not open');
          await this.handle.write(batch.map((b) => b.line).join(''));
          await this.handle.datasync();
          this.size += batch.length;
          for (const b of batch) b.done();
        } catch (error) {
          for (const b of batch) b.done(error as Error);
        }
      }
    } finally {
      this.writing = null;
    }
  }

  async readAll(): Promise<SpooledJob[]> {
    const text = await readFile(this.path, 'utf8').catch(() => '');
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

  /** Empties the file once every job in it reached Redis. */
  async clear(): Promise<void> {
    await truncate(this.path, 0);
    await this.handle?.datasync();
    this.size = 0;
  }

  async close(): Promise<void> {
    await this.idle();
    await this.handle?.close();
    this.handle = null;
  }
}
