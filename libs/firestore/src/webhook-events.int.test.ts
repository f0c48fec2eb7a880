import { afterEach, describe, expect, it } from 'vitest';
import { WebhookCollections, type WebhookEventLogDoc } from '@wacrm/contracts';
import { useTestFirestore, type TestFirestore } from '@wacrm/testing';
import { compactWebhookEvents, webhookEventBacklog, webhookEventsCollection } from './index.js';

let fs: TestFirestore | undefined;
afterEach(async () => {
  await fs?.close();
});

const NOW = new Date('2026-03-01T12:00:00.000Z');
const DAY = 24 * 3600 * 1000;
const daysAgo = (days: number) => new Date(NOW.getTime() - days * DAY);
const eventId = (n: number) => n.toString(16).padStart(32, '0');

/** A record of `events` (event numbers), dispatched `dispatchedDaysAgo` days ago (null: not yet). */
async function record(id: string, events: number[], dispatchedDaysAgo: number | null) {
  const doc: WebhookEventLogDoc = {
    accountId: 'wa-01',
    events: events.map((n) => ({
      eventId: eventId(n),
      type: 'message.created',
      accountId: 'wa-01',
      occurredAt: daysAgo(40).toISOString(),
      data: { n },
    })),
    createdAt: daysAgo(dispatchedDaysAgo ?? 0),
    dispatched: dispatchedDaysAgo !== null,
    dispatchedAt: dispatchedDaysAgo !== null ? daysAgo(dispatchedDaysAgo) : null,
  };
  await webhookEventsCollection(fs!.db).doc(id).set(doc);
}

async function delivery(event: number, subscription: string, status: string) {
  await fs!.db
    .collection(WebhookCollections.webhookDeliveries)
    .doc(`${event}-${subscription}`)
    .set({ eventId: eventId(event), subscriptionId: subscription, status });
}

const remaining = async () =>
  (await webhookEventsCollection(fs!.db).get()).docs.map((d) => d.id).sort();

describe('webhook event records: retention and backlog (Firestore emulator)', () => {
  it('when a record was dispatched longer ago than the retention, then it is deleted only if every delivery made from it was delivered; undispatched, recent and undelivered records are kept', async () => {
    fs = useTestFirestore();
    await record('a-delivered', [1, 2], 31);
    await delivery(1, 's1', 'delivered');
    await delivery(1, 's2', 'delivered');
    await delivery(2, 's1', 'delivered');
    await record('b-no-subscriber', [3], 40);
    await record('c-failed', [4], 35);
    await delivery(4, 's1', 'delivered');
    await delivery(4, 's2', 'failed');
    await record('d-retrying', [5], 33);
    await delivery(5, 's1', 'retrying');
    await record('e-pending', [6], 32);
    await delivery(6, 's1', 'pending');
    await record('f-recent', [7], 29);
    await delivery(7, 's1', 'delivered');
    await record('g-undispatched', [8], null);

    const result = await compactWebhookEvents(fs.db, { retentionMs: 30 * DAY, now: NOW });

    expect(result).toEqual({ deleted: 2, kept: 3 });
    expect(await remaining()).toEqual([
      'c-failed',
      'd-retrying',
      'e-pending',
      'f-recent',
      'g-undispatched',
    ]);
    // Deliveries are their own log: none is touched.
    expect((await fs.db.collection(WebhookCollections.webhookDeliveries).get()).size).toBe(8);
  });

  it('when kept records fill the first pages, then the pass goes on to the deletable ones behind them', async () => {
    fs = useTestFirestore();
    for (let i = 0; i < 5; i++) {
      await record(`kept-${i}`, [10 + i], 60 - i);
      await delivery(10 + i, 's1', 'failed');
    }
    for (let i = 0; i < 3; i++) {
      await record(`done-${i}`, [20 + i], 50 - i);
      await delivery(20 + i, 's1', 'delivered');
    }
    const result = await compactWebhookEvents(fs.db, {
      retentionMs: 30 * DAY,
      now: NOW,
      pageSize: 2,
    });
    expect(result).toEqual({ deleted: 3, kept: 5 });
    expect(await remaining()).toEqual(['kept-0', 'kept-1', 'kept-2', 'kept-3', 'kept-4']);
  });

  it('when records wait to be dispatched, then the backlog counts them and ages the oldest', async () => {
    fs = useTestFirestore();
    expect(await webhookEventBacklog(fs.db, NOW)).toEqual({ count: 0, oldestSeconds: 0 });
    await record('old', [1], 10);
    await webhookEventsCollection(fs.db)
      .doc('waiting-1')
      .set({
        accountId: 'wa-01',
        events: [
          {
            eventId: eventId(2),
            type: 'message.created',
            accountId: 'wa-01',
            occurredAt: NOW.toISOString(),
            data: {},
          },
        ],
        createdAt: new Date(NOW.getTime() - 120_000),
        dispatched: false,
        dispatchedAt: null,
      });
    await record('waiting-2', [3], null);
    expect(await webhookEventBacklog(fs.db, NOW)).toEqual({ count: 2, oldestSeconds: 120 });
  });
});
