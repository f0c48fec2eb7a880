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
