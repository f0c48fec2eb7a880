import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { expectEventually, type EventuallyOptions } from './expect-eventually.js';
import './provided-context.js';

export interface TestRedis {
  url: string;
  /** A BullMQ prefix of this test's own, so parallel tests never share a queue. */
  prefix: string;
  /** Worker-style connection (`maxRetriesPerRequest: null`). */
  connection: Redis;
  /** Deletes every key under the prefix and closes the connection. */
  cleanup(): Promise<void>;
}

export async function useTestRedis(url: string = inject('deps').redisUrl): Promise<TestRedis> {
  const prefix = `{t-${randomUUID().slice(0, 8)}}`;
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  await connection.ping();
  return {
    url,
    prefix,
    connection,
    async cleanup() {
      let cursor = '0';
      do {
        const [next, keys] = await connection.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
        cursor = next;
        if (keys.length > 0) await connection.del(...keys);
      } while (cursor !== '0');
      connection.disconnect();
    },
  };
}

/** Waits until a queue has nothing waiting, delayed, prioritised or running. */
export async function waitForQueueIdle(
  queue: Queue,
  options: EventuallyOptions = {},
): Promise<void> {
  await expectEventually(async () => {
    const counts = await queue.getJobCounts(
      'waiting',
      'active',
      'delayed',
      'prioritized',
      'waiting-children',
    );
    const busy = Object.values(counts).reduce((a, b) => a + b, 0);
    if (busy > 0) throw new Error(`queue ${queue.name} busy: ${JSON.stringify(counts)}`);
  }, options);
}
