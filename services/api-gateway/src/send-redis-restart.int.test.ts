import { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutboxQueue, waMessageIdFor } from '@wacrm/contracts';
import { startRedisServer, type RedisServerHandle } from '@wacrm/emulators';
import { threadIdFor, type Firebase } from '@wacrm/firestore';
import { openQueue } from '@wacrm/queue';
import {
  expectEventually,
  useTestFirestore,
  useTestRedis,
  type TestFirestore,
  type TestRedis,
} from '@wacrm/testing';
import { admin, useGateway, type TestGateway, validateTraffic } from '../test/gateway.fixture.js';
import {
  authAppForTests,
  buildSendPath,
  createAccount,
  newAuthStateKey,
  outboxDoc,
  pairEmulatedAccount,
  sentOnEmulator,
  startIngest,
  startEmulator,
  startOutboxSender,
  startWaGateway,
  threadMessages,
  type Emulator,
  type Proc,
} from '../test/send-system.js';

const ACCOUNT = 'wa-redisdown1';
const PHONE = '+40722000222';
const JID = '40722000222@s.whatsapp.net';
let server: RedisServerHandle;
let fs: TestFirestore;
let redis: TestRedis;
let authApp: Firebase;
let api: TestGateway;
let network: Emulator;
let sender: Proc;
const procs: Proc[] = [];

beforeAll(async () => {
  buildSendPath();
  // A Redis of this test's own, persistent across its restart like a production Redis.
  server = await startRedisServer({ appendOnly: true });
  fs = useTestFirestore();
  redis = await useTestRedis(server.url);
  // This test stops Redis on purpose: its own connection's reconnect errors are expected.
  redis.connection.on('error', () => undefined);
  authApp = authAppForTests();
  api = await useGateway({}, { fs, redis, authApp });
  validateTraffic(api);
  network = await startEmulator();
  procs.push(network.proc);
  await createAccount(fs.db, ACCOUNT);
  const target = { redisUrl: redis.url, prefix: redis.prefix, firestoreEnv: fs.env };
  procs.push(
    await startWaGateway(target, {
      instanceId: 'gw-r',
      emulator: network,
      authStateKey: newAuthStateKey(),
      // Longer than the outage: the owner keeps its account across the restart.
      leaseTtlMs: 20_000,
    }),
    await startIngest(target),
  );
  sender = await startOutboxSender(target);
  procs.push(sender);
  await pairEmulatedAccount(network, fs.db, ACCOUNT);
}, 300_000);

afterAll(async () => {
  await Promise.allSettled(procs.map((p) => p.stop('SIGKILL')));
  await api?.dispose();
  await server?.stop();
});

describe('send when Redis restarts between the outbox write and the enqueue', () => {
  it('when Redis is down as a send is accepted, then the relay queues it after the restart and it is sent once', async () => {
    await server.stop();
    const res = await api.app.inject({
      method: 'POST',
      url: '/api/whatsapp/send',
      headers: admin,
      payload: { accountId: ACCOUNT, to: PHONE, text: 'Acceptat cu Redis oprit.' },
    });
    expect(res.statusCode).toBe(202);
    const { requestId } = res.json<{ requestId: string }>();
    expect(requestId).toBeTruthy();
    // The outbox document is the truth: written although nothing could be queued.
    expect((await outboxDoc(fs.db, requestId))?.status).toBe('queued');
    expect(
      api.logs.lines().some((l) => /send accepted but not queued yet/.test(String(l.msg))),
    ).toBe(true);

    await server.restart();
    await expectEventually(
      async () => {
        const status = (await outboxDoc(fs.db, requestId))?.status;
        if (status !== 'delivered' && status !== 'read') throw new Error(`outbox is ${status}`);
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );

    // The relay, not the route, put the job on the queue.
    const relayed = sender.lines.filter((l) =>
      /outbox relay handed documents back/.test(String(l.msg)),
    );
    expect(relayed.map((l) => l.requeued)).toContain(1);
    const outbox = openQueue(OutboxQueue, { connection: redis.connection, prefix: redis.prefix });
    expect((await Job.fromId(outbox.queue, requestId))?.data).toEqual({
      requestId,
      accountId: ACCOUNT,
    });
    await outbox.queue.close();

    const received = await sentOnEmulator(network, ACCOUNT);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({
      messageId: waMessageIdFor(requestId),
      to: JID,
      kind: 'text',
      text: 'Acceptat cu Redis oprit.',
    });
    expect((await outboxDoc(fs.db, requestId))?.sentAt).toBeInstanceOf(Date);
    const messages = await threadMessages(fs.db, threadIdFor(ACCOUNT, JID));
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ requestId, direction: 'outbound', type: 'text' });
  }, 120_000);
});
