import type { Redis } from 'ioredis';

/** Failed authentications per client address, counted in Redis so every replica sees them. */
export interface FailedAuthLimiter {
  /** Milliseconds until `address` may try again, or 0 when it may now. */
  retryAfterMs(address: string): Promise<number>;
  record(address: string): Promise<void>;
}

/**
 * A fixed window per address: the first failure starts it, `max` failures close it until it
 * ends. Redis errors let requests through (as the request rate limit does): authentication
 * itself still holds; only the cost of guessing is unbounded for that moment.
 */
export function createFailedAuthLimiter(
  redis: Redis,
  options: { prefix: string; max: number; windowMs: number },
): FailedAuthLimiter {
  const key = (address: string) => `${options.prefix}:authfail:${address}`;
  return {
    async retryAfterMs(address) {
      try {
        const [count, ttl] = await Promise.all([redis.get(key(address)), redis.pttl(key(address))]);
        return Number(count ?? 0) >= options.max ? Math.max(ttl, 1000) : 0;
      } catch {
        return 0;
      }
    },
    async record(address) {
      try {
        await redis.multi().incr(key(address)).pexpire(key(address), options.windowMs, 'NX').exec();
      } catch {
        // Counted best effort; see above.
      }
    },
  };
}
