import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookCollections, type WebhookEventLogDoc } from '@wacrm/contracts';
import { webhookEventsCollection } from '@wacrm/firestore';
import {
  captureLogger,
  expectEventually,
  useTestFirestore,
  useTestRedis,
  type TestFirestore,
  type TestRedis,
} from '@wacrm/testing';
import { createGatewayMetrics } from '../data-access/metrics.js';
import { createQueueRegistry, type QueueRegistry } from '../data-access/queues.js';
import { dispatchRecorded, startWebhookDispatcher } from './webhook-dispatcher.js';
import { createWebhooksRepository, type WebhooksRepository } from './webhooks.repository.js';

let fs: TestFirestore | undefined;
let redis: TestRedis | undefined;
let queues: QueueRegistry | undefined;
let dispatcher: { close(): Promise<void> } | undefined;
afterEach(async () => {
  await dispatcher?.close();
  await queues?.close();
  await redis?.cleanup();
  await fs?.close();
});

const DAY = 24 * 3600 * 1000;

function record(n: number, dispatchedAt: Date | null): WebhookEventLogDoc {
  return {
    accountId: 'wa-01',
    events: [
      {
        eventId: n.toString(16).padStart(32, '0'),
        type: 'message.created',
        accountId: 'wa-01',
        occurredAt: new Date().toISOString(),
        data: { n },
      },
    ],
    createdAt: dispatchedAt ?? new Date(),
    dispatched: dispatchedAt !== null,
    dispatchedAt,
  };
}

describe('webhook dispatcher retention (Redis and the Firestore emulator)', () => {
  it('when the dispatcher runs with a retention, then delivered records past it are deleted, while one with a failed delivery and one still to dispatch are kept (the latter dispatched)', async () => {
    fs = useTestFirestore();
    redis = await useTestRedis();
    queues = createQueueRegistry(redis.connection, redis.prefix);
    const events = webhookEventsCollection(fs.db);
    const deliveries = fs.db.collection(WebhookCollections.webhookDeliveries);
    const longAgo = new Date(Date.now() - 40 * DAY);
    await events.doc('delivered').set(record(1, longAgo));
    await deliveries
      .doc('d1')
      .set({ eventId: record(1, null).events[0]!.eventId, status: 'delivered' });
    await events.doc('failed').set(record(2, longAgo));
    await deliveries
      .doc('d2')
      .set({ eventId: record(2, null).events[0]!.eventId, status: 'failed' });
    await events.doc('to-dispatch').set(record(3, null));
    const log = captureLogger('api-gateway');

    dispatcher = await startWebhookDispatcher({
      reader: new Redis(redis.url),
      prefix: redis.prefix,
      consumer: 'test',
      repo: createWebhooksRepository(fs.db),
      queues,
      jobs: { attempts: 3, backoffMs: 100 },
      logger: log.logger,
      pollMs: 100,
      retention: { db: fs.db, ms: 30 * DAY },
    });

    await expectEventually(async () => {
      const left = await events.get();
      expect(left.docs.map((d) => d.id).sort()).toEqual(['failed', 'to-dispatch']);
      expect(left.docs.find((d) => d.id === 'to-dispatch')?.data().dispatched).toBe(true);
    });
    // The line follows the deleting commit, so it may land just after the query above saw it.
    await expectEventually(() => {
      expect(
        log.lines().some((l) => l.msg === 'webhook event records past retention compacted'),
      ).toBe(true);
    });
  });
  it('when a page of records is dispatched, then they are marked in one commit; when a record fails, the ones before it are marked and it is tried again next pass', async () => {
    fs = useTestFirestore();
    redis = await useTestRedis();
    queues = createQueueRegistry(redis.connection, redis.prefix);
    const events = webhookEventsCollection(fs.db);
    for (let n = 1; n <= 5; n++) {
      await events.doc(`r${n}`).set({ ...record(n, null), createdAt: new Date(Date.now() + n) });
    }
    const real = createWebhooksRepository(fs.db);
    const marks: string[][] = [];
    // Each record has one event: the third lookup of subscriptions is the third record's.
    let lookups = 0;
    let failAt: number | null = 3;
    const repo: WebhooksRepository = {
      ...real,
      markDispatched: (ids, at) => {
        marks.push([...ids]);
        return real.markDispatched(ids, at);
      },
      matching: (accountId, type) => {
        lookups += 1;
        return lookups === failAt
          ? Promise.reject(new Error('Firestore unavailable'))
          : real.matching(accountId, type);
      },
    };
    const deps = { repo, queues, jobs: { attempts: 3, backoffMs: 100 } };
    const undispatched = async () =>
      (await events.where('dispatched', '==', false).get()).docs.map((d) => d.id).sort();

    await expect(dispatchRecorded(deps)).rejects.toThrow('Firestore unavailable');
    expect(marks).toEqual([['r1', 'r2']]);
    expect(await undispatched()).toEqual(['r3', 'r4', 'r5']);

    failAt = null;
    expect(await dispatchRecorded(deps)).toBe(3);
    expect(marks).toEqual([
      ['r1', 'r2'],
      ['r3', 'r4', 'r5'],
    ]);
    expect(await undispatched()).toEqual([]);
  });

  it('when recorded events wait to be dispatched, then /metrics names the backlog and the age of its oldest', async () => {
    fs = useTestFirestore();
    redis = await useTestRedis();
    queues = createQueueRegistry(redis.connection, redis.prefix);
    const registry = new Registry();
    createGatewayMetrics({ registry, queues, db: fs.db, logger: captureLogger().logger });
    const events = webhookEventsCollection(fs.db);
    await events.doc('old').set({ ...record(1, null), createdAt: new Date(Date.now() - 600_000) });
    await events.doc('new').set(record(2, null));
    await events.doc('done').set(record(3, new Date()));
    const text = await registry.metrics();
    expect(text).toMatch(/^wacrm_webhook_events_undispatched 2$/m);
    const age = Number(/^wacrm_webhook_events_undispatched_oldest_seconds (\S+)$/m.exec(text)?.[1]);
    expect(age).toBeGreaterThanOrEqual(600);
    expect(age).toBeLessThan(700);
  });
});
