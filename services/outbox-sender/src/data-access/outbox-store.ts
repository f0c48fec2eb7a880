import type { DocumentSnapshot, Firestore, QueryDocumentSnapshot } from 'firebase-admin/firestore';
import type { Redis } from 'ioredis';
import type { OutboxDoc } from '@wacrm/contracts';
import { collections } from '@wacrm/firestore';
import { RedisFencedLock } from '@wacrm/queue';
import { outboxTransition, type OutboxEvent } from '../domain/outbox-transition.js';

export type OutboxSnapshot = DocumentSnapshot<OutboxDoc>;

/**
 * The one writer of `outbox/{requestId}` after the send route created it (create-once, in
 * `@wacrm/firestore`'s outbox repository). Every change goes through `apply`: read, decide
 * (`outboxTransition`), write, one request at a time across replicas (the store has no
 * transaction isolation, so a Redis lock per request keeps a late fact from writing over a newer
 * one). A test greps the tree: no other module reaches outbox documents.
 */
export class OutboxStore {
  private readonly lock: RedisFencedLock;

  constructor(
    private readonly db: Firestore,
    redis: Redis,
    prefix: string,
  ) {
    this.lock = new RedisFencedLock(redis, prefix, { name: 'outbox', ttlMs: 10_000 });
  }

  private ref(requestId: string) {
    return collections(this.db).outbox().doc(requestId);
  }

  get(requestId: string): Promise<OutboxSnapshot> {
    return this.ref(requestId).get();
  }

  /**
   * Applies `event` to the document and returns its status after, or null when the document
   * does not exist. `read` is a snapshot the caller took and nothing else can have changed since
   * (the hand-over: facts only follow the command it has not enqueued yet), saving a re-read.
   */
  apply(
    requestId: string,
    event: OutboxEvent,
    now = new Date(),
    read?: OutboxSnapshot,
  ): Promise<OutboxDoc['status'] | null> {
    return this.lock.run(requestId, async () => {
      const snap = read ?? (await this.get(requestId));
      const doc = snap.data();
      if (doc === undefined) return null;
      const patch = outboxTransition(doc, event, now);
      if (patch === null) return doc.status;
      await snap.ref.update(patch);
      return patch.status ?? doc.status;
    });
  }

  /** `queued` documents accepted before `before` (a lost job, for the relay), oldest first. */
  async queuedBefore(before: Date, limit: number): Promise<QueryDocumentSnapshot<OutboxDoc>[]> {
    // Range filters, not cursors: the emulator ignores startAfter (DESIGN.md).
    return (
      await collections(this.db)
        .outbox()
        .where('status', '==', 'queued')
        .where('createdAt', '<', before)
        .orderBy('createdAt', 'asc')
        .limit(limit)
        .get()
    ).docs;
  }

  /** `scheduled` documents whose time has come by `now`, soonest first (issue 19). */
  async scheduledDue(now: Date, limit: number): Promise<QueryDocumentSnapshot<OutboxDoc>[]> {
    return (
      await collections(this.db)
        .outbox()
        .where('status', '==', 'scheduled')
        .where('sendAt', '<=', now)
        .orderBy('sendAt', 'asc')
        .limit(limit)
        .get()
    ).docs;
  }

  async paused(limit: number): Promise<QueryDocumentSnapshot<OutboxDoc>[]> {
    return (
      await collections(this.db)
        .outbox()
        .where('status', '==', 'paused')
        .orderBy('createdAt', 'asc')
        .limit(limit)
        .get()
    ).docs;
  }

  /** `sending` documents not changed since `before`, oldest first. */
  async sendingBefore(before: Date, limit: number): Promise<QueryDocumentSnapshot<OutboxDoc>[]> {
    return (
      await collections(this.db)
        .outbox()
        .where('status', '==', 'sending')
        .where('updatedAt', '<', before)
        .orderBy('updatedAt', 'asc')
        .limit(limit)
        .get()
    ).docs;
  }
}
