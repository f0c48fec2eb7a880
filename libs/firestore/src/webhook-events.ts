import type { Firestore, WriteBatch } from 'firebase-admin/firestore';
import {
  WebhookCollections,
  WebhookEventLogDoc,
  WebhookEventType,
  type RealtimeEvent,
  type WebhookEventRecord,
} from '@wacrm/contracts';
import { contractConverter } from './converters.js';
import { sha256Of } from './create-once.js';

const converter = contractConverter('webhook event', WebhookEventLogDoc);

/** `webhookEvents`, typed. */
export function webhookEventsCollection(db: Firestore) {
  return db.collection(WebhookCollections.webhookEvents).withConverter(converter);
}

/**
 * The webhook events among a commit's realtime events, each with its id: a hash of the event,
 * so the same change recorded twice (a retried commit) has one id receivers can dedupe on.
 */
export function webhookEventsOf(events: readonly RealtimeEvent[]): WebhookEventRecord[] {
  const records: WebhookEventRecord[] = [];
  for (const event of events) {
    const type = WebhookEventType.safeParse(event.type);
    if (!type.success || !('accountId' in event)) continue;
    records.push({
      eventId: sha256Of(event).slice(0, 32),
      type: type.data,
      accountId: event.accountId,
      occurredAt: event.at,
      data: { ...event },
    });
  }
  return records;
}

/**
 * Adds a commit's webhook events to the commit itself (one document, one write per account):
 * the event exists exactly when the change does, whatever happens to the live notification.
 * Returns the number of writes added (0 when none of the events is a webhook event).
 */
export function recordWebhookEvents(
  db: Firestore,
  batch: WriteBatch,
  events: readonly RealtimeEvent[],
  now: Date,
): number {
  const byAccount = new Map<string, WebhookEventRecord[]>();
  for (const record of webhookEventsOf(events)) {
    const list = byAccount.get(record.accountId) ?? [];
    list.push(record);
    byAccount.set(record.accountId, list);
  }
  for (const [accountId, records] of byAccount) {
    const id = `${now.getTime().toString().padStart(15, '0')}-${sha256Of(records.map((r) => r.eventId)).slice(0, 24)}`;
    batch.set(webhookEventsCollection(db).doc(id), {
      accountId,
      events: records,
      createdAt: now,
      dispatched: false,
      dispatchedAt: null,
    });
  }
  return byAccount.size;
}

/**
 * Retention of `webhookEvents` (issue 16): a record is only the durable source deliveries are
 * made from. Once it was dispatched more than `retentionMs` ago and every delivery made from its
 * events was delivered (or none was due: no subscription matched), it is deleted; a record not
 * dispatched, or with a delivery pending, retrying or failed, is kept whatever its age. Deliveries
 * (`webhookDeliveries`, each with its own copy of the event) are never touched. Returns what was
 * deleted and what was old enough but kept. Needs the index (dispatched, dispatchedAt).
 */
export async function compactWebhookEvents(
  db: Firestore,
  options: { retentionMs: number; now?: Date; pageSize?: number; maxPages?: number },
): Promise<{ deleted: number; kept: number }> {
  const before = new Date((options.now ?? new Date()).getTime() - options.retentionMs);
  const pageSize = options.pageSize ?? 100;
  const deliveries = db.collection(WebhookCollections.webhookDeliveries);
  let after = new Date(0);
  let deleted = 0;
  let kept = 0;
  for (let page = 0; page < (options.maxPages ?? 50); page++) {
    // A range on dispatchedAt pages (the embedded store ignores cursors); a record dispatched in
    // the same millisecond as the last of a page waits for the next pass.
    const snap = await webhookEventsCollection(db)
      .where('dispatched', '==', true)
      .where('dispatchedAt', '>', after)
      .where('dispatchedAt', '<', before)
      .orderBy('dispatchedAt', 'asc')
      .limit(pageSize)
      .get();
    for (const doc of snap.docs) {
      const record = doc.data();
      const statuses = await Promise.all(
        record.events.map(async (event) => {
          const made = await deliveries.where('eventId', '==', event.eventId).get();
          return made.docs.map((d) => d.get('status') as unknown);
        }),
      );
      if (statuses.flat().every((status) => status === 'delivered')) {
        await doc.ref.delete();
        deleted += 1;
      } else kept += 1;
    }
    const last = snap.docs.at(-1)?.data().dispatchedAt;
    if (snap.size < pageSize || !last) break;
    after = last;
  }
  return { deleted, kept };
}

/**
 * The records not dispatched yet (deliveries not made): how many, up to `limit`, and the age of
 * the oldest in seconds (0 when none). Needs the index (dispatched, createdAt).
 */
export async function webhookEventBacklog(
  db: Firestore,
  now = new Date(),
  limit = 10_000,
): Promise<{ count: number; oldestSeconds: number }> {
  const pending = webhookEventsCollection(db).where('dispatched', '==', false);
  const [oldest, count] = await Promise.all([
    pending.orderBy('createdAt', 'asc').limit(1).get(),
    pending.limit(limit).count().get(),
  ]);
  const createdAt = oldest.docs[0]?.data().createdAt;
  return {
    count: count.data().count,
    oldestSeconds: createdAt ? Math.max(0, (now.getTime() - createdAt.getTime()) / 1000) : 0,
  };
}
