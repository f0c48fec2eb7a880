import type { Redis } from 'ioredis';
import type { z } from 'zod';
import type { WaInboundQueue } from '@wacrm/contracts';
import type { Logger } from '@wacrm/observability';
import type { ContractQueue } from '@wacrm/queue';
import type { Spool } from './spool.js';

type Contract = typeof WaInboundQueue;
export type InboundJobName = Extract<keyof Contract['jobs'], string>;
export type InboundPayload<N extends InboundJobName> = z.input<Contract['jobs'][N]>;

const ADD_TIMEOUT_MS = 3_000;
/** Rejected events kept in Redis for inspection, newest first. */
const REJECTED_KEPT = 1_000;
/** Bytes of a rejected payload kept (a huge one is cut, its start is what a human reads). */
const REJECTED_PAYLOAD_BYTES = 64 * 1024;

/** An event the wa-inbound contract refuses: a bug or a malformed message, never retried. */
export class InvalidEventError extends Error {
  constructor(
    readonly jobName: string,
    readonly jobId: string,
    readonly issues: string,
  ) {
    super(`${jobName} ${jobId} fails the wa-inbound contract: ${issues}`);
    this.name = 'InvalidEventError';
  }
}

export interface RejectedEvent {
  jobName: string;
  jobId: string;
  accountId: string | null;
  reason: string;
  /** JSON of the payload, cut at 64 KiB. */
  payload: string;
  rejectedAt: string;
}
const REPLAY_BATCH = 200;

/**
 * Puts gateway events on `wa-inbound`. When Redis cannot take a job, it goes to the local spool
 * instead, and so does everything after it until the spool is replayed in order; job ids are
 * deterministic, so a job both added and spooled (a timeout after a write) is added once.
 * Spool files of dead instances in the same directory are taken over and replayed too.
 */
export class InboundPublisher {
  private spooling: boolean;
  private replaying: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  published = 0;
  spooled = 0;
  /** Events the contract refused, kept for inspection. */
  rejected = 0;
  /** Jobs taken over from dead instances' spool files. */
  adopted = 0;

  constructor(
    private readonly target: ContractQueue<Contract>,
    private readonly redis: Redis,
    private readonly spool: Spool,
    private readonly logger: Logger,
  ) {
    this.spooling = spool.size > 0;
  }

  /** Starts replaying the spool whenever Redis is reachable again. */
  start(intervalMs = 1_000): void {
    this.timer = setInterval(() => void this.replay(), intervalMs);
    this.timer.unref();
    this.redis.on('ready', () => void this.replay());
    void this.replay();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /**
   * Keeps an event the contract refuses where a human can read it (Redis list
   * `<prefix>:wa:rejected-events`, the newest 1,000), so one bad message costs nothing else.
   */
  async reject(event: Omit<RejectedEvent, 'rejectedAt'>): Promise<void> {
    this.rejected += 1;
    const record: RejectedEvent = {
      ...event,
      payload: event.payload.slice(0, REJECTED_PAYLOAD_BYTES),
      rejectedAt: new Date().toISOString(),
    };
    this.logger.error(
      {
        jobName: event.jobName,
        jobId: event.jobId,
        accountId: event.accountId,
        reason: event.reason,
      },
      'event refused by the wa-inbound contract; kept in wa:rejected-events',
    );
    try {
      await withTimeout(
        this.redis
          .multi()
          .lpush(this.rejectedKey, JSON.stringify(record))
          .ltrim(this.rejectedKey, 0, REJECTED_KEPT - 1)
          .exec(),
        ADD_TIMEOUT_MS,
      );
    } catch (error) {
      this.logger.warn({ err: error, jobId: event.jobId }, 'could not keep a rejected event');
    }
  }

  /** The rejected events kept, newest first. */
  async rejectedEvents(): Promise<RejectedEvent[]> {
    const list = await this.redis.lrange(this.rejectedKey, 0, REJECTED_KEPT - 1);
    return list.map((text) => JSON.parse(text) as RejectedEvent);
  }

  private get rejectedKey(): string {
    return `${this.target.queue.opts.prefix ?? 'bull'}:wa:rejected-events`;
  }

  get backlog(): number {
    return this.spool.size;
  }

  async publish<N extends InboundJobName>(name: N, payload: InboundPayload<N>, jobId: string) {
    // Parse first: an invalid payload must neither reach Redis nor the spool (see reject).
    const parsed = this.target.contract.jobs[name].safeParse(payload);
    if (!parsed.success) {
      throw new InvalidEventError(
        name,
        jobId,
        parsed.error.issues
          .map((i) => `${i.path.join('.')}: ${i.message}`)
          .slice(0, 5)
          .join('; '),
      );
    }
    const data = parsed.data as unknown;
    if (!this.spooling && this.redis.status === 'ready') {
      try {
        await withTimeout(this.target.queue.add(name, data, { jobId }), ADD_TIMEOUT_MS);
        this.published += 1;
        return;
      } catch (error) {
        this.logger.warn(
          { err: error, jobId },
          'wa-inbound unreachable; spooling events to disk until Redis is back',
        );
      }
    }
    this.spooling = true;
    await this.spool.append({ name, jobId, payload: data });
    this.spooled += 1;
    void this.replay();
  }

  replay(): Promise<void> {
    if (this.redis.status !== 'ready') return Promise.resolve();
    this.replaying ??= this.replayOnce().finally(() => (this.replaying = null));
    return this.replaying;
  }

  private async replayOnce(): Promise<void> {
    let replayed = 0;
    try {
      const adopted = await this.spool.claimOrphans();
      if (adopted > 0) {
        this.adopted += adopted;
        this.logger.warn({ jobs: adopted }, 'spool of a dead instance taken over; replaying');
      }
      if (!this.spooling && this.spool.pending.length === 0) return;
      for (;;) {
        // Appends go on into a new file while the sealed ones are replayed and removed:
        // nothing is ever truncated under a concurrent append.
        if (this.spooling && !this.spool.activeEmpty) await this.spool.rotate();
        const segments = [...this.spool.pending];
        if (segments.length === 0) {
          await this.spool.idle();
          if (!this.spool.activeEmpty) {
            if (this.spooling) continue;
            return;
          }
          // Everything spooled so far reached Redis and no append is in flight: switch back
          // synchronously, so every later event goes straight to Redis again.
          if (this.spooling) {
            this.spooling = false;
            this.logger.info({ replayed }, 'spool replayed to wa-inbound');
          }
          return;
        }
        for (const segment of segments) {
          const jobs = await this.spool.read(segment);
          for (let i = 0; i < jobs.length; i += REPLAY_BATCH) {
            const batch = jobs.slice(i, i + REPLAY_BATCH).map((j) => ({
              name: j.name,
              data: j.payload,
              opts: { jobId: j.jobId },
            }));
            await withTimeout(this.target.queue.addBulk(batch), ADD_TIMEOUT_MS * 3);
          }
          await this.spool.remove(segment);
          replayed += jobs.length;
        }
      }
    } catch (error) {
      this.logger.warn({ err: error, replayed }, 'spool replay interrupted; will retry');
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
