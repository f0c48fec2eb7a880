import type { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  MediaQueue,
  RealtimeChannel,
  realtimeEventAccountIds,
  WaInboundQueue,
  type MessageDoc,
  type RealtimeEvent,
  type ThreadDoc,
} from '@wacrm/contracts';
import { threadIdFor } from '@wacrm/firestore';
import { enqueue, jobIdFrom, openQueue, type ContractQueue } from '@wacrm/queue';
import {
  captureLogger,
  expectEventually,
  useTestFirestore,
  useTestRedis,
  waitForQueueIdle,
  type TestFirestore,
  type TestRedis,
} from '@wacrm/testing';
import { startInboundWorker } from './entry-points/inbound.worker.js';
import { buildIngestDeps } from './ingest.composition.js';
import { FirestoreStore } from './data-access/firestore-store.js';
import { gateway, messagesJob, raw } from './test-support/wa-fixtures.js';

const A = 'wa-01';
const ANA = '40712345678@s.whatsapp.net';
const ANA_LID = '99887766554433@lid';
const GROUP = '120363001234567890@g.us';

let redis: TestRedis;
let fs: TestFirestore;
let queue: ContractQueue<typeof WaInboundQueue>;
let worker: Worker;
let subscriber: Redis;
let events: RealtimeEvent[];
let log: ReturnType<typeof captureLogger>;
let store: FirestoreStore;
let sendStatus: ReturnType<typeof buildIngestDeps>['sendStatus'];

beforeEach(async () => {
  redis = await useTestRedis();
  fs = useTestFirestore();
  store = new FirestoreStore(fs.db);
  log = captureLogger('ingest');
  queue = openQueue(WaInboundQueue, { connection: redis.connection, prefix: redis.prefix });
  const deps = buildIngestDeps({
    db: fs.db,
    redis: redis.connection,
    publisher: redis.connection,
    prefix: redis.prefix,
    logger: log.logger,
    maxWrites: 500,
    lockTtlMs: 5_000,
    lockWaitMs: 10_000,
  });
  sendStatus = deps.sendStatus;
  worker = startInboundWorker(deps, {
    connection: redis.connection,
    prefix: redis.prefix,
    concurrency: 4,
    lockDurationMs: 30_000,
    stalledIntervalMs: 30_000,
  });
  events = [];
  subscriber = new Redis(redis.url);
  await subscriber.subscribe(RealtimeChannel);
  subscriber.on('message', (_channel, message: string) => {
    const event = JSON.parse(message) as RealtimeEvent;
    if (realtimeEventAccountIds(event).includes(A)) events.push(event);
  });
});

afterEach(async () => {
  await worker.close();
  await queue.queue.close();
  subscriber.disconnect();
  await redis.cleanup();
  await fs.close();
});

async function settle(): Promise<void> {
  await waitForQueueIdle(queue.queue, { timeoutMs: 30_000 });
  expect(await queue.queue.getFailedCount()).toBe(0);
}

const thread = async (jid: string): Promise<ThreadDoc | undefined> =>
  (await store.threadRef(threadIdFor(A, jid)).get()).data();
const message = async (jid: string, id: string): Promise<MessageDoc | undefined> =>
  (await store.messageRef(threadIdFor(A, jid), id).get()).data();
const messageIds = async (jid: string): Promise<string[]> =>
  (await store.c.messages(threadIdFor(A, jid)).get()).docs.map((d) => d.id).sort();

const text = (t: string) => ({ conversation: t });

/** An outbox document as the send route and outbox-sender leave it; ingest only reads it. */
async function seedSendingOutbox(requestId: string, waMessageId: string): Promise<void> {
  const now = new Date();
  await fs.db
    .collection('outbox')
    .doc(requestId)
    .set({
      requestId,
      accountId: A,
      threadId: threadIdFor(A, ANA),
      to: ANA,
      body: 'confirmare',
      media: null,
      replyTo: null,
      waMessageId,
      status: 'sending',
      attempts: 1,
      lastError: null,
      bodyHash: 'h',
      createdBy: 'u1',
      createdAt: now,
      updatedAt: now,
      sentAt: null,
    });
}

describe('ingest of wa-inbound', () => {
  it('when every kind of message arrives, then each is stored with its body, media and keys', async () => {
    const media = {
      url: 'https://mmg.whatsapp.net/x',
      mimetype: 'image/jpeg',
      caption: 'poza',
      fileSha256: 'c2hh',
      fileLength: 12345,
      mediaKey: 'a2V5',
      directPath: '/v/t62/x',
      width: 640,
      height: 480,
    };
    await enqueue(
      queue,
      'ingest-messages',
      messagesJob(A, [
        raw('M-TEXT', ANA, text('Bună ziua'), { messageTimestamp: 1000 }),
        raw(
          'M-EXT',
          ANA,
          {
            extendedTextMessage: {
              text: 'răspuns',
              contextInfo: {
                stanzaId: 'M-TEXT',
                participant: ANA,
                quotedMessage: text('Bună ziua'),
              },
            },
          },
          { messageTimestamp: 1001 },
        ),
        raw('M-IMG', ANA, { imageMessage: media }, { messageTimestamp: 1002 }),
        raw(
          'M-VID',
          ANA,
          { videoMessage: { mimetype: 'video/mp4', seconds: 12, fileLength: 99 } },
          {
            messageTimestamp: 1003,
          },
        ),
        raw(
          'M-AUD',
          ANA,
          { audioMessage: { mimetype: 'audio/ogg', seconds: 7, ptt: true } },
          {
            messageTimestamp: 1004,
          },
        ),
        raw(
          'M-DOC',
          ANA,
          {
            documentWithCaptionMessage: {
              message: {
                documentMessage: {
                  mimetype: 'application/pdf',
                  fileName: 'oferta.pdf',
                  caption: 'oferta',
                },
              },
            },
          },
          { messageTimestamp: 1005 },
        ),
        raw(
          'M-STK',
          ANA,
          { stickerMessage: { mimetype: 'image/webp' } },
          { messageTimestamp: 1006 },
        ),
        raw(
          'M-LOC',
          ANA,
          { locationMessage: { degreesLatitude: 44.43, degreesLongitude: 26.1, name: 'Parc' } },
          { messageTimestamp: 1007 },
        ),
        raw(
          'M-VCF',
          ANA,
          { contactMessage: { displayName: 'Ion', vcard: 'BEGIN:VCARD' } },
          {
            messageTimestamp: 1008,
          },
        ),
        raw(
          'M-EPH',
          ANA,
          { ephemeralMessage: { message: text('dispare') } },
          { messageTimestamp: 1009 },
        ),
        raw(
          'M-VO',
          ANA,
          { viewOnceMessageV2: { message: { imageMessage: { mimetype: 'image/jpeg' } } } },
          { messageTimestamp: 1010 },
        ),
        raw('M-UNDEC', ANA, null, { undecryptable: true, messageTimestamp: 1011 }),
        raw('M-STATUS', 'status@broadcast', text('story'), { participant: ANA }),
      ]),
    );
    await settle();

    expect(await messageIds(ANA)).toEqual(
      [
        'M-AUD',
        'M-DOC',
        'M-EPH',
        'M-EXT',
        'M-IMG',
        'M-LOC',
        'M-STK',
        'M-TEXT',
        'M-UNDEC',
        'M-VCF',
        'M-VID',
        'M-VO',
      ].sort(),
    );
    expect(await message(ANA, 'M-TEXT')).toMatchObject({
      type: 'text',
      body: 'Bună ziua',
      direction: 'inbound',
      status: 'received',
      source: 'live',
    });
    expect(await message(ANA, 'M-EXT')).toMatchObject({
      body: 'răspuns',
      quotedMessageId: 'M-TEXT',
    });
    expect((await message(ANA, 'M-IMG'))?.media).toMatchObject({
      kind: 'image',
      mimetype: 'image/jpeg',
      size: 12345,
      caption: 'poza',
      directPath: '/v/t62/x',
      mediaKeyBase64: 'a2V5',
      fileSha256Base64: 'c2hh',
      width: 640,
    });
    expect((await message(ANA, 'M-VID'))?.media).toMatchObject({ kind: 'video', seconds: 12 });
    expect((await message(ANA, 'M-AUD'))?.type).toBe('audio');
    expect(await message(ANA, 'M-DOC')).toMatchObject({ type: 'document', body: 'oferta' });
    expect((await message(ANA, 'M-DOC'))?.media?.fileName).toBe('oferta.pdf');
    expect((await message(ANA, 'M-STK'))?.type).toBe('sticker');
    expect(await message(ANA, 'M-LOC')).toMatchObject({
      type: 'location',
      location: { latitude: 44.43, longitude: 26.1, name: 'Parc' },
    });
    expect(await message(ANA, 'M-VCF')).toMatchObject({ type: 'contact', body: 'Ion' });
    expect(await message(ANA, 'M-EPH')).toMatchObject({ type: 'text', body: 'dispare' });
    expect((await message(ANA, 'M-VO'))?.type).toBe('image');
    expect(await message(ANA, 'M-UNDEC')).toMatchObject({
      type: 'placeholder',
      resendRequested: true,
    });
    expect(await thread('status@broadcast')).toBeUndefined();

    expect(await thread(ANA)).toMatchObject({
      clientJid: ANA,
      phoneE164: '+40712345678',
      displayName: 'Ana',
      isGroup: false,
      messageCount: 12,
      unreadCount: 12,
      lastMessageText: '[placeholder]',
      lastMessageAt: new Date(1011_000),
      lastMessageDirection: 'inbound',
    });
    await expectEventually(() => {
      const created = events.filter((e) => e.type === 'message.created');
      expect(
        created.flatMap((e) => (e.type === 'message.created' ? e.messageIds : [])),
      ).toHaveLength(12);
      expect(events.some((e) => e.type === 'thread.updated')).toBe(true);
    });
  });

  it('when jobs are duplicated and arrive out of order, then counters equal the distinct messages', async () => {
    const m = (id: string, ts: number, body: string, fromMe = false) =>
      raw(id, ANA, text(body), { messageTimestamp: ts, fromMe });
    await enqueue(
      queue,
      'ingest-messages',
      messagesJob(A, [m('C', 300, 'trei'), m('B', 200, 'doi', true)]),
    );
    await settle();
    await enqueue(
      queue,
      'ingest-messages',
      messagesJob(A, [m('A', 100, 'unu'), m('C', 300, 'trei')]),
    );
    await enqueue(
      queue,
      'ingest-messages',
      messagesJob(A, [m('C', 300, 'trei'), m('A', 100, 'unu')]),
    );
    await enqueue(queue, 'ingest-messages', messagesJob(A, [m('D', 300, 'patru')]));
    await settle();

    expect(await messageIds(ANA)).toEqual(['A', 'B', 'C', 'D']);
    // D and C share a timestamp: the larger id is the last message, whatever arrived first.
    expect(await thread(ANA)).toMatchObject({
      messageCount: 4,
      unreadCount: 3,
      lastMessageAt: new Date(300_000),
      lastMessageText: 'patru',
      lastMessageId: 'D',
    });
    const before = await thread(ANA);
    await enqueue(
      queue,
      'ingest-messages',
      messagesJob(A, [m('A', 100, 'unu'), m('D', 300, 'patru')]),
    );
    await settle();
    expect((await thread(ANA))?.messageCount).toBe(before?.messageCount);
    expect((await thread(ANA))?.updatedAt).toEqual(before?.updatedAt);
  });

  it('when receipts arrive before the message, then they are kept and applied when it lands; statuses never go back', async () => {
    const key = { id: 'OUT-1', remoteJid: ANA, fromMe: true, participant: null };
    await enqueue(queue, 'apply-receipts', {
      ...gateway(A),
      receipts: [{ key, userJid: ANA, receiptTimestamp: 10, readTimestamp: null }],
    });
    await settle();
    expect(await message(ANA, 'OUT-1')).toBeUndefined();
    await enqueue(
      queue,
      'ingest-messages',
      messagesJob(A, [raw('OUT-1', ANA, text('salut'), { fromMe: true, status: 2 })]),
    );
    await settle();
    expect(await message(ANA, 'OUT-1')).toMatchObject({
      status: 'delivered',
      direction: 'outbound',
    });
    expect((await thread(ANA))?.unreadCount).toBe(0);

    await enqueue(queue, 'apply-receipts', {
      ...gateway(A),
      receipts: [{ key, userJid: ANA, receiptTimestamp: 10, readTimestamp: 11 }],
    });
    await settle();
    await enqueue(queue, 'update-messages', {
      ...gateway(A),
      updates: [{ key, status: 2, message: null }],
    });
    await settle();
    expect((await message(ANA, 'OUT-1'))?.status).toBe('read');
    await expectEventually(() =>
      expect(events.some((e) => e.type === 'message.status' && e.status === 'read')).toBe(true),
    );
  });

  it('when a message is edited, reacted to and revoked, then it keeps its body and shows each change', async () => {
    await enqueue(
      queue,
      'ingest-messages',
      messagesJob(A, [raw('E-1', ANA, text('la ora 5'), { messageTimestamp: 50 })]),
    );
    await settle();
    await enqueue(
      queue,
      'ingest-messages',
      messagesJob(A, [
        raw('E-2', ANA, {
          editedMessage: {
            message: {
              protocolMessage: {
                type: 14,
                key: { remoteJid: ANA, fromMe: false, id: 'E-1' },
                editedMessage: text('la ora 6'),
              },
            },
          },
        }),
        raw(
          'E-3',
          ANA,
          { reactionMessage: { key: { remoteJid: ANA, fromMe: false, id: 'E-1' }, text: '👍' } },
          {
            fromMe: true,
          },
        ),
      ]),
    );
    await settle();
    expect(await message(ANA, 'E-1')).toMatchObject({
      body: 'la ora 5',
      editedBody: 'la ora 6',
      reactions: { me: '👍' },
    });
    expect((await thread(ANA))?.lastMessageText).toBe('la ora 6');
    await enqueue(
      queue,
      'ingest-messages',
      messagesJob(A, [
        raw('E-4', ANA, {
          protocolMessage: { type: 0, key: { remoteJid: ANA, fromMe: false, id: 'E-1' } },
        }),
      ]),
    );
    await settle();
    expect(await message(ANA, 'E-1')).toMatchObject({ deleted: true, body: 'la ora 5' });
    expect(await messageIds(ANA)).toEqual(['E-1']);
    expect((await thread(ANA))?.messageCount).toBe(1);
  });

  it('when a revoke arrives before its message, then the message lands already deleted', async () => {
    await enqueue(
      queue,
      'ingest-messages',
      messagesJob(A, [
        raw('R-2', ANA, { protocolMessage: { type: 0, key: { remoteJid: ANA, id: 'R-1' } } }),
      ]),
    );
    await settle();
    await enqueue(queue, 'ingest-messages', messagesJob(A, [raw('R-1', ANA, text('oops'))]));
    await settle();
    expect(await message(ANA, 'R-1')).toMatchObject({ deleted: true, body: 'oops' });
  });

  it('when a contact is seen under a LID and then mapped to its phone, then it is one thread', async () => {
    await enqueue(
      queue,
      'ingest-messages',
      messagesJob(A, [
        raw('L-1', ANA_LID, text('de pe lid'), { messageTimestamp: 10 }),
        raw('L-2', ANA_LID, text('încă unul'), { messageTimestamp: 11 }),
      ]),
    );
    await enqueue(
      queue,
      'ingest-messages',
      messagesJob(A, [raw('P-1', ANA, text('de pe telefon'), { messageTimestamp: 12 })]),
    );
    await settle();
    expect((await thread(ANA_LID))?.phoneE164).toBeNull();

    const mapping = { ...gateway(A), mappings: [{ lid: ANA_LID, pn: ANA }] };
    await enqueue(queue, 'map-identities', mapping);
    await settle();
    await enqueue(queue, 'map-identities', mapping);
    await enqueue(
      queue,
      'ingest-messages',
      messagesJob(A, [raw('L-3', ANA_LID, text('după mapare'), { messageTimestamp: 13 })]),
    );
    await settle();

    expect(await messageIds(ANA)).toEqual(['L-1', 'L-2', 'L-3', 'P-1']);
    expect(await thread(ANA)).toMatchObject({
      messageCount: 4,
      unreadCount: 4,
      lastMessageText: 'după mapare',
      phoneE164: '+40712345678',
    });
    const lid = await thread(ANA_LID);
    expect(lid?.mergedInto).toBe(threadIdFor(A, ANA));
    // Nothing deleted: the LID thread keeps its own copies.
    expect(await messageIds(ANA_LID)).toEqual(['L-1', 'L-2']);
  });

  it("when a photo from a LID is still pending as the LID is mapped to its phone, then the phone thread's copy gets its store-media job and history copies join the history media total", async () => {
    const photo = (id: string) => ({
      imageMessage: {
        url: `https://mmg.whatsapp.net/${id}`,
        mimetype: 'image/jpeg',
        fileSha256: 'c2hh',
        fileLength: 12345,
        mediaKey: 'a2V5',
        directPath: `/v/t62/${id}`,
      },
    });
    const media = openQueue(MediaQueue, { connection: redis.connection, prefix: redis.prefix });
    try {
      await enqueue(
        queue,
        'ingest-messages',
        messagesJob(A, [raw('L-IMG', ANA_LID, photo('L-IMG'), { messageTimestamp: 20 })]),
      );
      // History from the LID before its mapping is known (no contact says who it is).
      await enqueue(queue, 'ingest-history', {
        ...gateway(A),
        source: 'history' as const,
        chunkId: 'lid-1',
        syncType: 2,
        progress: 100,
        isLatest: false,
        chats: [{ id: ANA_LID, name: null, unreadCount: 0, conversationTimestamp: 10 }],
        contacts: [],
        messages: [raw('H-IMG', ANA_LID, photo('H-IMG'), { messageTimestamp: 10 })],
      });
      await settle();
      // Nobody runs the media worker here: both files are still to be kept.
      expect((await message(ANA_LID, 'L-IMG'))?.media?.status).toBe('pending');
      expect((await message(ANA_LID, 'H-IMG'))?.media?.status).toBe('pending');
      expect((await store.accountRef(A).get()).data()?.historyMediaTotal).toBe(1);

      const mapping = { ...gateway(A), mappings: [{ lid: ANA_LID, pn: ANA }] };
      await enqueue(queue, 'map-identities', mapping);
      await settle();
      // A replay finds the LID thread merged: no copy, no job, nothing counted twice.
      await enqueue(queue, 'map-identities', mapping);
      await settle();

      const phone = threadIdFor(A, ANA);
      expect(await messageIds(ANA)).toEqual(['H-IMG', 'L-IMG']);
      for (const [id, source] of [
        ['L-IMG', 'live'],
        ['H-IMG', 'history'],
      ] as const) {
        expect((await message(ANA, id))?.media?.status).toBe('pending');
        const job = await media.queue.getJob(jobIdFrom('media', phone, id));
        expect(job?.name, id).toBe('store-media');
        expect(job?.data).toEqual({ accountId: A, threadId: phone, messageId: id, source });
        // The LID originals keep their own jobs.
        expect(
          await media.queue.getJob(jobIdFrom('media', threadIdFor(A, ANA_LID), id)),
        ).toBeDefined();
      }
      // The media worker counts the history copy's outcome: it is in the total (the live one is not).
      expect((await store.accountRef(A).get()).data()?.historyMediaTotal).toBe(2);
    } finally {
      await media.queue.close();
    }
  });

  it('when a group message arrives, then it is stored with its participant and no phone number', async () => {
    await enqueue(
      queue,
      'ingest-messages',
      messagesJob(A, [
        raw('G-1', GROUP, text('salut grup'), {
          participant: '40700000001:3@s.whatsapp.net',
          pushName: 'Mihai',
        }),
      ]),
    );
    await settle();
    expect(await thread(GROUP)).toMatchObject({
      isGroup: true,
      phoneE164: null,
      displayName: null,
      messageCount: 1,
    });
    expect(await message(GROUP, 'G-1')).toMatchObject({
      participant: '40700000001@s.whatsapp.net',
      senderName: 'Mihai',
    });
    expect((await fs.db.collection('clients').get()).size).toBe(0);
  });

  it('when history arrives after live messages, then counters count each message once and progress completes', async () => {
    await enqueue(
      queue,
      'ingest-messages',
      messagesJob(A, [raw('H-3', ANA, text('live'), { messageTimestamp: 300 })]),
    );
    await settle();
    const history = (chunkId: string, progress: number, ids: Array<[string, number]>) => ({
      ...gateway(A),
      source: 'history' as const,
      chunkId,
      syncType: 2,
      progress,
      isLatest: false,
      chats: [{ id: ANA, name: 'Ana Pop', unreadCount: 5, conversationTimestamp: 300 }],
      contacts: [],
      messages: ids.map(([id, ts]) => raw(id, ANA, text(`h ${id}`), { messageTimestamp: ts })),
    });
    await enqueue(
      queue,
      'ingest-history',
      history('c1', 50, [
        ['H-1', 100],
        ['H-2', 200],
        ['H-3', 300],
      ]),
    );
    await settle();
    await enqueue(queue, 'ingest-history', history('c2', 100, [['H-0', 50]]));
    await enqueue(queue, 'ingest-history', history('c2', 100, [['H-0', 50]]));
    await settle();

    expect(await thread(ANA)).toMatchObject({
      messageCount: 4,
      unreadCount: 1,
      lastMessageText: 'live',
      displayName: 'Ana',
    });
    expect(await message(ANA, 'H-1')).toMatchObject({ source: 'history' });
    expect(await message(ANA, 'H-3')).toMatchObject({ source: 'live' });
    const account = (await store.accountRef(A).get()).data();
    expect(account?.history).toMatchObject({ status: 'completed', messages: 3, percent: 100 });
    expect(account?.history.completedAt).toBeInstanceOf(Date);
    expect(log.lines().some((l) => String(l.msg).startsWith('history sync of wa-01 done'))).toBe(
      true,
    );
  });

  it('when an older owner sends account state after a newer one, then it is dropped', async () => {
    const state = (token: number, status: 'connected' | 'disconnected') => ({
      ...gateway(A, token),
      status,
      qr: null,
      pairingCode: null,
      phone: '+40711111111',
      disconnectCode: null,
      reason: null,
    });
    await enqueue(queue, 'update-account', state(2, 'connected'));
    await settle();
    await enqueue(queue, 'update-account', state(1, 'disconnected'));
    await settle();
    const account = (await store.accountRef(A).get()).data();
    expect(account).toMatchObject({
      status: 'connected',
      ownerInstanceId: 'gw-2',
      phone: '+40711111111',
    });
    expect(
      log.lines().some((l) => l.level === 'warn' && String(l.msg).includes('stale owner')),
    ).toBe(true);
  });

  it('when a send result arrives for an outbox request, then the message appears sent and outbox-sender is told each status once', async () => {
    await seedSendingOutbox('req-00000001', '3EB0AAAA');
    const result = {
      ...gateway(A),
      requestId: 'req-00000001',
      waMessageId: '3EB0AAAA',
      outcome: 'sent' as const,
      error: null,
      retryable: false,
    };
    await enqueue(queue, 'record-send-result', result);
    await enqueue(queue, 'record-send-result', result);
    await settle();
    expect(await message(ANA, '3EB0AAAA')).toMatchObject({
      status: 'sent',
      requestId: 'req-00000001',
      body: 'confirmare',
    });
    const facts = async () =>
      (await sendStatus.queue.getJobs(['waiting', 'delayed', 'prioritized']))
        .map((j) => ({ id: j.id, ...(j.data as { requestId: string; status: string }) }))
        .sort((a, b) => String(a.id).localeCompare(String(b.id)));
    // The replayed result adds nothing; ingest writes no outbox document (its owner does).
    expect(await facts()).toEqual([
      expect.objectContaining({ id: 'status.req-00000001.sent', status: 'sent', error: null }),
    ]);
    expect((await fs.db.collection('outbox').doc('req-00000001').get()).get('status')).toBe(
      'sending',
    );
    await enqueue(queue, 'apply-receipts', {
      ...gateway(A),
      receipts: [
        {
          key: { id: '3EB0AAAA', remoteJid: ANA, fromMe: true, participant: null },
          userJid: ANA,
          receiptTimestamp: 1,
          readTimestamp: null,
        },
      ],
    });
    await enqueue(
      queue,
      'ingest-messages',
      messagesJob(A, [raw('3EB0AAAA', ANA, text('confirmare'), { fromMe: true })]),
    );
    await settle();
    expect((await facts()).map((f) => f.status)).toEqual(['delivered', 'sent']);
    expect(await thread(ANA)).toMatchObject({ messageCount: 1, lastMessageDirection: 'outbound' });
  });

  it('when an accepted send carries its content, then it is recorded queued without reading the outbox; without it, from the outbox', async () => {
    const accepted = {
      accountId: A,
      threadId: threadIdFor(A, ANA),
      to: ANA,
      acceptedAt: '2026-12-07T08:00:00.000Z',
    };
    // No outbox document for this one: everything the message needs is in the job.
    await enqueue(queue, 'record-outbound', {
      ...accepted,
      requestId: 'req-carried-01',
      waMessageId: '3EB0CAR1',
      content: { body: 'din job', media: null, replyTo: null },
    });
    await seedSendingOutbox('req-stored-01', '3EB0STO1');
    await enqueue(queue, 'record-outbound', {
      ...accepted,
      requestId: 'req-stored-01',
      waMessageId: '3EB0STO1',
    });
    await settle();
    expect(await message(ANA, '3EB0CAR1')).toMatchObject({
      status: 'queued',
      direction: 'outbound',
      requestId: 'req-carried-01',
      body: 'din job',
    });
    expect(await message(ANA, '3EB0STO1')).toMatchObject({
      status: 'queued',
      requestId: 'req-stored-01',
      body: 'confirmare',
    });
    expect(await thread(ANA)).toMatchObject({ messageCount: 2 });
  });

  it('when WhatsApp acks a send this ingest recorded as accepted, then the ack moves the message without reading the outbox', async () => {
    // No outbox document: the accepted content (from record-outbound) is all the ack needs.
    await enqueue(queue, 'record-outbound', {
      accountId: A,
      threadId: threadIdFor(A, ANA),
      to: ANA,
      acceptedAt: '2026-12-07T08:00:00.000Z',
      requestId: 'req-acked-mem1',
      waMessageId: '3EB0MEM1',
      content: { body: 'din memorie', media: null, replyTo: null },
    });
    await settle();
    await enqueue(queue, 'record-send-result', {
      ...gateway(A),
      requestId: 'req-acked-mem1',
      waMessageId: '3EB0MEM1',
      outcome: 'sent' as const,
      error: null,
      retryable: false,
    });
    await settle();
    expect(await message(ANA, '3EB0MEM1')).toMatchObject({
      status: 'sent',
      requestId: 'req-acked-mem1',
      body: 'din memorie',
    });
    expect((await sendStatus.queue.getJob('status.req-acked-mem1.sent'))?.data).toMatchObject({
      requestId: 'req-acked-mem1',
      status: 'sent',
    });
  });

  it('when a send failed for good, then the message is failed and outbox-sender is told why', async () => {
    await seedSendingOutbox('req-failed-01', '3EB0FAIL');
    await enqueue(queue, 'record-send-result', {
      ...gateway(A),
      requestId: 'req-failed-01',
      waMessageId: '3EB0FAIL',
      outcome: 'failed' as const,
      error: 'Connection Closed',
      retryable: false,
    });
    await settle();
    const jobs = await sendStatus.queue.getJobs(['waiting', 'delayed', 'prioritized']);
    expect(jobs.map((j) => j.data as unknown)).toEqual([
      expect.objectContaining({
        requestId: 'req-failed-01',
        status: 'failed',
        error: 'Connection Closed',
      }),
    ]);
  });

  it('when a backfill runs in two chunks, then progress counts each chunk once and "backfill … done" is logged', async () => {
    const chunk = (chunkId: string, progress: number, ids: string[]) => ({
      ...gateway(A),
      source: 'backfill' as const,
      chunkId,
      syncType: null,
      progress,
      isLatest: false,
      chats: [],
      contacts: [{ id: ANA_LID, name: null, notify: 'Ana', lid: ANA_LID, phoneNumber: ANA }],
      messages: ids.map((id, i) => raw(id, ANA_LID, text(id), { messageTimestamp: 10 + i })),
    });
    await enqueue(queue, 'ingest-history', chunk('b1', 40, ['B-1', 'B-2']));
    await settle();
    const running = (await store.accountRef(A).get()).data();
    expect(running?.history).toMatchObject({
      status: 'running',
      messages: 2,
      threads: 1,
      percent: 40,
    });
    await enqueue(queue, 'ingest-history', chunk('b2', 100, ['B-3']));
    await enqueue(queue, 'ingest-history', chunk('b1', 40, ['B-1', 'B-2']));
    await settle();
    const account = (await store.accountRef(A).get()).data();
    expect(account?.history).toMatchObject({ status: 'completed', messages: 3, percent: 100 });
    // The contact's LID maps to its phone: the backfill lands in the phone thread.
    expect(await messageIds(ANA)).toEqual(['B-1', 'B-2', 'B-3']);
    expect(await message(ANA, 'B-1')).toMatchObject({ source: 'backfill' });
    expect(log.lines().some((l) => /^backfill of wa-01 done: 3 messages/.test(String(l.msg)))).toBe(
      true,
    );
  });

  it('when a stale owner still delivers messages, then they are kept, and its account state is not', async () => {
    await enqueue(queue, 'update-account', {
      ...gateway(A, 5),
      status: 'connected',
      qr: null,
      pairingCode: null,
      phone: null,
      disconnectCode: null,
      reason: null,
    });
    await settle();
    await enqueue(queue, 'ingest-messages', messagesJob(A, [raw('S-1', ANA, text('din urmă'))], 4));
    await settle();
    expect(await message(ANA, 'S-1')).toMatchObject({ body: 'din urmă' });
    expect((await store.accountRef(A).get()).data()?.ownerInstanceId).toBe('gw-5');
  });

  it('when a job payload breaks the contract, then it fails once and is kept', async () => {
    const job = await queue.queue.add('ingest-messages', { accountId: A, messages: [] });
    await expectEventually(async () => expect(await job.getState()).toBe('failed'));
    const failed = await queue.queue.getJob(job.id!);
    expect(failed?.attemptsMade).toBe(1);
    expect(failed?.failedReason).toMatch(/invalid payload for wa-inbound\/ingest-messages/);
  });
});
