import type { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CrmEventsQueue,
  RealtimeChannel,
  RealtimeEvent,
  type AccountId,
  type ThreadDoc,
} from '@wacrm/contracts';
import { archiveEvent, collections, createEvent, threadIdFor, updateEvent } from '@wacrm/firestore';
import { openQueue, RealtimePublisher, RedisFencedLock, type ContractQueue } from '@wacrm/queue';
import {
  captureLogger,
  expectEventually,
  useTestFirestore,
  useTestRedis,
  waitForQueueIdle,
  type TestFirestore,
  type TestRedis,
} from '@wacrm/testing';
import { redisClientLock } from '../data-access/client-lock.js';
import { firestoreClientStore, type ClientStore } from '../data-access/client-store.js';
import { startCrmEventsWorker } from './crm-events.worker.js';

const phone = '+40722000111';
const accountId = 'wa-01';
const threadId = threadIdFor(accountId, '40722000111@s.whatsapp.net');

let redis: TestRedis;
let fs: TestFirestore;
let queue: ContractQueue<typeof CrmEventsQueue>;
/** Event edits are serialised per event, as the api-gateway does (issue 16 item 4). */
const eventLock = () => new RedisFencedLock(redis.connection, redis.prefix, { name: 'evenimente' });
const workers: Worker[] = [];

/**
 * The real store with a random pause (real Redis round trips) between a recompute's read and its
 * write: it widens the window in which unserialised recomputes would overwrite each other.
 */
function racyStore(store: ClientStore): ClientStore {
  return {
    ...store,
    async saveClient(client) {
      const trips = Math.floor(Math.random() * 200);
      for (let i = 0; i < trips; i += 1) await redis.connection.ping();
      await store.saveClient(client);
    },
  };
}

/** Counts how many recompute jobs run at the same moment, across every worker of the test. */
const running = { now: 0, max: 0 };

function startAggregator(concurrency = 4): Worker {
  const { logger } = captureLogger();
  const worker = startCrmEventsWorker({
    connection: redis.connection,
    prefix: redis.prefix,
    logger,
    store: racyStore(firestoreClientStore(fs.db)),
    lock: redisClientLock(redis.connection, { prefix: redis.prefix, ttlMs: 10_000 }),
    publisher: new RealtimePublisher(redis.connection, logger),
    concurrency,
  });
  worker.on('active', () => {
    running.now += 1;
    running.max = Math.max(running.max, running.now);
  });
  const done = () => void (running.now -= 1);
  worker.on('completed', done);
  worker.on('failed', done);
  workers.push(worker);
  return worker;
}

async function seedThread(
  account: AccountId = accountId,
  phoneE164: string = phone,
): Promise<string> {
  const at = new Date('2026-04-20T08:00:00Z');
  const jid = `${phoneE164.slice(1)}@s.whatsapp.net`;
  const thread: ThreadDoc = {
    accountId: account,
    clientJid: jid,
    phoneE164,
    displayName: 'Maria Ionescu',
    isGroup: false,
    lastMessageAt: at,
    lastMessageText: 'Mulțumim!',
    lastMessageDirection: 'inbound',
    unreadCount: 0,
    messageCount: 3,
    createdAt: at,
    updatedAt: at,
  };
  const id = threadIdFor(account, jid);
  await collections(fs.db).threads().doc(id).set(thread);
  return id;
}

async function client() {
  return (await collections(fs.db).clients().doc(phone).get()).data();
}

beforeEach(async () => {
  redis = await useTestRedis();
  fs = useTestFirestore();
  queue = openQueue(CrmEventsQueue, { connection: redis.connection, prefix: redis.prefix });
  running.now = 0;
  running.max = 0;
  await seedThread();
});

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.close()));
  await queue.queue.close();
  await redis.cleanup();
  await fs.close();
});

describe('crm-aggregator against Redis and the Firestore emulator', () => {
  it('when the same booking is saved twice (acceptance test 5), then two events exist and the client aggregates both', async () => {
    startAggregator();
    const body = {
      threadId,
      date: '2026-06-14',
      time: '17:00',
      characters: ['Elsa', 'Spiderman'],
      amount: 1200,
      advance: 300,
      sourceExtractionId: 'req-extract-0001',
    };
    const first = await createEvent(fs.db, body, { uid: 'user-1', queue });
    const second = await createEvent(fs.db, { ...body, paid: 1200 }, { uid: 'user-2', queue });

    expect(first.eventId).not.toBe(second.eventId);
    const stored = await collections(fs.db).evenimente().where('phoneE164', '==', phone).get();
    expect(stored.size).toBe(2);
    const event = (await collections(fs.db).evenimente().doc(first.eventId).get()).data();
    expect(event).toMatchObject({
      phoneE164: phone,
      accountId,
      threadId,
      createdBy: 'user-1',
      schemaVersion: 3,
      isArchived: false,
      rolesBySlot: {
        '1': { character: 'Elsa', performer: null },
        '2': { character: 'Spiderman', performer: null },
      },
      payment: { amount: 1200, advance: 300, paid: 300, currency: 'RON' },
      sourceExtractionId: 'req-extract-0001',
    });
    expect(event?.eventShortId).toMatch(/^EV-[0-9A-HJKMNP-TV-Z]{5}$/);

    await waitForQueueIdle(queue.queue);
    await expectEventually(async () =>
      expect(await client()).toMatchObject({
        phoneE164: phone,
        displayName: 'Maria Ionescu',
        eventsCount: 2,
        lifetimeSpendPaid: 1500,
        lifetimeSpendTotal: 2400,
        firstEventAt: '2026-06-14',
        lastEventAt: '2026-06-14',
        lastContactAt: new Date('2026-04-20T08:00:00Z'),
        accountIds: [accountId],
      }),
    );
  });

  it('when 50 saves for one client race over two aggregator processes, then eventsCount is 50 and the sum exact', async () => {
    startAggregator(4);
    startAggregator(4);
    const paid = Array.from({ length: 50 }, (_, i) => 100 + i + 0.1 * (i % 10));
    const saved = await Promise.all(
      paid.map((p, i) =>
        createEvent(
          fs.db,
          {
            phoneE164: phone,
            date: `2026-${String((i % 12) + 1).padStart(2, '0')}-10`,
            amount: 2000,
            paid: p,
          },
          { uid: 'user-1', queue },
        ),
      ),
    );
    expect(new Set(saved.map((s) => s.eventId)).size).toBe(50);
    const expectedPaid = paid.reduce((a, p) => a + Math.round(p * 100), 0) / 100;

    await waitForQueueIdle(queue.queue, { timeoutMs: 30_000 });
    expect(running.max).toBe(1);
    const aggregate = await client();
    expect(aggregate?.eventsCount).toBe(50);
    expect(aggregate?.lifetimeSpendPaid).toBe(expectedPaid);
    expect(aggregate?.lifetimeSpendTotal).toBe(100_000);
    expect(aggregate?.firstEventAt).toBe('2026-01-10');
    expect(aggregate?.lastEventAt).toBe('2026-12-10');
    // The burst collapsed: far fewer runs than saves, never two for the client at once.
    const completed = await queue.queue.getCompletedCount();
    expect(completed).toBeGreaterThanOrEqual(1);
    expect(completed).toBeLessThan(50);
  });

  it('when an event is archived, then the client aggregates drop it and the event is kept', async () => {
    startAggregator();
    const a = await createEvent(
      fs.db,
      { phoneE164: phone, date: '2026-06-01', amount: 900, paid: 400 },
      { uid: 'u', queue },
    );
    await createEvent(
      fs.db,
      { phoneE164: phone, date: '2026-08-01', amount: 700, paid: 250.5 },
      { uid: 'u', queue },
    );
    await waitForQueueIdle(queue.queue);
    await expectEventually(async () =>
      expect(await client()).toMatchObject({ eventsCount: 2, lifetimeSpendPaid: 650.5 }),
    );

    await archiveEvent(fs.db, a.eventId, { uid: 'u', queue, lock: eventLock() });
    await archiveEvent(fs.db, a.eventId, { uid: 'u', queue, lock: eventLock() });
    await waitForQueueIdle(queue.queue);
    await expectEventually(async () =>
      expect(await client()).toMatchObject({
        eventsCount: 1,
        lifetimeSpendPaid: 250.5,
        lifetimeSpendTotal: 700,
        firstEventAt: '2026-08-01',
      }),
    );
    const archived = (await collections(fs.db).evenimente().doc(a.eventId).get()).data();
    expect(archived?.isArchived).toBe(true);
    expect(archived?.archivedAt).toBeInstanceOf(Date);
    await expect(
      updateEvent(fs.db, a.eventId, { notes: 'x' }, { uid: 'u', queue, lock: eventLock() }),
    ).rejects.toMatchObject({
      code: 'CONFLICT',
    });
  });

  it('when an event is updated, then the client totals follow and the performers already cast stay', async () => {
    startAggregator();
    const saved = await createEvent(
      fs.db,
      {
        phoneE164: phone,
        date: '2026-06-01',
        characters: ['Elsa', 'Olaf'],
        amount: 900,
        advance: 200,
      },
      { uid: 'u', queue },
    );
    await collections(fs.db)
      .evenimente()
      .doc(saved.eventId)
      .set({
        ...saved.event,
        rolesBySlot: {
          '1': { character: 'Elsa', performer: 'Ioana' },
          '2': { character: 'Olaf', performer: null },
        },
      });
    const updated = await updateEvent(
      fs.db,
      saved.eventId,
      { amount: 1000, paid: 1000, characters: ['Elsa', 'Anna'], time: '11:30' },
      { uid: 'u', queue, lock: eventLock() },
    );
    expect(updated.event.rolesBySlot).toEqual({
      '1': { character: 'Elsa', performer: 'Ioana' },
      '2': { character: 'Anna', performer: null },
    });
    expect(updated.event.payment).toEqual({
      amount: 1000,
      advance: 200,
      paid: 1000,
      currency: 'RON',
    });
    expect(updated.event.createdBy).toBe('u');
    await waitForQueueIdle(queue.queue);
    await expectEventually(async () =>
      expect(await client()).toMatchObject({
        eventsCount: 1,
        lifetimeSpendPaid: 1000,
        lifetimeSpendTotal: 1000,
      }),
    );
  });

  it('when the stored aggregate was tampered with, then the next recompute heals it', async () => {
    startAggregator();
    await createEvent(
      fs.db,
      { phoneE164: phone, date: '2026-06-01', paid: 321 },
      { uid: 'u', queue },
    );
    await waitForQueueIdle(queue.queue);
    await expectEventually(async () => expect((await client())?.lifetimeSpendPaid).toBe(321));
    const current = (await client())!;
    await collections(fs.db)
      .clients()
      .doc(phone)
      .set({ ...current, eventsCount: 99, lifetimeSpendPaid: 1 });

    await queue.queue.add('recompute-client', {
      phoneE164: phone,
      eventId: 'manual',
      reason: 'contact',
    });
    await waitForQueueIdle(queue.queue);
    await expectEventually(async () =>
      expect(await client()).toMatchObject({ eventsCount: 1, lifetimeSpendPaid: 321 }),
    );
  });

  it('when a recompute changes a client, then exactly one client.updated names its accounts; an unchanged one announces nothing', async () => {
    // A phone of its own: the pub/sub channel is shared by every test using this Redis.
    const own = '+40722000987';
    const threadA = await seedThread(accountId, own);
    await seedThread('wa-02', own);
    const announced: RealtimeEvent[] = [];
    const barrier = `barrier-${redis.prefix}`;
    let barrierSeen = 0;
    const subscriber = new Redis(redis.url);
    try {
      await subscriber.subscribe(RealtimeChannel);
      subscriber.on('message', (_channel, message: string) => {
        if (message === barrier) {
          barrierSeen += 1;
          return;
        }
        let json: unknown;
        try {
          json = JSON.parse(message);
        } catch {
          return; // another test's deliberate garbage on the shared channel
        }
        const parsed = RealtimeEvent.safeParse(json);
        if (
          parsed.success &&
          parsed.data.type === 'client.updated' &&
          parsed.data.phoneE164 === own
        ) {
          announced.push(parsed.data);
        }
      });
      /** Pub/sub keeps order: once this marker arrives, everything published before it has too. */
      const drain = async () => {
        const before = barrierSeen;
        await redis.connection.publish(RealtimeChannel, barrier);
        await expectEventually(() => expect(barrierSeen).toBe(before + 1));
      };

      startAggregator();
      await createEvent(
        fs.db,
        { threadId: threadA, date: '2026-06-14', amount: 1200, paid: 300 },
        { uid: 'u', queue },
      );
      await waitForQueueIdle(queue.queue);
      await drain();
      expect(announced).toHaveLength(1);
      expect(announced[0]).toMatchObject({
        type: 'client.updated',
        phoneE164: own,
        accountIds: [accountId, 'wa-02'],
      });
      expect(Date.parse(announced[0]!.at)).not.toBeNaN();
      expect((await collections(fs.db).clients().doc(own).get()).data()).toMatchObject({
        eventsCount: 1,
        lifetimeSpendPaid: 300,
      });

      // Nothing changed since: the recompute writes nothing and announces nothing.
      await queue.queue.add('recompute-client', {
        phoneE164: own,
        eventId: 'manual',
        reason: 'contact',
      });
      await waitForQueueIdle(queue.queue);
      await drain();
      expect(announced).toHaveLength(1);
    } finally {
      subscriber.disconnect();
    }
  });

  it('when a save names neither a thread nor a phone, or an unknown thread, then it is refused and nothing is written', async () => {
    await expect(
      createEvent(fs.db, { date: '2026-06-01' }, { uid: 'u', queue }),
    ).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    await expect(
      createEvent(fs.db, { threadId: 'nope', date: '2026-06-01' }, { uid: 'u', queue }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(
      createEvent(
        fs.db,
        { threadId, phoneE164: '+40799999999', date: '2026-06-01' },
        { uid: 'u', queue },
      ),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect((await collections(fs.db).evenimente().get()).size).toBe(0);
    expect(await queue.queue.count()).toBe(0);
  });
});

describe('redisClientLock', () => {
  it('when two holders ask for one client at once, then their critical sections never overlap', async () => {
    const lockA = redisClientLock(redis.connection, { prefix: redis.prefix, ttlMs: 5_000 });
    const lockB = redisClientLock(redis.connection, { prefix: redis.prefix, ttlMs: 5_000 });
    let inside = 0;
    let maxInside = 0;
    const section = async () => {
      inside += 1;
      maxInside = Math.max(maxInside, inside);
      await new Promise((resolve) => setImmediate(resolve));
      await redis.connection.ping();
      inside -= 1;
    };
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? lockA : lockB).withLock(phone, section)),
    );
    expect(maxInside).toBe(1);
    // Another client is not held up by this one.
    await lockA.withLock(phone, () => lockB.withLock('+40700000001', () => Promise.resolve()));
  });

  it('when the lock stays busy past the wait, then a retryable error says so', async () => {
    const lock = redisClientLock(redis.connection, {
      prefix: redis.prefix,
      ttlMs: 5_000,
      waitMs: 100,
    });
    let release: () => void = () => undefined;
    const held = lock.withLock(phone, () => new Promise<void>((r) => (release = r)));
    await expectEventually(async () =>
      expect(await redis.connection.exists(`${redis.prefix}:crm-aggregator:lock:${phone}`)).toBe(1),
    );
    await expect(lock.withLock(phone, () => Promise.resolve())).rejects.toMatchObject({
      code: 'DEPENDENCY_UNAVAILABLE',
      retryable: true,
    });
    release();
    await held;
  });
});
