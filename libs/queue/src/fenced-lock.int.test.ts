import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useTestRedis, type TestRedis } from '@wacrm/testing';
import { RedisFencedLock } from './fenced-lock.js';

let redis: TestRedis;

beforeEach(async () => {
  redis = await useTestRedis();
});

afterEach(async () => {
  await redis.cleanup();
});

describe('RedisFencedLock', () => {
  it('when two replicas take the same key, then they take turns and every later holder has a larger token', async () => {
    // Two instances are two replicas: only Redis serialises them.
    const replicas = [0, 1].map(
      () => new RedisFencedLock(redis.connection, redis.prefix, { name: 'test', ttlMs: 5_000 }),
    );
    let inside = 0;
    let most = 0;
    const tokens: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        replicas[i % 2]!.run('k1', async (lease) => {
          inside += 1;
          most = Math.max(most, inside);
          tokens.push(lease.token);
          await new Promise((resolve) => setTimeout(resolve, 5));
          await lease.assertHeld();
          inside -= 1;
        }),
      ),
    );
    expect(most).toBe(1);
    expect(tokens).toEqual([...tokens].sort((a, b) => a - b));
    expect(new Set(tokens).size).toBe(20);
  });

  it('when a holder pauses past its lock and another takes it, then the first one is told before it writes', async () => {
    const slow = new RedisFencedLock(redis.connection, redis.prefix, { name: 'test', ttlMs: 150 });
    const other = new RedisFencedLock(redis.connection, redis.prefix, {
      name: 'test',
      ttlMs: 5_000,
    });
    let release!: () => void;
    const paused = new Promise<void>((resolve) => (release = resolve));
    let firstToken = 0;
    const first = slow.run('k2', async (lease) => {
      firstToken = lease.token;
      // A pause no renewal runs in (a stopped process): the lock expires meanwhile.
      const until = Date.now() + 400;
      while (Date.now() < until) {
        /* busy: the event loop is blocked, as in a long GC pause */
      }
      await paused;
      await lease.assertHeld();
    });
    const second = await other.run('k2', (lease) => {
      release();
      return Promise.resolve(lease.token);
    });
    expect(second).toBeGreaterThan(firstToken);
    await expect(first).rejects.toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
  });
});
