import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RealtimeChannel, type RealtimeEvent } from '@wacrm/contracts';
import { collections } from '@wacrm/firestore';
import { expectEventually } from '@wacrm/testing';
import {
  admin,
  bearer,
  useGateway,
  userToken,
  type TestGateway,
  validateTraffic,
} from '../test/gateway.fixture.js';
import { openSse, type SseConnection } from '../test/sse-client.js';

// Issue 15 item 5: revocation reaches requests and live streams. Streams re-check their
// principal, so a revoked key or a demoted user stops receiving events within 30 s.
const A = 'wa-rev001';
const CLOSE_WITHIN_MS = 30_000;
let gw: TestGateway;
let base: string;
const open: SseConnection[] = [];

async function connect(headers: Record<string, string>, query = ''): Promise<SseConnection> {
  const conn = await openSse(`${base}/api/stream${query}`, headers);
  open.push(conn);
  expect(conn.status).toBe(200);
  await conn.opened;
  return conn;
}

function messageCreated(n: number): RealtimeEvent {
  return {
    type: 'message.created',
    accountId: A,
    threadId: `${A}__4070000000${n}@s.whatsapp.net`,
    messageIds: [`M${n}`],
    at: new Date().toISOString(),
  };
}

/** Firebase revokes tokens issued before the second of revocation: wait out the sign-in second. */
async function afterSignInSecond(token: string): Promise<void> {
  const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as {
    auth_time: number;
  };
  await expectEventually(() => expect(Date.now() / 1000).toBeGreaterThan(payload.auth_time + 1), {
    timeoutMs: 5_000,
  });
}

const ended = (conn: SseConnection) =>
  Promise.race([
    conn.ended.then(() => 'ended'),
    new Promise((resolve) => setTimeout(() => resolve('still open'), CLOSE_WITHIN_MS)),
  ]);

beforeAll(async () => {
  gw = await useGateway();
  validateTraffic(gw);
  await gw.app.listen({ port: 0, host: '127.0.0.1' });
  const address = gw.app.server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
}, 120_000);

afterAll(async () => {
  open.forEach((c) => c.close());
  await gw?.dispose();
});

describe('revocation (issue 15 item 5)', () => {
  it('when a user’s tokens are revoked, then its ID token is refused within seconds', async () => {
    const user = await userToken(gw, 'employee', [A]);
    expect((await gw.app.inject({ url: '/api/me', headers: bearer(user.token) })).statusCode).toBe(
      200,
    );
    await afterSignInSecond(user.token);
    await gw.authApp.auth.revokeRefreshTokens(user.uid);
    const res = await expectEventually(
      async () => {
        const r = await gw.app.inject({ url: '/api/me', headers: bearer(user.token) });
        expect(r.statusCode).toBe(401);
        return r;
      },
      { timeoutMs: CLOSE_WITHIN_MS },
    );
    expect(res.json<{ detail: string }>().detail).toMatch(/revoked/);
  }, 60_000);

  it('when an API key is revoked on another replica while its stream is open, then the stream closes within 30 s', async () => {
    const created = await gw.app.inject({
      method: 'POST',
      url: '/api/admin/api-keys',
      headers: admin,
      payload: { name: 'sse', scopes: ['read'], allowedAccounts: [A] },
    });
    const { id, key } = created.json<{ id: string; key: string }>();
    const conn = await connect({ 'x-api-key': key });
    // Straight to Firestore: this replica is not told, as when another replica revokes it.
    await collections(gw.fs.db).apiKeys().doc(id).update({ revokedAt: new Date() });
    expect(await ended(conn)).toBe('ended');
  }, 60_000);

  it('when a user’s tokens are revoked while its stream is open, then the stream closes within 30 s', async () => {
    const user = await userToken(gw, 'employee', [A]);
    const conn = await connect(bearer(user.token));
    await afterSignInSecond(user.token);
    await gw.authApp.auth.revokeRefreshTokens(user.uid);
    expect(await ended(conn)).toBe('ended');
  }, 60_000);

  it('when a user loses an account while streaming, then a stream of that account closes and others stop carrying it', async () => {
    const user = await userToken(gw, 'employee', [A]);
    const narrowed = await connect(bearer(user.token), `?accountId=${A}`);
    const wide = await connect(bearer(user.token));
    await collections(gw.fs.db).users().doc(user.uid).update({ allowedAccounts: [] });
    expect(await ended(narrowed)).toBe('ended');
    // The wide stream follows the new profile by its own next re-check: from then on, A's
    // events (which an admin's stream still gets) no longer reach it.
    const probe = await connect(admin, `?accountId=${A}`);
    const got = (conn: SseConnection, n: number) =>
      conn.frames.some((f) => f.event === 'message.created' && f.data.includes(`"M${n}"`));
    let n = 10;
    await expectEventually(
      async () => {
        n += 1;
        await gw.redis.connection.publish(RealtimeChannel, JSON.stringify(messageCreated(n)));
        await expectEventually(() => expect(got(probe, n)).toBe(true));
        expect(got(wide, n)).toBe(false);
      },
      { timeoutMs: CLOSE_WITHIN_MS, intervalMs: 500 },
    );
    await gw.redis.connection.publish(RealtimeChannel, JSON.stringify(messageCreated(n + 1)));
    await expectEventually(() => expect(got(probe, n + 1)).toBe(true));
    expect(got(wide, n + 1)).toBe(false);
  }, 60_000);
});
