import { createDecipheriv, randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  waCommandsQueue,
  WaInboundQueue,
  waMessageIdFor,
  type AccountStateJob,
  type IngestMessagesJob,
  type MessageUpdatesJob,
  type SendResultJob,
} from '@wacrm/contracts';
import { collections } from '@wacrm/firestore';
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
import { AuthCipher, parseAuthStateKey } from './domain/auth-cipher.js';

interface InboundJobs {
  'ingest-messages': IngestMessagesJob;
  'update-account': AccountStateJob;
  'update-messages': MessageUpdatesJob;
  'record-send-result': SendResultJob;
}
/** The parts of a proto message's JSON the assertions read. */
interface ImageJson {
  imageMessage: { mediaKey: unknown; caption: string };
}

const ACCOUNTS = Array.from({ length: 12 }, (_, i) => `acc-${String(i).padStart(2, '0')}`);
const firestore = useTestFirestore();
let redis: TestRedis;
let emulator: Emulator;
let inbound: Queue;
const authStateKey = newAuthStateKey();
const started: Proc[] = [];

async function gateway(instanceId: string) {
  const g = await startGateway({
    instanceId,
    redisUrl: redis.url,
    prefix: redis.prefix,
    firestoreEnv: firestore.env,
    emulator,
    authStateKey,
  });
  started.push(g);
  return g;
}

/** The payloads on wa-inbound of one job name, typed by its contract. */
async function inboundJobs<N extends keyof InboundJobs>(
  name: N,
): Promise<Array<{ data: InboundJobs[N] }>> {
  const jobs = await inbound.getJobs(['waiting', 'active', 'completed', 'failed', 'delayed']);
  return jobs.filter((j) => j.name === name).map((j) => ({ data: j.data as InboundJobs[N] }));
}

beforeAll(async () => {
  buildGateway();
  redis = await useTestRedis();
  emulator = await startEmulator();
  inbound = new Queue(WaInboundQueue.name, { connection: redis.connection, prefix: redis.prefix });
  await createAccounts(firestore.db, ACCOUNTS);
}, 300_000);

afterAll(async () => {
  await Promise.allSettled(started.map((p) => p.stop('SIGKILL')));
  await emulator?.proc.stop();
  await inbound?.close();
  await redis?.cleanup();
  await firestore.close();
});

describe('wa-gateway with real Baileys against the WhatsApp network emulator (real processes, Redis, Firestore)', () => {
  it('when 12 accounts are paired and the gateway restarts 3 times, then all reconnect with no new QR', async () => {
    let g = await gateway('gw-a');
    await scanAllShown(emulator, firestore.db, ACCOUNTS);
    await waitEmulatorConnected(emulator, firestore.db, ACCOUNTS);
    await expectEventually(async () => {
      const accounts = await firestore.db.collection('accounts').get();
      expect(accounts.docs.filter((d) => d.get('status') === 'connected')).toHaveLength(12);
      expect(accounts.docs.every((d) => d.get('ownerInstanceId') === 'gw-a')).toBe(true);
    });
    const qrJobsBefore = (await inboundJobs('update-account')).filter(
      (j) => j.data.status === 'qr_ready',
    ).length;
    expect(qrJobsBefore).toBeGreaterThanOrEqual(12);
    expect(g.lines.filter((l) => l.msg === 'connected').length).toBeGreaterThanOrEqual(12);

    for (let restart = 1; restart <= 3; restart++) {
      await g.stop('SIGTERM');
      g = await gateway(`gw-a`);
      await expectEventually(
        () =>
          expect(g.lines.filter((l) => l.msg === 'Session restored from Firestore')).toHaveLength(
            12,
          ),
        { timeoutMs: 60_000, intervalMs: 200 },
      );
      await waitEmulatorConnected(emulator, firestore.db, ACCOUNTS);
      expect(g.lines.some((l) => l.msg === 'needs_qr')).toBe(false);
    }
    const accounts = await emulatorAccounts(emulator);
    expect(accounts.filter((a) => a.awaitingScan)).toHaveLength(0);
    // The same linked device each time, not a new pairing.
    expect(accounts.every((a) => a.devices.length === 1)).toBe(true);
    const qrJobsAfter = (await inboundJobs('update-account')).filter(
      (j) => j.data.status === 'qr_ready',
    ).length;
    expect(qrJobsAfter).toBe(qrJobsBefore);
  }, 300_000);

  it('when a client sends messages of every kind, then each is one ingest-messages job with the proto JSON', async () => {
    const sent = await post(emulator.proc, '/accounts/acc-00/inbound', {
      from: '+40712345678',
      name: 'Ana',
      text: 'Bună! Vreau o petrecere pe 12 iunie',
    });
    expect(sent.status).toBe(202);
    const id = (sent.body.messageIds as string[])[0]!;
    const image = await post(emulator.proc, '/accounts/acc-00/inbound', {
      from: '+40712345678',
      kind: 'image',
      media: { mimetype: 'image/jpeg', caption: 'poza' },
    });
    await post(emulator.proc, '/accounts/acc-00/inbound', {
      from: '+40712345678',
      kind: 'reaction',
      targetMessageId: id,
      emoji: '❤',
    });
    // The same message id twice (a WhatsApp redelivery) is one job.
    await post(emulator.proc, '/accounts/acc-00/inbound', {
      from: '+40712345678',
      text: 'x',
      messageId: 'DUP1',
    });
    await post(emulator.proc, '/accounts/acc-00/inbound', {
      from: '+40712345678',
      text: 'x',
      messageId: 'DUP1',
    });
    const bad = await post(emulator.proc, '/accounts/acc-00/inbound', { from: '0712', text: 'x' });
    expect(bad.status).toBe(400);

    await expectEventually(
      async () => {
        const jobs = (await inboundJobs('ingest-messages')).filter(
          (j) => j.data.accountId === 'acc-00',
        );
        expect(jobs).toHaveLength(4);
        const text = jobs.find((j) => j.data.messages[0]?.key.id === id)!;
        expect(text.data).toMatchObject({
          accountId: 'acc-00',
          instanceId: 'gw-a',
          source: 'live',
          messages: [
            {
              // Addressed by LID with the phone number beside it, as WhatsApp writes today.
              keyAlt: { remoteJidAlt: '40712345678@s.whatsapp.net' },
              key: {
                remoteJid: expect.stringMatching(/@lid$/) as string,
                fromMe: false,
                id,
                participant: null,
              },
              pushName: 'Ana',
              message: { conversation: 'Bună! Vreau o petrecere pe 12 iunie' },
              undecryptable: false,
            },
          ],
        });
        expect(text.data.fencingToken).toBeGreaterThan(0);
        const img = jobs.find(
          (j) => j.data.messages[0]?.key.id === (image.body.messageIds as string[])[0],
        )!;
        // Bytes travel as base64 strings, as proto's toObject({ bytes: String }) writes them.
        const imageJson = img.data.messages[0]?.message as unknown as ImageJson;
        expect(typeof imageJson.imageMessage.mediaKey).toBe('string');
        expect(imageJson.imageMessage.caption).toBe('poza');
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
  }, 60_000);

  it('when a send command arrives, then the message goes out with the requestId-derived id and its receipts follow', async () => {
    const commands = openQueue(waCommandsQueue('acc-01'), {
      connection: redis.connection,
      prefix: redis.prefix,
    });
    const requestId = 'req-send-0001';
    await enqueue(commands, 'send-message', {
      requestId,
      accountId: 'acc-01',
      to: '+40799999999',
      waMessageId: waMessageIdFor(requestId),
      text: 'Confirmăm rezervarea',
    });
    await expectEventually(
      async () => {
        const results = await inboundJobs('record-send-result');
        expect(results.map((j) => j.data)).toContainEqual(
          expect.objectContaining({
            requestId,
            waMessageId: waMessageIdFor(requestId),
            outcome: 'sent',
          }),
        );
        const updates = (await inboundJobs('update-messages')).flatMap((j) => j.data.updates);
        const statuses = updates
          .filter((u) => u.key.id === waMessageIdFor(requestId))
          .map((u) => u.status);
        expect(statuses.sort()).toEqual([3, 4]);
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    await commands.queue.close();
  }, 60_000);

  it('when a pairing code is requested and the phone enters it, then the account is connected with no QR scanned', async () => {
    const id = 'acc-code';
    await createAccounts(firestore.db, [id]);
    const commands = openQueue(waCommandsQueue(id), {
      connection: redis.connection,
      prefix: redis.prefix,
    });
    // The account shows its first QR: the gateway holds a socket waiting to be paired.
    await expectEventually(
      async () => {
        expect((await collections(firestore.db).accounts().doc(id).get()).data()?.qr).toBeTruthy();
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    await enqueue(commands, 'request-pairing-code', {
      accountId: id,
      phone: '+40733444555',
      requestedBy: 'test',
      requestedAt: new Date().toISOString(),
    });
    let code = '';
    await expectEventually(
      async () => {
        const shown = (await inboundJobs('update-account')).find(
          (j) => j.data.accountId === id && j.data.pairingCode !== null,
        );
        expect(shown).toBeDefined();
        code = shown!.data.pairingCode!;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(code).toMatch(/^[A-Z0-9]{8}$/);
    const entered = await post(emulator.proc, `/accounts/${id}/pairing-code`, { code });
    expect(entered.status).toBe(202);
    await waitEmulatorConnected(emulator, firestore.db, [id]);
    const account = (await emulatorAccounts(emulator)).find((a) => a.accountId === id);
    expect(account?.phone).toBe('40733444555');
    expect(account?.devices).toEqual([expect.objectContaining({ connected: true })]);
    await commands.queue.close();
  }, 90_000);

  it('when the stored auth state is read, then it is ciphertext that only the key opens', async () => {
    const doc = await firestore.db.collection('authState').doc('acc-02').get();
    const stored = doc.get('creds') as string;
    const bytes = Buffer.from(stored, 'base64');
    const keysSnap = await doc.ref.collection('keys').get();
    // The plaintext of creds contains these field names; the stored bytes must not.
    for (const needle of ['noiseKey', 'signedIdentityKey', 'advSecretKey', 'private']) {
      expect(bytes.toString('utf8')).not.toContain(needle);
      expect(stored).not.toContain(needle);
    }
    expect(doc.get('fencingToken')).toBeGreaterThan(0);
    // Without the key: a different key fails GCM authentication.
    const wrong = randomBytes(32);
    expect(() => {
      const d = createDecipheriv('aes-256-gcm', wrong, bytes.subarray(1, 13));
      d.setAAD(Buffer.from('acc-02|creds'));
      d.setAuthTag(bytes.subarray(13, 29));
      Buffer.concat([d.update(bytes.subarray(29)), d.final()]);
    }).toThrow();
    // With the key it is Baileys' creds.
    const plain = new AuthCipher(parseAuthStateKey(authStateKey)).decrypt(bytes, 'acc-02|creds');
    expect(JSON.parse(plain)).toHaveProperty('noiseKey');
    expect(JSON.parse(plain)).toHaveProperty('me.id');
    expect(keysSnap.size).toBeGreaterThanOrEqual(0);
  });
});
