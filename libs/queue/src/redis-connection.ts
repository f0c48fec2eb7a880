import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '@wacrm/observability';

export interface RedisConnectionOptions {
  url: string;
  /** Shows up in `CLIENT LIST`, which makes a busy Redis easier to read. */
  name: string;
  logger?: Logger;
  /** Workers block on Redis and need `null`; producers want a bounded retry so an HTTP call fails fast. */
  maxRetriesPerRequest?: number | null;
  extra?: RedisOptions;
}

/**
 * An ioredis client with capped, jittered reconnect backoff. BullMQ requires
 * `maxRetriesPerRequest: null` for workers, which is the default here.
 */
export function createRedisConnection(options: RedisConnectionOptions): Redis {
  const client = new Redis(options.url, {
    connectionName: options.name,
    maxRetriesPerRequest: options.maxRetriesPerRequest ?? null,
    enableReadyCheck: true,
    retryStrategy: (times) =>
      Math.min(2 ** Math.min(times, 10) * 50, 5_000) + Math.floor(Math.random() * 250),
    ...options.extra,
  });
  let lastErrorLog = 0;
  client.on('error', (error: Error) => {
    // Reconnect storms log at most once per 5 s per connection; the state is in /health anyway.
    const now = Date.now();
    if (options.logger !== undefined && now - lastErrorLog > 5_000) {
      lastErrorLog = now;
      options.logger.warn(
        { err: error, redis: options.name },
        'redis connection error; reconnecting with backoff (check REDIS_URL and that Redis is up)',
      );
    }
  });
  return client;
}
