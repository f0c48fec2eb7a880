import type { Redis } from 'ioredis';
import { AppError } from '@wacrm/contracts';
import { hashForTelemetry } from '@wacrm/observability';

/** Admission to the LLM API, shared by every process that uses the same key. */
export interface LlmRateLimiter {
  /** Resolves when a request may go out; throws a retryable RATE_LIMITED past `maxWaitMs`. */
  acquire(): Promise<void>;
  /** Holds every process back for `ms` (the server's Retry-After). */
  pause(ms: number): Promise<void>;
}

export interface RedisRateLimiterOptions {
  /** Key prefix, e.g. the BullMQ prefix; the API key itself is only ever stored hashed. */
  prefix: string;
  apiKey: string;
  requestsPerMinute: number;
  /** The longest one acquire() waits before giving the job back to the queue. */
  maxWaitMs: number;
}

// A token bucket on Redis time (one clock for every process): refills `rate` tokens per ms up to
// `capacity`; returns 0 when a token was taken, else the ms until one will be. A pause key set
// after a 429 blocks everyone until it expires.
const ACQUIRE = `
local paused = redis.call('PTTL', KEYS[2])
if paused > 0 then return paused end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then tokens = capacity; ts = now end
tokens = math.min(capacity, tokens + math.max(0, now - ts) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) / rate) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate) + 1000)
return wait`;

export function redisRateLimiter(redis: Redis, options: RedisRateLimiterOptions): LlmRateLimiter {
  const base = `${options.prefix}:llm-rate:${hashForTelemetry(options.apiKey)}`;
  const bucketKey = `${base}:bucket`;
  const pauseKey = `${base}:pause`;
  const capacity = options.requestsPerMinute;
  const ratePerMs = options.requestsPerMinute / 60_000;
  return {
    async acquire() {
      const deadline = Date.now() + options.maxWaitMs;
      for (;;) {
        const wait = Number(
          await redis.eval(ACQUIRE, 2, bucketKey, pauseKey, String(capacity), String(ratePerMs)),
        );
        if (wait <= 0) return;
        if (Date.now() + wait > deadline) {
          throw new AppError(
            'RATE_LIMITED',
            `LLM rate limit: next request allowed in ${wait} ms, beyond the ${options.maxWaitMs} ms wait`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    },
    async pause(ms) {
      if (ms > 0) await redis.set(pauseKey, '1', 'PX', Math.ceil(ms));
    },
  };
}
