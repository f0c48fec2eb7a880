import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { LeaseStore } from './lease.store.js';

describe('LeaseStore.onReady', () => {
  it('when the Redis connection is ready again, then each subscriber is told; an unsubscribed one is not, and the last one leaves no listener on the connection', () => {
    const redis = new EventEmitter();
    const leases = new LeaseStore(redis as unknown as Redis, 'p', 'gw-1', 30_000);
    const told: string[] = [];
    const offA = leases.onReady(() => told.push('a'));
    const offB = leases.onReady(() => told.push('b'));
    expect(redis.listenerCount('ready')).toBe(1);
    redis.emit('ready');
    offA();
    redis.emit('ready');
    expect(told).toEqual(['a', 'b', 'b']);
    offB();
    expect(redis.listenerCount('ready')).toBe(0);
  });
});
