import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startRedisServer, type RedisServerHandle } from '@wacrm/emulators';
import { expectEventually } from '@wacrm/testing';
import { useGateway, type TestGateway, validateTraffic } from '../test/gateway.fixture.js';

// This test changes Redis' eviction policy, so it runs a redis-server of its own.
let server: RedisServerHandle;
let gw: TestGateway;
let admin: Redis;

beforeAll(async () => {
  server = await startRedisServer({});
  admin = new Redis(server.url);
  gw = await useGateway({
    REDIS_URL: server.url,
    HEALTH_TIMEOUT_MS: '1000',
    WEBHOOK_WORKER: 'false',
  });
  validateTraffic(gw);
});

afterAll(async () => {
  admin.disconnect();
  await gw.dispose();
  await server.stop();
});

describe('GET /health and Redis eviction', () => {
  it('when Redis may evict keys, then /health is 503 saying maxmemory-policy must be noeviction', async () => {
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    // The fault is in place.
    expect(await admin.config('GET', 'maxmemory-policy')).toEqual([
      'maxmemory-policy',
      'allkeys-lru',
    ]);
    const res = await gw.app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(503);
    const body = res.json<{ failing: string[]; checks: Record<string, { error?: string }> }>();
    expect(body.failing).toEqual(['redis']);
    expect(body.checks.redis?.error).toContain(
      'maxmemory-policy is allkeys-lru; it must be noeviction',
    );

    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    await expectEventually(async () => {
      expect((await gw.app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    });
  });
});
