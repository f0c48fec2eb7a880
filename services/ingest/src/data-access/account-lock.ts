import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { AppError } from '@wacrm/contracts';

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;

export interface AccountLockOptions {
  ttlMs: number;
  waitMs: number;
}

/**
 * One writer per account at a time: an in-process queue per account, then a Redis lock so
 * replicas take turns too. Correctness of the thread counters rests on this (the Firestore
 * emulator has no transaction isolation), together with writes keyed by message id.
 */
export class AccountLock {
  private readonly local = new Map<string, Promise<void>>();
  private readonly owner = randomUUID();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly options: AccountLockOptions,
  ) {}

  async run<T>(accountId: string, task: () => Promise<T>): Promise<T> {
    const previous = this.local.get(accountId) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.local.set(accountId, tail);
    await previous;
    try {
      return await this.withRedisLock(accountId, task);
    } finally {
      release();
      if (this.local.get(accountId) === tail) this.local.delete(accountId);
    }
  }

  private async withRedisLock<T>(accountId: string, task: () => Promise<T>): Promise<T> {
    const key = `${this.prefix}:ingest:lock:${accountId}`;
    const deadline = Date.now() + this.options.waitMs;
    let delay = 25;
    while ((await this.redis.set(key, this.owner, 'PX', this.options.ttlMs, 'NX')) !== 'OK') {
      if (Date.now() >= deadline) {
        throw new AppError(
          'DEPENDENCY_UNAVAILABLE',
          `account ${accountId} is locked by another ingest replica; retrying the job later`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 500);
    }
    const renew = setInterval(
      () => {
        void this.redis
          .eval(RENEW, 1, key, this.owner, String(this.options.ttlMs))
          .catch(() => undefined);
      },
      Math.max(100, Math.floor(this.options.ttlMs / 3)),
    );
    try {
      return await task();
    } finally {
      clearInterval(renew);
      await this.redis.eval(RELEASE, 1, key, this.owner).catch(() => undefined);
    }
  }
}
