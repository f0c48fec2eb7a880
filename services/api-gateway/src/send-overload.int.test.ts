import { randomUUID } from 'node:crypto';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { initFirebase, type Firebase } from '@wacrm/firestore';
import { useTestRedis } from '@wacrm/testing';
import { admin, AUTH_PROJECT, useGateway, type TestGateway } from '../test/gateway.fixture.js';
import { accountDoc, seedAccount } from '../test/seed.js';

/**
 * A store that stops answering (a stalled or overloaded Firestore): a TCP proxy in front of the
 * test emulator that, frozen, reads nothing from either side, so every call in flight waits.
 */
async function freezableProxy(target: string) {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.split(':').pop())];
  const pairs = new Set<[Socket, Socket]>();
  let frozen = false;
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host, port });
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    if (frozen) for (const s of pair) s.pause();
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  const each = (f: (s: Socket) => void) => {
    for (const pair of pairs) pair.forEach(f);
  };
  return {
    host: `127.0.0.1:${address.port}`,
    freeze() {
      frozen = true;
      each((s) => {
        s.unpipe();
        s.pause();
      });
    },
    thaw() {
      frozen = false;
      for (const [client, upstream] of pairs) {
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
        upstream.resume();
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        each((s) => s.destroy());
        server.close(() => resolve());
      }),
  };
}

const A = 'wa-overload01';
let gw: TestGateway;
let proxy: Awaited<ReturnType<typeof freezableProxy>>;
/** The same project read directly, past the proxy. */
let direct: Firebase;

beforeAll(async () => {
  const { firestoreEmulatorHost } = inject('deps');
  proxy = await freezableProxy(firestoreEmulatorHost);
  const projectId = `test-${randomUUID().slice(0, 12)}`;
  const app = (name: string, host: string) =>
    initFirebase({ projectId, firestoreEmulatorHost: host, appName: `${name}-${projectId}` });
  const proxied = app('proxied', proxy.host);
  direct = app('direct', firestoreEmulatorHost);
  gw = await useGateway(
    { SEND_ACCEPT_TIMEOUT_MS: '2000', SEND_MAX_IN_FLIGHT: '2' },
    {
      fs: { ...proxied, projectId, env: {} },
      redis: await useTestRedis(),
      authApp: initFirebase({
        projectId: AUTH_PROJECT,
        firestoreEmulatorHost,
        appName: `auth-${projectId}`,
      }),
    },
  );
  await seedAccount(direct.db, A, accountDoc('WA-overload', 'connected'));
}, 120_000);

afterAll(async () => {
  proxy?.thaw();
  await gw?.dispose();
  await direct?.close();
  await proxy?.close();
});

function send(requestId: string) {
  return gw.app.inject({
    method: 'POST',
    url: '/api/whatsapp/send',
    headers: admin,
    payload: { accountId: A, to: '+40733000001', text: 'Confirmare rezervare', requestId },
  });
}

describe('POST /api/whatsapp/send when the store does not answer', () => {
  it('when the store stalls, then the send is answered 503 problem+json with Retry-After within the accept deadline (never 500), and the retry after it returns is accepted once', async () => {
    // The proxy is in use (the gateway reached Firestore through it at start).
    expect((await send('overload-warm-0001')).statusCode).toBe(202);
    proxy.freeze();
    const started = Date.now();
    const stalled = await send('overload-0001');
    const waited = Date.now() - started;
    expect({ status: stalled.statusCode, type: stalled.headers['content-type'] }).toEqual({
      status: 503,
      type: 'application/problem+json; charset=utf-8',
    });
    expect(Number(stalled.headers['retry-after'])).toBeGreaterThan(0);
    expect(stalled.json()).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', status: 503 });
    expect(waited).toBeLessThan(10_000);

    // Back: the client retries with the same requestId and gets one send.
    proxy.thaw();
    const retried = await send('overload-0001');
    expect(retried.statusCode).toBe(202);
    const again = await send('overload-0001');
    expect(again.statusCode).toBe(202);
    expect(again.json()).toEqual(retried.json());
    const stored = await gw.fs.db
      .collection('outbox')
      .where('requestId', '==', 'overload-0001')
      .get();
    expect(stored.size).toBe(1);
  }, 120_000);

  it('when more sends wait for the store than SEND_MAX_IN_FLIGHT, then the next one is answered 503 with Retry-After at once', async () => {
    proxy.freeze();
    try {
      const waiting = [send('overload-cap-0001'), send('overload-cap-0002')];
      // Both reach the store (past authentication) before the third arrives.
      await new Promise((r) => setTimeout(r, 500));
      const started = Date.now();
      const refused = await send('overload-cap-0003');
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(refused.statusCode).toBe(503);
      expect(refused.headers['content-type']).toBe('application/problem+json; charset=utf-8');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      // The two in flight end at the accept deadline, 503 as well.
      expect((await Promise.all(waiting)).map((r) => r.statusCode)).toEqual([503, 503]);
    } finally {
      proxy.thaw();
    }
    // Room again: the refused send is accepted on its retry.
    expect((await send('overload-cap-0003')).statusCode).toBe(202);
  }, 60_000);
});
