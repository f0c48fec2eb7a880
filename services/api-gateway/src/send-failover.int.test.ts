import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waMessageIdFor } from '@wacrm/contracts';
import { threadIdFor, type Firebase } from '@wacrm/firestore';
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
  waitEmulatedConnected,
  type Emulator,
  type Proc,
} from '../test/send-system.js';

const ACCOUNT = 'wa-failover1';
const PHONE = '+40722000111';
const JID = '40722000111@s.whatsapp.net';
const TTL_MS = 4_000;
let fs: TestFirestore;
let redis: TestRedis;
let authApp: Firebase;
let api: TestGateway;
let network: Emulator;
const procs: Proc[] = [];
const gateways = new Map<string, Proc>();

beforeAll(async () => {
  buildSendPath();
  fs = useTestFirestore();
  redis = await useTestRedis();
  authApp = authAppForTests();
  api = await useGateway({}, { fs, redis, authApp });
  validateTraffic(api);
  network = await startEmulator();
  procs.push(network.proc);
  await createAccount(fs.db, ACCOUNT);
  const target = { redisUrl: redis.url, prefix: redis.prefix, firestoreEnv: fs.env };
  const authStateKey = newAuthStateKey();
  for (const instanceId of ['gw-a', 'gw-b']) {
    const g = await startWaGateway(target, {
      instanceId,
      emulator: network,
      authStateKey,
      leaseTtlMs: TTL_MS,
    });
    gateways.set(instanceId, g);
    procs.push(g);
  }
  procs.push(await startIngest(target), await startOutboxSender(target));
  await pairEmulatedAccount(network, fs.db, ACCOUNT);
}, 300_000);

afterAll(async () => {
  await Promise.allSettled(procs.map((p) => p.stop('SIGKILL')));
  await api?.dispose();
});

function send(text: string, requestId: string) {
  return api.app.inject({
    method: 'POST',
    url: '/api/whatsapp/send',
    headers: admin,
    payload: { accountId: ACCOUNT, to: PHONE, text, requestId },
  });
}

describe('send across a wa-gateway failover', () => {
  it('when the owning wa-gateway is SIGKILLed around an accepted send, then each send reaches WhatsApp once after failover', async () => {
    const owner = await waitEmulatedConnected(network, fs.db, ACCOUNT);
    const victim = gateways.get(owner)!;
    const survivor = [...gateways.keys()].find((id) => id !== owner)!;

    // One send killed right after its accept (the command may be anywhere on its way), one
    // accepted while the owner is dead and its lease not yet expired.
    const first = await send('Trimis chiar înainte de căderea gateway-ului.', 'failover-send-01');
    expect(first.statusCode).toBe(202);
    victim.child.kill('SIGKILL');
    await victim.exited;
    const killedAt = Date.now();
    const second = await send('Trimis cât gateway-ul era mort.', 'failover-send-02');
    expect(second.statusCode).toBe(202);

    const ids = ['failover-send-01', 'failover-send-02'];
    await expectEventually(
      async () => {
        for (const id of ids) {
          const status = (await outboxDoc(fs.db, id))?.status;
          if (status !== 'delivered' && status !== 'read') throw new Error(`${id} is ${status}`);
        }
      },
      { timeoutMs: 90_000, intervalMs: 250 },
    );
    const deliveredAfterMs = Date.now() - killedAt;

    expect(await waitEmulatedConnected(network, fs.db, ACCOUNT)).toBe(survivor);
    const received = await sentOnEmulator(network, ACCOUNT);
    // Exactly once on WhatsApp's side: one message per request id, nothing else.
    expect(received.map((m) => m.messageId).sort()).toEqual(ids.map(waMessageIdFor).sort());
    for (const m of received) {
      expect(m).toMatchObject({ to: JID, kind: 'text' });
    }
    expect(received.find((m) => m.messageId === waMessageIdFor('failover-send-02'))?.text).toBe(
      'Trimis cât gateway-ul era mort.',
    );
    for (const id of ids) {
      const doc = await outboxDoc(fs.db, id);
      expect(doc?.sentAt).toBeInstanceOf(Date);
      expect(doc?.waMessageId).toBe(waMessageIdFor(id));
    }
    // Exactly one message document per send in the conversation.
    const messages = await threadMessages(fs.db, threadIdFor(ACCOUNT, JID));
    expect(messages.map((m) => m.requestId).sort()).toEqual(ids);
    expect(messages.every((m) => m.direction === 'outbound')).toBe(true);
    console.info(
      `failover send: owner ${owner} killed, ${survivor} delivered both sends ${deliveredAfterMs} ms later ` +
        `(lease TTL ${TTL_MS} ms); resends seen by the network: ${received.map((m) => m.resends).join(',')}`,
    );
  }, 150_000);
});
