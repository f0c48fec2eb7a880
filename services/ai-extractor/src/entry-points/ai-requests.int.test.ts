import { QueueEvents, type Job, type Worker } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AiRequestsQueue,
  CrmEventsQueue,
  type DraftEvent,
  type MessageDoc,
  type ThreadDoc,
} from '@wacrm/contracts';
import { collections, createEvent, eventFigures, sumMoney, threadIdFor } from '@wacrm/firestore';
import { enqueue, openQueue, type ContractQueue } from '@wacrm/queue';
import {
  captureLogger,
  useTestFirestore,
  useTestRedis,
  type TestFirestore,
  type TestRedis,
} from '@wacrm/testing';
import { firestoreAskRepository } from '../data-access/ask.repository.js';
import { firestoreExtractionRepository } from '../data-access/extraction.repository.js';
import { groqChat } from '../data-access/groq-chat.client.js';
import { redisRateLimiter } from '../data-access/llm-rate-limiter.js';
import type { ExtractionInput, ExtractionProvider } from '../domain/extraction-provider.js';
import { groqExtractionProvider } from '../domain/groq-extraction.provider.js';
import type { LlmChat } from '../domain/llm-chat.js';
import { startFakeOpenAiServer, type FakeOpenAiServer } from '../testing/fake-openai.server.js';
import { startAiRequestsWorker } from './ai-requests.worker.js';

const accountId = 'wa-01';
const phone = '+40733444555';
const clientJid = '40733444555@s.whatsapp.net';
const threadId = threadIdFor(accountId, clientJid);
const now = new Date('2026-05-10T10:00:00Z');

const draft: DraftEvent = {
  date: '2026-05-16',
  time: '17:00',
  durationHours: 2,
  address: 'Str. Lalelelor 3, Sector 2',
  characters: ['Elsa'],
  amount: 650,
  advance: 150,
  childName: 'Ioana',
  childAge: 5,
  guests: 12,
  notes: null,
};

/**
 * Test double for the extraction port: drafts a booking when a message mentions "Elsa", no
 * booking otherwise, and records what it was given. The real providers have their own tests.
 */
function recordingProvider(): ExtractionProvider & { inputs: ExtractionInput[] } {
  const inputs: ExtractionInput[] = [];
  return {
    name: 'offline',
    model: 'test-double',
    inputs,
    extract(input) {
      inputs.push(input);
      const hit = input.messages.filter((m) => m.text.includes('Elsa'));
      return Promise.resolve({
        draft: hit.length > 0 ? draft : null,
        confidence: hit.length > 0 ? 0.8 : 0.95,
        reasons: [hit.length > 0 ? 'Elsa requested' : 'no booking talk'],
        sourceMessageIds: hit.map((m) => m.id),
      });
    },
  };
}

let redis: TestRedis;
let fs: TestFirestore;
let queue: ContractQueue<typeof AiRequestsQueue>;
let crm: ContractQueue<typeof CrmEventsQueue>;
let queueEvents: QueueEvents;
let fake: FakeOpenAiServer | undefined;
const workers: Worker[] = [];

function start(
  provider: ExtractionProvider,
  extra: { fallback?: ExtractionProvider; phraser?: LlmChat } = {},
) {
  const worker = startAiRequestsWorker({
    connection: redis.connection,
    prefix: redis.prefix,
    logger: captureLogger().logger,
    extract: {
      repo: firestoreExtractionRepository(fs.db),
      provider,
      ...(extra.fallback !== undefined ? { fallback: extra.fallback } : {}),
      now: () => now,
    },
    ask: {
      repo: firestoreAskRepository(fs.db),
      ...(extra.phraser !== undefined ? { phraser: extra.phraser } : {}),
      now: () => now,
    },
    concurrency: 2,
  });
  workers.push(worker);
}

async function seedThread(texts: Array<[MessageDoc['direction'], string]>): Promise<string[]> {
  const at = new Date('2026-05-09T08:00:00Z');
  const thread: ThreadDoc = {
    accountId,
    clientJid,
    phoneE164: phone,
    displayName: 'Ana Pop',
    isGroup: false,
    lastMessageAt: at,
    lastMessageText: null,
    lastMessageDirection: 'inbound',
    unreadCount: 0,
    messageCount: texts.length,
    createdAt: at,
    updatedAt: at,
  };
  await collections(fs.db).threads().doc(threadId).set(thread);
  const ids: string[] = [];
  for (const [i, [direction, text]] of texts.entries()) {
    const id = `MSG${String(i).padStart(3, '0')}`;
    const ts = new Date(at.getTime() + i * 60_000);
    const message: MessageDoc = {
      accountId,
      threadId,
      direction,
      body: text === '' ? null : text,
      type: text === '' ? 'image' : 'text',
      media: null,
      tsClient: ts,
      tsServer: ts,
      status: direction === 'inbound' ? 'received' : 'read',
      waKey: { id, remoteJid: clientJid, fromMe: direction === 'outbound', participant: null },
      requestId: null,
      source: 'live',
      participant: null,
      senderName: null,
      quotedMessageId: null,
      deleted: false,
      editedBody: null,
      reactions: {},
      location: null,
      createdAt: ts,
      updatedAt: ts,
    };
    await collections(fs.db).messages(threadId).doc(id).set(message);
    ids.push(id);
  }
  return ids;
}

async function run<T>(
  name: 'extract-event' | 'ask-client',
  payload: Record<string, unknown>,
): Promise<T> {
  const job: Job = await enqueue(queue, name, payload as never);
  return (await job.waitUntilFinished(queueEvents, 20_000)) as T;
}

beforeEach(async () => {
  redis = await useTestRedis();
  fs = useTestFirestore();
  queue = openQueue(AiRequestsQueue, { connection: redis.connection, prefix: redis.prefix });
  crm = openQueue(CrmEventsQueue, { connection: redis.connection, prefix: redis.prefix });
  queueEvents = new QueueEvents(AiRequestsQueue.name, {
    connection: redis.connection.duplicate(),
    prefix: redis.prefix,
  });
  await queueEvents.waitUntilReady();
});

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.close()));
  await queueEvents.close();
  await queue.queue.close();
  await crm.queue.close();
  await fake?.close();
  fake = undefined;
  await redis.cleanup();
  await fs.close();
});

const extractJob = (requestId: string, extra: Record<string, unknown> = {}) => ({
  requestId,
  threadId,
  accountId,
  dryRun: true,
  messageLimit: 50,
  requestedBy: 'user-1',
  ...extra,
});

describe('ai-requests worker: extract-event (acceptance test 4)', () => {
  it('when a thread talks about a booking, then a draft comes back, the audit is written and evenimente stays empty', async () => {
    const ids = await seedThread([
      ['inbound', 'Bună ziua, vrem Elsa pe 16 mai'],
      ['outbound', 'Sigur, 650 lei'],
      ['inbound', ''],
      ['inbound', 'Perfect, mulțumim'],
    ]);
    const provider = recordingProvider();
    start(provider);
    for (const dryRun of [true, false]) {
      const requestId = `req-extract-${dryRun ? 'dry' : 'wet'}`;
      const response = await run<Record<string, unknown>>(
        'extract-event',
        extractJob(requestId, { dryRun }),
      );
      expect(response).toMatchObject({
        action: 'create',
        draftEvent: draft,
        confidence: 0.8,
        sourceMessageIds: [ids[0]],
        extractionId: requestId,
      });
      const audit = (await collections(fs.db).extractions(threadId).doc(requestId).get()).data();
      expect(audit).toMatchObject({
        threadId,
        accountId,
        requestId,
        inputMessageIds: ids,
        sourceMessageIds: [ids[0]],
        provider: 'offline',
        model: 'test-double',
        action: 'create',
        output: draft,
        dryRun,
        createdBy: 'user-1',
      });
    }
    // Media without a caption is not sent to the provider; order is oldest first.
    expect(provider.inputs[0]!.messages.map((m) => m.id)).toEqual([ids[0], ids[1], ids[3]]);
    expect(provider.inputs[0]!.timeZone).toBe('Europe/Bucharest');
    // Extraction drafts only, dry run or not.
    expect((await collections(fs.db).evenimente().get()).size).toBe(0);
  });

  it('when the same request is retried, then the same audit answers and nothing new is written', async () => {
    await seedThread([['inbound', 'Elsa sâmbătă?']]);
    const provider = recordingProvider();
    start(provider);
    const first = await run('extract-event', extractJob('req-retry-0001'));
    const second = await run('extract-event', extractJob('req-retry-0001'));
    expect(second).toEqual(first);
    expect(provider.inputs).toHaveLength(1);
    expect((await collections(fs.db).extractions(threadId).get()).size).toBe(1);
  });

  it('when only the last messages fit the limit, then only they are read', async () => {
    const ids = await seedThread(
      Array.from({ length: 8 }, (_, i): [MessageDoc['direction'], string] => [
        i % 2 ? 'outbound' : 'inbound',
        `mesaj ${i}`,
      ]),
    );
    const provider = recordingProvider();
    start(provider);
    const response = await run<{ action: string }>(
      'extract-event',
      extractJob('req-limit-0001', { messageLimit: 3 }),
    );
    expect(response.action).toBe('none');
    expect(provider.inputs[0]!.messages.map((m) => m.id)).toEqual(ids.slice(5));
  });

  it('when an event already exists for this phone and date, then the action is update and it names the event', async () => {
    await seedThread([['inbound', 'Vrem Elsa pe 16 mai']]);
    const saved = await createEvent(
      fs.db,
      { threadId, date: '2026-05-16', amount: 650 },
      { uid: 'u', queue: crm },
    );
    start(recordingProvider());
    const response = await run<{ action: string; reasons: string[] }>(
      'extract-event',
      extractJob('req-update-0001'),
    );
    expect(response.action).toBe('update');
    expect(response.reasons.join(' ')).toContain(saved.event.eventShortId);
    expect((await collections(fs.db).evenimente().get()).size).toBe(1);
  });

  it('when the thread belongs to another account, then the job fails once as not found', async () => {
    await seedThread([['inbound', 'Elsa']]);
    start(recordingProvider());
    const job = await enqueue(
      queue,
      'extract-event',
      extractJob('req-other-0001', { accountId: 'wa-02' }),
    );
    await expect(job.waitUntilFinished(queueEvents, 20_000)).rejects.toThrow(/NOT_FOUND/);
    expect((await queue.queue.getJob(job.id!))?.attemptsMade).toBe(1);
  });

  it('when Groq answers invalid JSON twice, then the fallback provider drafts and the audit says why', async () => {
    await seedThread([['inbound', 'Vrem Elsa pe 16 mai']]);
    fake = await startFakeOpenAiServer();
    fake.setFallback({ kind: 'content', content: 'not json at all' });
    const logger = captureLogger().logger;
    const chat = groqChat({
      apiKey: 'gsk_test_key_0123456789',
      baseURL: fake.baseURL,
      model: 'llama-3.3-70b-versatile',
      timeoutMs: 2_000,
      maxAttempts: 2,
      limiter: redisRateLimiter(redis.connection, {
        prefix: redis.prefix,
        apiKey: 'gsk_test_key_0123456789',
        requestsPerMinute: 600,
        maxWaitMs: 1_000,
      }),
      logger,
    });
    start(groqExtractionProvider(chat, logger), { fallback: recordingProvider() });
    const response = await run<{ action: string; reasons: string[] }>(
      'extract-event',
      extractJob('req-groq-0001'),
    );
    expect(response.action).toBe('create');
    expect(response.reasons[0]).toMatch(/^groq failed \(LLM output rejected/);
    expect(fake.requests).toHaveLength(2);
    const audit = (
      await collections(fs.db).extractions(threadId).doc('req-groq-0001').get()
    ).data();
    expect(audit?.provider).toBe('offline');
  });
});

describe('ai-requests worker: ask-client (acceptance test 6)', () => {
  async function seedEvents() {
    await seedThread([['inbound', 'Bună']]);
    const bodies = [
      { date: '2026-02-14', amount: 700, paid: 700, characters: ['Spiderman'] },
      { date: '2026-04-20', amount: 650, advance: 150, paid: 649.9, characters: ['Elsa', 'Olaf'] },
      { date: '2026-06-01', amount: 900, advance: 200, characters: ['Elsa'] },
    ];
    const saved = [];
    for (const body of bodies)
      saved.push(await createEvent(fs.db, { threadId, ...body }, { uid: 'u', queue: crm }));
    // The aggregate as crm-aggregator writes it (its own tests cover that service).
    const figures = eventFigures(saved.map((s) => s.event));
    await collections(fs.db)
      .clients()
      .doc(phone)
      .set({
        phoneE164: phone,
        displayName: 'Ana Pop',
        eventsCount: figures.eventsCount,
        lifetimeSpendPaid: figures.spendPaid,
        lifetimeSpendTotal: figures.spendTotal,
        firstEventAt: figures.firstEventAt,
        lastEventAt: figures.lastEventAt,
        lastContactAt: null,
        accountIds: [accountId],
        updatedAt: now,
      });
    return saved;
  }

  it('when asked "Cât a cheltuit clientul?", then the answer states the exact lifetimeSpendPaid with its sources', async () => {
    const saved = await seedEvents();
    start(recordingProvider());
    const client = (await collections(fs.db).clients().doc(phone).get()).data()!;
    expect(client.lifetimeSpendPaid).toBe(1549.9);
    const response = await run<{
      answer: string;
      intent: string;
      sources: Array<Record<string, unknown>>;
    }>('ask-client', {
      requestId: 'req-ask-0001',
      phoneE164: phone,
      question: 'Cât a cheltuit clientul?',
      requestedBy: 'user-1',
      accountScope: 'all',
    });
    expect(response.intent).toBe('spend');
    expect(response.answer).toContain('1549,90 RON');
    expect(response.answer).toContain('Ana Pop');
    expect(response.sources).toEqual(
      [...saved].reverse().map((s) => ({
        eventShortId: s.event.eventShortId,
        eventId: s.eventId,
        date: s.event.date,
        amount: s.event.payment.amount,
        paid: s.event.payment.paid,
      })),
    );
  });

  it('when an LLM phrases the answer, then its text is used only if it keeps the computed figures', async () => {
    await seedEvents();
    fake = await startFakeOpenAiServer();
    fake.script(
      {
        kind: 'content',
        content: 'Ana Pop has paid 1549.90 RON so far across 3 events, out of 2250 RON booked.',
      },
      { kind: 'content', content: 'Ana Pop has paid about 1600 RON.' },
    );
    const logger = captureLogger().logger;
    const chat = groqChat({
      apiKey: 'gsk_test_key_0123456789',
      baseURL: fake.baseURL,
      model: 'llama-3.3-70b-versatile',
      timeoutMs: 2_000,
      maxAttempts: 1,
      limiter: redisRateLimiter(redis.connection, {
        prefix: redis.prefix,
        apiKey: 'gsk_test_key_0123456789',
        requestsPerMinute: 600,
        maxWaitMs: 1_000,
      }),
      logger,
    });
    start(recordingProvider(), { phraser: chat });
    const ask = {
      phoneE164: phone,
      question: 'How much has the client spent?',
      requestedBy: 'u',
      accountScope: 'all',
    };
    const good = await run<{ answer: string }>('ask-client', { ...ask, requestId: 'req-ask-0002' });
    expect(good.answer).toBe(
      'Ana Pop has paid 1549.90 RON so far across 3 events, out of 2250 RON booked.',
    );
    const bad = await run<{ answer: string }>('ask-client', { ...ask, requestId: 'req-ask-0003' });
    expect(bad.answer).toMatch(/^Client Ana Pop \(\+40733444555\) has paid 1549\.90 RON in total/);
    expect(fake.requests).toHaveLength(2);
  });

  it('when an event is archived, then the answer no longer counts it', async () => {
    const saved = await seedEvents();
    await collections(fs.db)
      .evenimente()
      .doc(saved[0]!.eventId)
      .set({ ...saved[0]!.event, isArchived: true, archivedAt: now });
    start(recordingProvider());
    const response = await run<{ answer: string; sources: unknown[] }>('ask-client', {
      requestId: 'req-ask-0004',
      phoneE164: phone,
      question: 'Câte evenimente a avut?',
      requestedBy: 'u',
      accountScope: 'all',
    });
    expect(response.answer).toContain('are 2 evenimente');
    expect(response.sources).toHaveLength(2);
    // Archived, not gone: events are never deleted.
    expect((await collections(fs.db).evenimente().get()).size).toBe(3);
  });

  it('when the job is scoped to another account, then this account’s events are neither counted nor cited (issue 15 item 3)', async () => {
    await seedEvents();
    const other = await createEvent(
      fs.db,
      { accountId: 'wa-02', phoneE164: phone, date: '2026-03-03', amount: 40, paid: 40 },
      { uid: 'u', queue: crm },
    );
    start(recordingProvider());
    const ask = { phoneE164: phone, question: 'Cât a cheltuit clientul?', requestedBy: 'u' };
    const scoped = await run<{ answer: string; sources: Array<{ eventId: string }> }>(
      'ask-client',
      { ...ask, requestId: 'req-ask-0005', accountScope: ['wa-02'] },
    );
    expect(scoped.sources.map((s) => s.eventId)).toEqual([other.eventId]);
    expect(scoped.answer).toContain('40 RON');
    // The name comes from wa-01's conversation: not wa-02's to see.
    expect(scoped.answer).not.toContain('Ana Pop');
    const unscoped = await run<{ sources: unknown[] }>('ask-client', {
      ...ask,
      requestId: 'req-ask-0006',
    });
    expect(unscoped.sources).toEqual([]);
  });

  it('when operators left internal notes on the client’s conversation, then the answer carries the newest ones, and not to a job scoped elsewhere (issue 20 item 4)', async () => {
    await seedEvents();
    const notes = collections(fs.db).notes(threadId);
    for (const [i, body] of [
      'Prefers Saturdays',
      'Asked for a discount',
      'Wants Elsa again',
      'Sister of Maria',
    ].entries()) {
      await notes.add({
        accountId,
        threadId,
        body,
        authorId: 'uid-op',
        createdAt: new Date(Date.UTC(2026, 4, 1 + i)),
      });
    }
    start(recordingProvider());
    const ask = { phoneE164: phone, question: 'Cât a cheltuit clientul?', requestedBy: 'u' };
    const answer = await run<{ answer: string }>('ask-client', {
      ...ask,
      requestId: 'req-ask-0007',
      accountScope: [accountId],
    });
    expect(answer.answer).toContain('Note interne:');
    expect(answer.answer).toContain('2026-05-04: Sister of Maria');
    expect(answer.answer).toContain('Wants Elsa again');
    // Bounded: the 3 newest only.
    expect(answer.answer).not.toContain('Prefers Saturdays');
    const elsewhere = await run<{ answer: string }>('ask-client', {
      ...ask,
      requestId: 'req-ask-0008',
      accountScope: ['wa-02'],
    });
    expect(elsewhere.answer).not.toContain('Sister of Maria');
  });
  it('when the client has bookings with performers and a cancelled one, then the balance, next event and performers are exact (issue 19 item 9)', async () => {
    const saved = await seedEvents();
    const performers = collections(fs.db).performers();
    const performer = (name: string) => ({
      accountId,
      name,
      characters: ['Elsa'],
      workingDays: [1, 2, 3, 4, 5, 6, 7],
      daysOff: [],
      travelBufferMinutes: 30,
      isArchived: false,
      createdBy: 'u',
      createdAt: now,
      updatedAt: now,
    });
    await performers.doc('pf-ask-ana').set(performer('Ana Ionescu'));
    await performers.doc('pf-ask-dan').set(performer('Dan Pop'));
    const third = saved[2]!;
    await collections(fs.db)
      .evenimente()
      .doc(third.eventId)
      .update({ status: 'confirmed', performerIds: ['pf-ask-ana', 'pf-ask-dan'] });
    // Cancelled, sooner than the third: it owes nothing and is not the next event.
    const cancelled = await createEvent(
      fs.db,
      { threadId, date: '2026-05-20', amount: 500, paid: 0, characters: ['Elsa'] },
      { uid: 'u', queue: crm },
    );
    await collections(fs.db)
      .evenimente()
      .doc(cancelled.eventId)
      .update({ status: 'cancelled', performerIds: ['pf-ask-dan'] });
    start(recordingProvider());
    const ask = (question: string, requestId: string) =>
      run<{ answer: string; intent: string; sources: Array<{ eventId: string }> }>('ask-client', {
        requestId,
        phoneE164: phone,
        question,
        requestedBy: 'u',
        accountScope: [accountId],
      });
    const money = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(2).replace('.', ','));
    const paid3 = third.event.payment.paid;
    const left = sumMoney([0.1, 900 - paid3]);
    const balance = await ask('Cât mai are de plată?', 'req-ask-0101');
    expect(balance.answer).toContain(
      `Rest de plată pentru Ana Pop (${phone}): ${money(left)} RON (valoare rezervată 2250 RON`,
    );
    expect(balance.sources.map((s) => s.eventId)).not.toContain(cancelled.eventId);

    const next = await ask('Când e următorul eveniment?', 'req-ask-0102');
    expect(next.answer).toBe(
      `Următorul eveniment al clientului Ana Pop (${phone}) este pe 2026-06-01 (${third.event.eventShortId}, personaje: Elsa, animatori: Ana Ionescu, Dan Pop); valoare 900 RON, plătit ${money(paid3)} RON, rest de plată ${money(900 - paid3)} RON.`,
    );
    const who = await ask('Cine e animatorul?', 'req-ask-0103');
    expect(who.intent).toBe('performers');
    expect(who.answer).toBe(
      `Animatori la evenimentele viitoare ale clientului Ana Pop (${phone}): 2026-06-01 (${third.event.eventShortId}): Ana Ionescu, Dan Pop.`,
    );
    expect(who.sources.map((s) => s.eventId)).toEqual([third.eventId]);
  });
});
