import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waCommandsQueue, WaInboundQueue, type AccountStateJob } from '@wacrm/contracts';
import { enqueue, openQueue } from '@wacrm/queue';
import { expectEventually, useTestFirestore, useTestRedis, type TestRedis } from '@wacrm/testing';
import {
  buildGateway,
  createAccounts,
  emulatorAccounts,
  newAuthStateKey,
  post,
  scanAllShown,
  startEmulator,
  startGateway,
  waitEmulatorConnected,
  type Emulator,
  type Proc,
} from '../test/harness.js';

const RECONNECTING = [408, 428, 503, 515];
const PAIRED = ['d-401', 'd-440', 'd-500', ...RECONNECTING.map((c) => `d-${c}`)];
const firestore = useTestFirestore();
let redis: TestRedis;
let emulator: Emulator;
let gateway: Proc;
let inbound: Queue;

beforeAll(async () => {
  buildGateway();
  redis = await useTestRedis();
  emulator = await startEmulator();
  inbound = new Queue(WaInboundQueue.name, { connection: redis.connection, prefix: redis.prefix });
  // d-qr is never scanned: Baileys lets its QRs expire on their own clock (60 s, then 5 x 20 s),
  // so it starts now and the other tests run meanwhile.
  await createAccounts(firestore.db, [...PAIRED, 'd-qr']);
  qrAccountCreatedAt = Date.now();
  gateway = await startGateway({
    instanceId: 'gw-policy',
    redisUrl: redis.url,
    prefix: redis.prefix,
    firestoreEnv: firestore.env,
    emulator,
    authStateKey: newAuthStateKey(),
  });
  await scanAllShown(emulator, firestore.db, PAIRED);
  await waitEmulatorConnected(emulator, firestore.db, PAIRED);
}, 600_000);

afterAll(async () => {
  await gateway?.stop('SIGKILL');
  await emulator?.proc.stop();
  await inbound?.close();
  await redis?.cleanup();
  await firestore.close();
});

let qrAccountCreatedAt = 0;
const deviceOf = async (id: string) =>
  (await emulatorAccounts(emulator)).find((a) => a.accountId === id)?.devices ?? [];
const statusOf = async (id: string) =>
  (await firestore.db.collection('accounts').doc(id).get()).get('status') as string;
const opens = (id: string) =>
  gateway.lines.filter((l) => l.accountId === id && l.msg === 'connected').length;
/** Socket closes the gateway logged for one account (every pairing adds one 515 close). */
const closes = (id: string, code?: number) =>
  gateway.lines.filter(
    (l) =>
      l.accountId === id && l.msg === 'socket closed' && (code === undefined || l.code === code),
  ).length;

async function command(accountId: string, name: 'connect' | 'regenerate-qr') {
  const q = openQueue(waCommandsQueue(accountId), {
    connection: redis.connection,
    prefix: redis.prefix,
  });
  await enqueue(q, name, { accountId, requestedBy: 'test', requestedAt: new Date().toISOString() });
  await q.queue.close();
}

describe('reconnect policy with real Baileys against the WhatsApp network emulator', () => {
  for (const code of RECONNECTING) {
    it(`when WhatsApp closes with ${code}, then the gateway opens a new socket and is connected again`, async () => {
      const id = `d-${code}`;
      // The pairing's 515 close; logs arrive through a pipe, so wait for the line.
      await expectEventually(() => expect(closes(id)).toBe(1));
      await expectEventually(() => expect(opens(id)).toBe(1));
      const before = closes(id);
      const opened = opens(id);
      const r = await post(emulator.proc, `/accounts/${id}/disconnect`, { reason: code });
      expect(r.status).toBe(202);
      await expectEventually(() => expect(closes(id)).toBe(before + 1));
      expect(closes(id, code)).toBe(code === 515 ? 2 : 1);
      await expectEventually(() => expect(opens(id)).toBe(opened + 1), { timeoutMs: 20_000 });
      await waitEmulatorConnected(emulator, firestore.db, [id], 20_000);
    }, 60_000);
  }

  it('when logged out (401), then status is logged_out, creds are wiped and it never reconnects by itself', async () => {
    await post(emulator.proc, '/accounts/d-401/disconnect', { reason: 401 });
    await expectEventually(async () => expect(await statusOf('d-401')).toBe('logged_out'));
    const auth = await firestore.db.collection('authState').doc('d-401').get();
    expect(auth.get('revoked')).toBe(true);
    expect(auth.get('creds')).toBeNull();
    expect((await auth.ref.collection('keys').get()).size).toBe(0);
    // No loop: other accounts reconnect within ~1 s; this one stays closed with one close.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(closes('d-401', 401)).toBe(1);
    expect(closes('d-401')).toBe(2);
    // The phone removed the linked device.
    expect(await deviceOf('d-401')).toEqual([]);
    const jobs = await inbound.getJobs(['waiting', 'completed']);
    expect(
      jobs.some(
        (j) =>
          j.name === 'update-account' &&
          (j.data as AccountStateJob).accountId === 'd-401' &&
          (j.data as AccountStateJob).status === 'logged_out',
      ),
    ).toBe(true);
  }, 60_000);

  it('when a logged-out account gets a connect command, then it pairs again with fresh creds through a new QR', async () => {
    await command('d-401', 'connect');
    await expectEventually(async () => expect(await statusOf('d-401')).toBe('qr_ready'));
    await scanAllShown(emulator, firestore.db, ['d-401']);
    await waitEmulatorConnected(emulator, firestore.db, ['d-401'], 30_000);
    // Auth state is written behind the socket: wait for the fresh creds to land.
    await expectEventually(async () => {
      const auth = await firestore.db.collection('authState').doc('d-401').get();
      expect(auth.get('revoked')).toBe(false);
      expect(typeof auth.get('creds')).toBe('string');
    });
  }, 60_000);

  it('when the connection is replaced (440), then it stops and reports disconnected without fighting', async () => {
    await post(emulator.proc, '/accounts/d-440/disconnect', { reason: 440 });
    await expectEventually(async () => expect(await statusOf('d-440')).toBe('disconnected'));
    await new Promise((r) => setTimeout(r, 2_000));
    expect(closes('d-440', 440)).toBe(1);
    expect(closes('d-440')).toBe(2);
    expect((await deviceOf('d-440')).some((d) => d.connected)).toBe(false);
  }, 60_000);

  it('when the session is bad (500) and WhatsApp forgot the device, then the login after the reconnect decides (logged_out) and regenerate-qr pairs it again', async () => {
    await post(emulator.proc, '/accounts/d-500/disconnect', { reason: 500 });
    // A 500 alone never discards creds: the gateway reconnects, and the login is refused (401).
    await expectEventually(async () => expect(await statusOf('d-500')).toBe('logged_out'));
    expect(closes('d-500', 500)).toBe(1);
    expect(closes('d-500', 401)).toBe(1);
    await command('d-500', 'regenerate-qr');
    await expectEventually(async () => expect(await statusOf('d-500')).toBe('qr_ready'));
    await scanAllShown(emulator, firestore.db, ['d-500']);
    await waitEmulatorConnected(emulator, firestore.db, ['d-500'], 30_000);
  }, 60_000);

  it('when every QR of a connection expires unscanned, then status is needs_qr and nothing loops', async () => {
    const left = qrAccountCreatedAt + 200_000 - Date.now();
    await expectEventually(async () => expect(await statusOf('d-qr')).toBe('needs_qr'), {
      timeoutMs: Math.max(left, 5_000),
      intervalMs: 1_000,
    });
    await new Promise((r) => setTimeout(r, 2_000));
    expect(closes('d-qr', 408)).toBe(1);
    expect(closes('d-qr')).toBe(1);
    expect(await statusOf('d-qr')).toBe('needs_qr');
  }, 240_000);
});
