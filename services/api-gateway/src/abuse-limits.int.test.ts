import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, useGateway, type TestGateway, validateTraffic } from '../test/gateway.fixture.js';
import { openSse, type SseConnection } from '../test/sse-client.js';
import { FAILED_AUTH_LIMIT } from './entry-points/auth.hook.js';
import { STREAMS_PER_PRINCIPAL } from './entry-points/stream.routes.js';

// Issue 15 item 8: guessing credentials and hoarding streams are limited, with clear 429s.
let gw: TestGateway;
let base: string;
const open: SseConnection[] = [];
const BAD_KEY = 'wacrm_ak_0000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

beforeAll(async () => {
  // The production limit (the shared test config raises it for the route-table tests).
  gw = await useGateway({ AUTH_FAILURES_MAX: String(FAILED_AUTH_LIMIT.max) });
  validateTraffic(gw);
  await gw.app.listen({ port: 0, host: '127.0.0.1' });
  const address = gw.app.server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
}, 120_000);

afterAll(async () => {
  open.forEach((c) => c.close());
  await gw?.dispose();
});

describe('abuse limits (issue 15 item 8)', () => {
  it('when one address keeps failing to authenticate, then it gets 429 problem+json with Retry-After, others are unaffected', async () => {
    const from = (remoteAddress: string, headers: Record<string, string>) =>
      gw.app.inject({ url: '/api/whatsapp/accounts', headers, remoteAddress });
    for (let i = 0; i < FAILED_AUTH_LIMIT.max; i += 1) {
      expect((await from('10.9.9.1', { 'x-api-key': BAD_KEY })).statusCode).toBe(401);
    }
    const limited = await from('10.9.9.1', { 'x-api-key': BAD_KEY });
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.json<{ detail: string }>().detail).toMatch(/failed authentication/);
    // Even a right credential waits from that address; another address is not affected.
    expect((await from('10.9.9.1', admin)).statusCode).toBe(429);
    expect((await from('10.9.9.2', admin)).statusCode).toBe(200);
    expect((await from('10.9.9.2', { 'x-api-key': BAD_KEY })).statusCode).toBe(401);
  });

  it('when a principal opens more streams than allowed, then the next is 429 until one closes', async () => {
    const created = await gw.app.inject({
      method: 'POST',
      url: '/api/admin/api-keys',
      headers: admin,
      payload: { name: 'streams', scopes: ['read'], allowedAccounts: ['wa-x'] },
    });
    const headers = { 'x-api-key': created.json<{ key: string }>().key };
    const streams: SseConnection[] = [];
    for (let i = 0; i < STREAMS_PER_PRINCIPAL; i += 1) {
      const conn = await openSse(`${base}/api/stream`, headers);
      open.push(conn);
      expect(conn.status).toBe(200);
      await conn.opened;
      streams.push(conn);
    }
    const refused = await gw.app.inject({ url: '/api/stream', headers });
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(refused.json<{ detail: string }>().detail).toMatch(/streams/);
    // Another principal still gets one.
    const other = await openSse(`${base}/api/stream`, admin);
    open.push(other);
    expect(other.status).toBe(200);

    streams[0]!.close();
    await streams[0]!.ended;
    const { expectEventually } = await import('@wacrm/testing');
    await expectEventually(async () => {
      const again = await openSse(`${base}/api/stream`, headers);
      open.push(again);
      expect(again.status).toBe(200);
    });
  });
});
