import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RealtimeChannel, type RealtimeEvent } from '@wacrm/contracts';
import { expectEventually } from '@wacrm/testing';
import type { OpenApiTrafficValidator } from '@wacrm/testing';
import {
  admin,
  bearer,
  useGateway,
  userToken,
  type TestGateway,
  validateTraffic,
} from '../test/gateway.fixture.js';
import { openSse, type SseConnection } from '../test/sse-client.js';
import { realtimeStreamKey } from './data-access/realtime.js';

const A = 'wa-sse001';
const B = 'wa-sse002';
let gw: TestGateway;
let traffic: OpenApiTrafficValidator;
let base: string;
let employeeToken: string;
let employeeBToken: string;
const open: SseConnection[] = [];

function messageCreated(accountId: string, n: number): RealtimeEvent {
  return {
    type: 'message.created',
    accountId,
    threadId: `${accountId}__4070000000${n}@s.whatsapp.net`,
    messageIds: [`M${n}`],
    at: new Date().toISOString(),
  };
}

/** What ingest does after a write: a notification on the realtime pub/sub channel. */
async function publish(event: RealtimeEvent): Promise<void> {
  await gw.redis.connection.publish(RealtimeChannel, JSON.stringify(event));
}

async function connect(headers: Record<string, string>, query = ''): Promise<SseConnection> {
  const conn = await openSse(`${base}/api/stream${query}`, headers);
  open.push(conn);
  await conn.opened;
  return conn;
}

function clientUpdated(accountIds: string[], phoneE164: string): RealtimeEvent {
  return { type: 'client.updated', phoneE164, accountIds, at: new Date().toISOString() };
}

const clientPhones = (conn: SseConnection) =>
  conn.frames
    .filter((f) => f.event === 'client.updated')
    .map((f) => (JSON.parse(f.data) as { phoneE164: string }).phoneE164);

const ids = (conn: SseConnection) =>
  conn.frames
    .filter((f) => f.event === 'message.created')
    .map((f) => (JSON.parse(f.data) as { messageIds: string[] }).messageIds[0]);

beforeAll(async () => {
  gw = await useGateway();
  traffic = validateTraffic(gw);
  await gw.app.listen({ port: 0, host: '127.0.0.1' });
  const address = gw.app.server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  employeeToken = (await userToken(gw, 'employee', [A])).token;
  employeeBToken = (await userToken(gw, 'employee', [B])).token;
}, 120_000);

// Every frame a test read is one the document describes (RealtimeFrame: the event payloads).
const checked = new Set<SseConnection>();
afterEach(() => {
  for (const conn of open.filter((c) => !checked.has(c))) {
    checked.add(conn);
    traffic.assertEvents('GET', '/api/stream', conn.frames);
  }
});

afterAll(async () => {
  open.forEach((c) => c.close());
  await gw?.dispose();
});

describe('GET /api/stream (SSE)', () => {
  it('when a message is published while connected, then it arrives, and events of other accounts do not', async () => {
    const conn = await connect(bearer(employeeToken));
    await publish(messageCreated(B, 1));
    await publish(messageCreated(A, 2));
    await publish(messageCreated(A, 3));
    await expectEventually(() => expect(ids(conn)).toEqual(['M2', 'M3']));
    const frame = conn.frames.find((f) => f.event === 'message.created')!;
    expect(frame.id).toMatch(/^\d+-\d+$/);
    expect(JSON.parse(frame.data)).toMatchObject({ type: 'message.created', accountId: A });
    conn.close();
  });

  it('when a client reconnects with Last-Event-ID, then the events it missed are replayed in order, then live ones follow', async () => {
    const first = await connect(admin, `?accountId=${A}`);
    await publish(messageCreated(A, 10));
    await expectEventually(() => expect(ids(first)).toEqual(['M10']));
    const lastId = first.frames.at(-1)!.id!;
    first.close();

    // The gap: published while nobody of this client listened.
    await publish(messageCreated(A, 11));
    await publish(messageCreated(B, 12));
    await publish({
      type: 'account.status',
      accountId: A,
      status: 'connected',
      at: new Date().toISOString(),
    });
    await publish(messageCreated(A, 13));
    const key = realtimeStreamKey(gw.config.QUEUE_PREFIX);
    await expectEventually(async () => {
      const entries = await gw.redis.connection.xrange(key, `(${lastId}`, '+');
      expect(entries).toHaveLength(4);
    });

    const second = await connect({ ...admin, 'last-event-id': lastId }, `?accountId=${A}`);
    await expectEventually(() => expect(ids(second)).toEqual(['M11', 'M13']));
    expect(second.frames.map((f) => f.event)).toEqual([
      'message.created',
      'account.status',
      'message.created',
    ]);
    await publish(messageCreated(A, 14));
    await expectEventually(() => expect(ids(second)).toEqual(['M11', 'M13', 'M14']));
    // Ids only grow: nothing replayed twice.
    const frameIds = second.frames.map((f) => f.id!);
    expect(new Set(frameIds).size).toBe(frameIds.length);
    second.close();
  });

  it('when Last-Event-ID is older than the kept window, then a resync event tells the client to reload', async () => {
    const conn = await connect({ ...admin, 'last-event-id': '1-0' });
    await expectEventually(() => expect(conn.frames[0]?.event).toBe('resync'));
    conn.close();
  });

  it('when two gateway replicas receive the same notification, then it is stored once and a client of either sees it once', async () => {
    const replica = await useGateway({}, { fs: gw.fs, redis: gw.redis, authApp: gw.authApp });
    try {
      await replica.app.listen({ port: 0, host: '127.0.0.1' });
      const address = replica.app.server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      const viaReplica = await openSse(`http://127.0.0.1:${port}/api/stream?accountId=${A}`, admin);
      open.push(viaReplica);
      await viaReplica.opened;
      const viaFirst = await connect(admin, `?accountId=${A}`);
      const key = realtimeStreamKey(gw.config.QUEUE_PREFIX);
      const before = await gw.redis.connection.xlen(key);
      await publish(messageCreated(A, 20));
      await expectEventually(() => {
        expect(ids(viaReplica)).toEqual(['M20']);
        expect(ids(viaFirst)).toEqual(['M20']);
      });
      expect(await gw.redis.connection.xlen(key)).toBe(before + 1);
      viaReplica.close();
      viaFirst.close();
    } finally {
      await replica.close();
    }
  });

  it('when the caller has no credentials, a bad Last-Event-ID or an account it may not see, then 401/400/403', async () => {
    expect((await gw.app.inject({ method: 'GET', url: '/api/stream' })).statusCode).toBe(401);
    const bad = await gw.app.inject({
      method: 'GET',
      url: '/api/stream',
      headers: { ...admin, 'last-event-id': 'abc' },
    });
    expect(bad.statusCode).toBe(400);
    const denied = await gw.app.inject({
      method: 'GET',
      url: `/api/stream?accountId=${B}`,
      headers: bearer(employeeToken),
    });
    expect(denied.statusCode).toBe(403);
  });

  it('when a notification is not a RealtimeEvent, then it is dropped with a warning and the stream goes on', async () => {
    const conn = await connect(admin, `?accountId=${A}`);
    await gw.redis.connection.publish(
      RealtimeChannel,
      '{"type":"message.created","accountId":"../x"}',
    );
    await gw.redis.connection.publish(RealtimeChannel, 'not json');
    await publish(messageCreated(A, 30));
    await expectEventually(() => expect(ids(conn)).toEqual(['M30']));
    expect(
      gw.logs.lines().filter((l) => String(l.msg).includes('dropped')).length,
    ).toBeGreaterThanOrEqual(2);
    conn.close();
  });

  it('when a client is updated, then only principals allowed one of its accounts receive it', async () => {
    const onlyA = await connect(bearer(employeeToken));
    const onlyB = await connect(bearer(employeeBToken));
    const adminOfA = await connect(admin, `?accountId=${A}`);
    await publish(clientUpdated([A], '+40722000401'));
    await publish(clientUpdated([B, 'wa-sse003'], '+40722000402'));
    await publish(clientUpdated([A, B], '+40722000403'));
    // Markers after the client events: the stream keeps order, so once one has arrived,
    // every client.updated before it that this connection may see has arrived too.
    await publish(messageCreated(A, 40));
    await publish(messageCreated(B, 41));
    await expectEventually(() => {
      expect(ids(onlyA)).toEqual(['M40']);
      expect(ids(onlyB)).toEqual(['M41']);
      expect(ids(adminOfA)).toEqual(['M40']);
    });
    expect(clientPhones(onlyA)).toEqual(['+40722000401', '+40722000403']);
    expect(clientPhones(onlyB)).toEqual(['+40722000402', '+40722000403']);
    expect(clientPhones(adminOfA)).toEqual(['+40722000401', '+40722000403']);
    const frame = onlyA.frames.find((f) => f.event === 'client.updated')!;
    expect(frame.id).toMatch(/^\d+-\d+$/);
    expect(JSON.parse(frame.data)).toEqual({
      type: 'client.updated',
      phoneE164: '+40722000401',
      accountIds: [A],
      at: expect.any(String) as unknown,
    });
    onlyA.close();
    onlyB.close();
    adminOfA.close();
  });
});
