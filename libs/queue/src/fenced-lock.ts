import type { Redis } from 'ioredis';
import { AppError } from '@wacrm/contracts';

// Takes the lock only if free and gives it a token from one counter that only grows, so a later
// holder always has a larger token than any earlier one (the fencing token).
const ACQUIRE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], token, 'PX', ARGV[1])
return token`;
const HELD = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const ADVANCE = `local c = tonumber(redis.call('GET', KEYS[1]) or '0') if c < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end return 1`;

/** What a task under the lock holds: its fencing token and a check that it still holds it. */
export interface FencedLease {
  readonly token: number;
  /** Throws unless the lock is still this lease's (and extends it); call right before writing. */
  assertHeld(): Promise<void>;
  /** A stored write carries a token above ours: the counter went back (Redis lost it), move it on. */
  advancePast(token: number): Promise<void>;
}

export interface FencedLockOptions {
  /** Names the lock's keys: `${prefix}:lock:${name}:{key}` and the counter `${prefix}:fence:${name}`. */
  name: string;
  ttlMs?: number;
  waitMs?: number;
}

/**
 * One writer per key across replicas: an in-process queue per key, then a Redis lock whose
 * value is a fencing token. The writer stores its token with what it writes and refuses to
 * write over a larger one, so a holder whose lock expired (a long pause) cannot overwrite the
 * work of the next holder. Used where the store offers no isolation (the Firestore emulator
 * has no transaction isolation and ignores update-time preconditions).
 */
export class RedisFencedLock {
  private readonly local = new Map<string, Promise<void>>();
  private readonly ttlMs: number;
  private readonly waitMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly options: FencedLockOptions,
  ) {
    if (options.name.includes(':')) throw new Error('lock name cannot contain ":"');
    this.ttlMs = options.ttlMs ?? 10_000;
    this.waitMs = options.waitMs ?? 10_000;
  }

  async run<T>(key: string, task: (lease: FencedLease) => Promise<T>): Promise<T> {
    const previous = this.local.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.local.set(key, tail);
    await previous;
    try {
      return await this.withRedisLock(key, task);
    } finally {
      release();
      if (this.local.get(key) === tail) this.local.delete(key);
    }
  }

  private async withRedisLock<T>(key: string, task: (lease: FencedLease) => Promise<T>) {
    const lockKey = `${this.prefix}:lock:${this.options.name}:${key}`;
    const counter = `${this.prefix}:fence:${this.options.name}`;
    const deadline = Date.now() + this.waitMs;
    let delay = 10;
    let token: number | null = null;
    for (;;) {
      const got = (await this.redis.eval(ACQUIRE, 2, lockKey, counter, String(this.ttlMs))) as
        number | null;
      if (got !== null) {
        token = Number(got);
        break;
      }
      if (Date.now() >= deadline) {
        throw new AppError(
          'DEPENDENCY_UNAVAILABLE',
          `${this.options.name} ${key} is being changed by another request; try again`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 200);
    }
    const value = String(token);
    const renew = setInterval(
      () => {
        void this.redis.eval(HELD, 1, lockKey, value, String(this.ttlMs)).catch(() => undefined);
      },
      Math.max(100, Math.floor(this.ttlMs / 3)),
    );
    const lease: FencedLease = {
      token,
      assertHeld: async () => {
        const held = (await this.redis.eval(HELD, 1, lockKey, value, String(this.ttlMs))) as number;
        if (held !== 1) {
          throw new AppError(
            'DEPENDENCY_UNAVAILABLE',
            `the lock on ${this.options.name} ${key} expired before the write; try again`,
          );
        }
      },
      advancePast: async (stored) => {
        await this.redis.eval(ADVANCE, 1, counter, String(stored));
      },
    };
    try {
      return await task(lease);
    } finally {
      clearInterval(renew);
      await this.redis.eval(RELEASE, 1, lockKey, value).catch(() => undefined);
    }
  }
}
