import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServerHandle } from '@wacrm/emulators';
import { expectEventually } from '@wacrm/testing';
import type { FastifyInstance } from 'fastify';
import { useGateway, type TestGateway, validateTraffic } from '../test/gateway.fixture.js';

// This test stops Redis, so it runs a redis-server of its own.
let server: RedisServerHandle;
let gw: TestGateway;
let app: FastifyInstance;

beforeAll(async () => {
  server = await startRedisServer({});
  gw = await useGateway({
    REDIS_URL: server.url,
    HEALTH_TIMEOUT_MS: '500',
    WEBHOOK_WORKER: 'false',
  });
  validateTraffic(gw);
  app = gw.app;
});

afterAll(async () => {
  await gw.dispose();
  await server.stop();
});

describe('GET /health', () => {
  it('when Redis and Firestore answer, then it is 200 with both checks ok', async () => {
    await expectEventually(async () => {
      const res = await app.inject({ method: 'GET', url: '/health' });
      expect(res.statusCode).toBe(200);
    });
    const body = (await app.inject({ method: 'GET', url: '/health' })).json<
      Record<string, unknown>
    >();
    expect(body).toMatchObject({
      status: 'ok',
      service: 'api-gateway',
      failing: [],
      checks: { redis: { ok: true }, firestore: { ok: true } },
    });
  });

  it('when Redis is stopped, then it is 503 naming redis, and 200 again once Redis is back', async () => {
    await server.stop();
    const res = await app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({
      status: 'degraded',
      failing: ['redis'],
      checks: { firestore: { ok: true } },
    });

    await server.restart();
    await expectEventually(
      async () => {
        expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
      },
      { timeoutMs: 15_000 },
    );
  });

  it('when a route does not exist, then the answer is problem+json 404', async () => {
    const res = await app.inject({ method: 'GET', url: '/nope?x=1' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.json()).toMatchObject({
      status: 404,
      code: 'NOT_FOUND',
      detail: 'no route GET /nope',
    });
  });
});
