import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SIMULATOR_MAX_MEDIA_BASE64_CHARS,
  waCommandsQueue,
  waMessageIdFor,
} from '@wacrm/contracts';
import { collections, threadIdFor, type Firebase } from '@wacrm/firestore';
import { jobIdFrom, openQueue } from '@wacrm/queue';
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

const ACCOUNT = 'wa-media01';
const PHONE = '+40722000333';
const JID = '40722000333@s.whatsapp.net';
const THREAD = threadIdFor(ACCOUNT, JID);
const QUOTED_ID = 'SIMQUOTEDMEDIA0001';
// Files a CRM operator sends: bytes the gateway must fetch from their URL, as Baileys does.
const FILES: Record<string, { type: string; body: Buffer }> = {
  '/media/tort.jpg': { type: 'image/jpeg', body: Buffer.alloc(48_213, 0xd8) },
  '/media/oferta.pdf': {
    type: 'application/pdf',
    body: Buffer.from('%PDF-1.7 oferta '.repeat(900)),
  },
  '/media/nota.ogg': { type: 'audio/ogg', body: Buffer.alloc(9_999, 0x4f) },
};
let fs: TestFirestore;
let redis: TestRedis;
let authApp: Firebase;
let api: TestGateway;
let network: Emulator;
let media: Server;
/** The media server by a name the gateway trusts (OUTBOUND_ALLOW_HOSTS=localhost)… */
let mediaUrl: string;
/** …and by its loopback address, which it does not. */
let internalUrl: string;
const mediaHits: string[] = [];
const procs: Proc[] = [];

beforeAll(async () => {
  buildSendPath();
  media = createServer((req, res) => {
    mediaHits.push(req.url ?? '');
    const file = FILES[req.url ?? ''];
    if (file === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': file.type, 'content-length': file.body.length });
    res.end(file.body);
  });
  await new Promise<void>((r) => media.listen(0, '127.0.0.1', r));
  const mediaPort = (media.address() as AddressInfo).port;
  mediaUrl = `http://localhost:${mediaPort}`;
  internalUrl = `http://127.0.0.1:${mediaPort}`;

  fs = useTestFirestore();
  redis = await useTestRedis();
  authApp = authAppForTests();
  network = await startEmulator();
  procs.push(network.proc);
  // The dev routes (/api/dev/simulator/*) forward to this emulator.
  api = await useGateway({ WA_EMULATOR_URL: network.url }, { fs, redis, authApp });
  validateTraffic(api);
  await createAccount(fs.db, ACCOUNT);
  const target = { redisUrl: redis.url, prefix: redis.prefix, firestoreEnv: fs.env };
  procs.push(
    await startWaGateway(target, {
      instanceId: 'gw-m',
      emulator: network,
      authStateKey: newAuthStateKey(),
      leaseTtlMs: 15_000,
      outboundAllowHosts: 'localhost',
    }),
    await startIngest(target),
    await startOutboxSender(target),
  );
  await pairEmulatedAccount(network, fs.db, ACCOUNT);
}, 300_000);

afterAll(async () => {
  await Promise.allSettled(procs.map((p) => p.stop('SIGKILL')));
  await api?.dispose();
  await new Promise((r) => media?.close(r));
});

function send(requestId: string, body: Record<string, unknown>) {
  return api.app.inject({
    method: 'POST',
    url: '/api/whatsapp/send',
    headers: admin,
    payload: { accountId: ACCOUNT, to: PHONE, requestId, ...body },
  });
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('base64');

describe('media and reply sends end to end', () => {
  it('when an image, a document, an audio and a reply are sent, then WhatsApp receives each with its metadata and the conversation stores it', async () => {
    // The client writes first: the reply quotes this message.
    const inbound = await fetch(`${network.url}/accounts/${ACCOUNT}/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: PHONE, text: 'Aveți liber sâmbătă?', messageId: QUOTED_ID }),
    });
    expect(inbound.status).toBe(202);
    await expectEventually(
      async () => {
        const quoted = await collections(fs.db).messages(THREAD).doc(QUOTED_ID).get();
        if (!quoted.exists) throw new Error('the quoted message is not stored yet');
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );

    const sends = {
      'media-image-0001': {
        media: {
          kind: 'image',
          url: `${mediaUrl}/media/tort.jpg`,
          mimetype: 'image/jpeg',
          caption: 'Tortul ales',
        },
      },
      'media-doc-00001': {
        media: {
          kind: 'document',
          url: `${mediaUrl}/media/oferta.pdf`,
          mimetype: 'application/pdf',
          fileName: 'Oferta petrecere.pdf',
          caption: 'Oferta noastră',
        },
      },
      'media-audio-0001': {
        media: { kind: 'audio', url: `${mediaUrl}/media/nota.ogg`, mimetype: 'audio/ogg' },
      },
      'media-reply-0001': {
        text: 'Da, sâmbătă avem liber de la 14:00.',
        replyTo: { id: QUOTED_ID, remoteJid: JID, fromMe: false, participant: null },
      },
    };
    for (const [requestId, body] of Object.entries(sends)) {
      const res = await send(requestId, body);
      expect(res.statusCode, res.body).toBe(202);
    }
    await expectEventually(
      async () => {
        for (const id of Object.keys(sends)) {
          const doc = await outboxDoc(fs.db, id);
          if (doc?.status !== 'delivered' && doc?.status !== 'read') {
            throw new Error(`${id} is ${doc?.status} (${doc?.lastError})`);
          }
        }
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );

    const received = new Map(
      (await sentOnEmulator(network, ACCOUNT)).map((m) => [m.messageId, m] as const),
    );
    expect(received.size).toBe(4);
    const jpg = FILES['/media/tort.jpg']!.body;
    const pdf = FILES['/media/oferta.pdf']!.body;
    const ogg = FILES['/media/nota.ogg']!.body;
    expect(received.get(waMessageIdFor('media-image-0001'))).toMatchObject({
      to: JID,
      kind: 'image',
      mimetype: 'image/jpeg',
      caption: 'Tortul ales',
      fileLength: jpg.length,
      fileSha256Base64: sha256(jpg),
      quotedMessageId: null,
    });
    expect(received.get(waMessageIdFor('media-doc-00001'))).toMatchObject({
      kind: 'document',
      mimetype: 'application/pdf',
      fileName: 'Oferta petrecere.pdf',
      caption: 'Oferta noastră',
      fileLength: pdf.length,
      fileSha256Base64: sha256(pdf),
    });
    expect(received.get(waMessageIdFor('media-audio-0001'))).toMatchObject({
      kind: 'audio',
      mimetype: 'audio/ogg',
      caption: null,
      fileLength: ogg.length,
      fileSha256Base64: sha256(ogg),
    });
    expect(received.get(waMessageIdFor('media-reply-0001'))).toMatchObject({
      kind: 'text',
      text: 'Da, sâmbătă avem liber de la 14:00.',
      quotedMessageId: QUOTED_ID,
    });
    // The quoted author is the contact, by phone number or by the LID it wrote from.
    const quotedKey = (await collections(fs.db).messages(THREAD).doc(QUOTED_ID).get()).data()
      ?.waKey;
    expect([JID, quotedKey?.remoteJid]).toContain(
      received.get(waMessageIdFor('media-reply-0001'))?.quotedParticipant,
    );

    const stored = new Map(
      (await threadMessages(fs.db, THREAD)).map((m) => [m.requestId ?? m.waKey.id, m] as const),
    );
    expect(stored.size).toBe(5);
    expect(stored.get('media-image-0001')).toMatchObject({
      direction: 'outbound',
      type: 'image',
      body: 'Tortul ales',
      media: { kind: 'image', mimetype: 'image/jpeg', caption: 'Tortul ales' },
    });
    expect(stored.get('media-doc-00001')).toMatchObject({
      type: 'document',
      media: {
        kind: 'document',
        mimetype: 'application/pdf',
        fileName: 'Oferta petrecere.pdf',
        caption: 'Oferta noastră',
      },
    });
    expect(stored.get('media-audio-0001')).toMatchObject({
      type: 'audio',
      media: { kind: 'audio', mimetype: 'audio/ogg', caption: null },
    });
    expect(stored.get('media-reply-0001')).toMatchObject({
      type: 'text',
      body: 'Da, sâmbătă avem liber de la 14:00.',
      quotedMessageId: QUOTED_ID,
    });
  }, 120_000);

  it('when the media URL cannot be fetched, then nothing reaches WhatsApp and the command retries with the reason', async () => {
    const res = await send('media-missing-01', {
      media: { kind: 'image', url: `${mediaUrl}/media/absent.jpg`, mimetype: 'image/jpeg' },
    });
    expect(res.statusCode).toBe(202);
    const commands = openQueue(waCommandsQueue(ACCOUNT), {
      connection: redis.connection,
      prefix: redis.prefix,
    });
    await expectEventually(
      async () => {
        const job = await Job.fromId(commands.queue, jobIdFrom('send', 'media-missing-01'));
        expect(job?.failedReason ?? '').toMatch(/media download failed: HTTP 404/);
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    await commands.queue.close();
    expect((await outboxDoc(fs.db, 'media-missing-01'))?.status).toBe('sending');
    const received = await sentOnEmulator(network, ACCOUNT);
    expect(received.map((m) => m.messageId)).not.toContain(waMessageIdFor('media-missing-01'));
  }, 60_000);

  it('when the media URL points at an internal address, then nothing is fetched, nothing reaches WhatsApp and the send fails at once with the reason', async () => {
    mediaHits.length = 0;
    const res = await send('media-internal-01', {
      media: { kind: 'image', url: `${internalUrl}/media/tort.jpg`, mimetype: 'image/jpeg' },
    });
    expect(res.statusCode).toBe(202);
    await expectEventually(
      async () => {
        const doc = await outboxDoc(fs.db, 'media-internal-01');
        expect(doc?.status).toBe('failed');
        expect(doc?.lastError ?? '').toMatch(
          /refused to fetch http:\/\/127\.0\.0\.1:\d+\/media\/tort\.jpg/,
        );
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    const commands = openQueue(waCommandsQueue(ACCOUNT), {
      connection: redis.connection,
      prefix: redis.prefix,
    });
    const job = await Job.fromId(commands.queue, jobIdFrom('send', 'media-internal-01'));
    await commands.queue.close();
    // Failed once, not retried: the answer cannot change.
    expect(job?.attemptsMade).toBe(1);
    expect(mediaHits).toEqual([]);
    const received = await sentOnEmulator(network, ACCOUNT);
    expect(received.map((m) => m.messageId)).not.toContain(waMessageIdFor('media-internal-01'));
  }, 60_000);

  it('when a contact sends a real file through the dev inbound route, then WhatsApp carries those bytes', async () => {
    // Issue 17 item 8: demos and scripts send a real file (media.dataBase64) through the API.
    const file = Buffer.from('%PDF-1.7 contract Elsa 14 februarie '.repeat(300));
    const res = await api.app.inject({
      method: 'POST',
      url: `/api/dev/simulator/accounts/${ACCOUNT}/inbound`,
      headers: admin,
      payload: {
        from: PHONE,
        kind: 'document',
        media: {
          mimetype: 'application/pdf',
          fileName: 'contract.pdf',
          dataBase64: file.toString('base64'),
        },
      },
    });
    expect(res.statusCode, res.body).toBeLessThan(300);
    await expectEventually(
      async () => {
        const stored = (await threadMessages(fs.db, THREAD)).find(
          (m) => m.media?.fileName === 'contract.pdf',
        );
        expect(stored?.media?.size).toBe(file.length);
        expect(stored?.media?.fileSha256Base64).toBe(sha256(file));
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
  }, 60_000);

  it('when the dev inbound route gets a file that is not base64 or is too large, then it answers 400 and sends nothing', async () => {
    for (const dataBase64 of ['not base64!', 'A'.repeat(SIMULATOR_MAX_MEDIA_BASE64_CHARS + 4)]) {
      const res = await api.app.inject({
        method: 'POST',
        url: `/api/dev/simulator/accounts/${ACCOUNT}/inbound`,
        headers: admin,
        payload: { from: PHONE, kind: 'image', media: { mimetype: 'image/jpeg', dataBase64 } },
      });
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
  }, 60_000);
});
