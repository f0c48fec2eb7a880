import { FieldValue, type Firestore } from 'firebase-admin/firestore';
import {
  AppError,
  WebhookCollections,
  WebhookDeliveryDoc,
  WebhookDoc,
  type WebhookEventLogDoc,
  type WebhookEventType,
} from '@wacrm/contracts';
import { contractConverter, webhookEventsCollection } from '@wacrm/firestore';

const webhookConverter = contractConverter('webhook', WebhookDoc);
const deliveryConverter = contractConverter('webhookDelivery', WebhookDeliveryDoc);
const ALREADY_EXISTS = 6;

export interface WebhooksRepository {
  create(id: string, doc: WebhookDoc): Promise<void>;
  list(): Promise<Array<{ id: string; doc: WebhookDoc }>>;
  get(id: string): Promise<WebhookDoc | undefined>;
  disable(id: string, at: Date): Promise<WebhookDoc>;
  /** Active subscriptions for an account and event type, cached for `ttlMs`. */
  matching(
    accountId: string,
    type: WebhookEventType,
  ): Promise<Array<{ id: string; doc: WebhookDoc }>>;
  /** Creates the delivery unless it exists (a re-read stream entry); true when created. */
  createDelivery(id: string, doc: WebhookDeliveryDoc): Promise<boolean>;
  getDelivery(id: string): Promise<WebhookDeliveryDoc | undefined>;
  listDeliveries(
    subscriptionId: string,
    limit: number,
  ): Promise<Array<{ id: string; doc: WebhookDeliveryDoc }>>;
  recordAttempt(
    id: string,
    outcome: {
      status: WebhookDeliveryDoc['status'];
      statusCode: number | null;
      error: string | null;
      at: Date;
    },
  ): Promise<void>;
  markReplay(id: string, at: Date): Promise<number>;
  /** Recorded webhook events not yet turned into deliveries, oldest first (issue 16 item 3). */
  undispatchedEvents(limit: number): Promise<Array<{ id: string; doc: WebhookEventLogDoc }>>;
  /** Marks records dispatched, all in one commit (a page is at most a few hundred). */
  markDispatched(ids: readonly string[], at: Date): Promise<void>;
}

export function createWebhooksRepository(
  db: Firestore,
  options: { ttlMs?: number } = {},
): WebhooksRepository {
  const webhooks = () => db.collection(WebhookCollections.webhooks).withConverter(webhookConverter);
  const deliveries = () =>
    db.collection(WebhookCollections.webhookDeliveries).withConverter(deliveryConverter);
  const ttlMs = options.ttlMs ?? 5_000;
  let cache: { at: number; items: Array<{ id: string; doc: WebhookDoc }> } | undefined;

  return {
    async create(id, doc) {
      await webhooks().doc(id).create(doc);
      cache = undefined;
    },
    async list() {
      const snap = await webhooks().get();
      return snap.docs
        .map((d) => ({ id: d.id, doc: d.data() }))
        .sort((a, b) => a.id.localeCompare(b.id));
    },
    async get(id) {
      return (await webhooks().doc(id).get()).data();
    },
    async disable(id, at) {
      const doc = (await webhooks().doc(id).get()).data();
      if (doc === undefined) throw new AppError('NOT_FOUND', `webhook ${id} does not exist`);
      const disabled = { ...doc, active: false, disabledAt: doc.disabledAt ?? at, updatedAt: at };
      await webhooks().doc(id).set(disabled);
      cache = undefined;
      return disabled;
    },
    async matching(accountId, type) {
      if (cache === undefined || Date.now() - cache.at > ttlMs) {
        const snap = await webhooks().where('active', '==', true).get();
        cache = { at: Date.now(), items: snap.docs.map((d) => ({ id: d.id, doc: d.data() })) };
      }
      return cache.items.filter(
        (w) => w.doc.accountIds.includes(accountId) && w.doc.eventTypes.includes(type),
      );
    },
    async createDelivery(id, doc) {
      try {
        await deliveries().doc(id).create(doc);
        return true;
      } catch (error) {
        if ((error as { code?: unknown }).code === ALREADY_EXISTS) return false;
        throw error;
      }
    },
    async getDelivery(id) {
      return (await deliveries().doc(id).get()).data();
    },
    async listDeliveries(subscriptionId, limit) {
      // Needs the composite index (subscriptionId, createdAt desc) on real Firestore.
      const snap = await deliveries()
        .where('subscriptionId', '==', subscriptionId)
        .orderBy('createdAt', 'desc')
        .limit(limit)
        .get();
      return snap.docs.map((d) => ({ id: d.id, doc: d.data() }));
    },
    async recordAttempt(id, outcome) {
      await deliveries()
        .doc(id)
        .update({
          status: outcome.status,
          attempts: FieldValue.increment(1),
          lastStatusCode: outcome.statusCode,
          lastError: outcome.error,
          updatedAt: outcome.at,
          ...(outcome.status === 'delivered' ? { deliveredAt: outcome.at } : {}),
        });
    },
    async markReplay(id, at) {
      const doc = (await deliveries().doc(id).get()).data();
      if (doc === undefined) throw new AppError('NOT_FOUND', `delivery ${id} does not exist`);
      const replays = doc.replays + 1;
      await deliveries().doc(id).update({ replays, status: 'pending', updatedAt: at });
      return replays;
    },
    async undispatchedEvents(limit) {
      // Needs the composite index (dispatched, createdAt) on real Firestore.
      const snap = await webhookEventsCollection(db)
        .where('dispatched', '==', false)
        .orderBy('createdAt', 'asc')
        .limit(limit)
        .get();
      return snap.docs.map((d) => ({ id: d.id, doc: d.data() }));
    },
    async markDispatched(ids, at) {
      if (ids.length === 0) return;
      const batch = db.batch();
      for (const id of ids) {
        batch.set(
          webhookEventsCollection(db).doc(id),
          { dispatched: true, dispatchedAt: at },
          { merge: true },
        );
      }
      await batch.commit();
    },
  };
}
