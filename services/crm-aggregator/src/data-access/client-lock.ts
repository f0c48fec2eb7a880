import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { AppError } from '@wacrm/contracts';

/** Runs `task` while holding the client's lock; no two holders of one phone overlap. */
export interface ClientLock {
  withLock<T>(phoneE164: string, task: () => Promise<T>): Promise<T>;
}

export interface RedisClientLockOptions {
  /** Key prefix, e.g. the BullMQ prefix `{wacrm}`, so all keys of one deployment share a slot. */
  prefix: string;
  ttlMs: number;
  /** How long to wait for a busy lock before the job is retried later; defaults to `ttlMs`. */
  waitMs?: number;
}

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

/**
 * A per-client mutex in Redis (SET NX PX with a random token, renewed while held, released only
 * by its holder). The queue already keeps one client's jobs apart; this also covers a stalled job
 * re-run by another worker while the first is still busy.
 */
export function redisClientLock(redis: Redis, options: RedisClientLockOptions): ClientLock {
  const waitMs = options.waitMs ?? options.ttlMs;
  return {
    async withLock(phoneE164, task) {
      const key = `${options.prefix}:crm-aggregator:lock:${phoneE164}`;
      const token = randomUUID();
      const deadline = Date.now() + waitMs;
      let pause = 20;
      while ((await redis.set(key, token, 'PX', options.ttlMs, 'NX')) !== 'OK') {
        if (Date.now() >= deadline) {
          throw new AppError(
            'DEPENDENCY_UNAVAILABLE',
            `client lock for ${key} still held after ${waitMs} ms; the job will be retried`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, pause));
        pause = Math.min(pause * 2, 200);
      }
      const renew = setInterval(
        () => {
          redis.eval(RENEW, 1, key, token, String(options.ttlMs)).catch(() => undefined);
        },
        Math.max(100, Math.floor(options.ttlMs / 3)),
      );
      try {
        return await task();
      } finally {
        clearInterval(renew);
        await redis.eval(RELEASE, 1, key, token);
      }
    },
  };
}
