import type { DocumentSnapshot, Firestore, QueryDocumentSnapshot } from 'firebase-admin/firestore';
import type { Redis } from 'ioredis';
import type { OutboxDoc } from '@wacrm/contracts';
import { collections } from '@wacrm/firestore';
import { RedisFencedLock } from '@wacrm/queue';
import { outboxTransition, type OutboxEvent } from '../domain/outbox-transition.js';

export type OutboxSnapshot = DocumentSnapshot<OutboxDoc>;

/** Documents this process wrote last, kept to skip the read of the next fact (bounded). */
const KNOWN_MAX = 20_000;
/** How long a write's version key lives; an older entry is read again. */
const VERSION_TTL_MS = 60 * 60_000;

/**
 * The one writer of `outbox/{requestId}` after the send route created it (create-once, in
 * `@wacrm/firestore`'s outbox repository). Every change goes through `apply`: read, decide
 * (`outboxTransition`), write, one request at a time across replicas (the store has no
 * transaction isolation, so a Redis lock per request keeps a late fact from writing over a newer
 * one). A test greps the tree: no other module reaches outbox documents.
 */
export class OutboxStore {
  private readonly lock: RedisFencedLock;
  /**
   * What this process last wrote per document, with the version (its lock token) it recorded in
   * Redis before writing. A send's facts (sent, delivered, read) come one after another, each a
   * read and a write; when the version in Redis is still ours, nobody wrote since and the
   * document is what we wrote, so the read is skipped (a Redis GET instead of a store read).
   */
  private readonly known = new Map<string, { doc: OutboxDoc; version: string }>();

  constructor(
    private readonly db: Firestore,
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    this.lock = new RedisFencedLock(redis, prefix, { name: 'outbox', ttlMs: 10_000 });
  }

  private versionKey(requestId: string) {
    return `${this.prefix}:outbox-version:${requestId}`;
  }

  /** The document as stored: what we wrote last if no one wrote since, else read. */
  private async current(requestId: string): Promise<OutboxDoc | undefined> {
    const known = this.known.get(requestId);
    if (known !== undefined && (await this.redis.get(this.versionKey(requestId))) === known.version)
      return known.doc;
    this.known.delete(requestId);
    return (await this.get(requestId)).data();
  }

  private remember(requestId: string, doc: OutboxDoc, version: string) {
    this.known.delete(requestId);
    this.known.set(requestId, { doc, version });
    if (this.known.size > KNOWN_MAX) this.known.delete(this.known.keys().next().value!);
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
    return this.lock.run(requestId, async (lease) => {
      const doc = read !== undefined ? read.data() : await this.current(requestId);
      if (doc === undefined) return null;
      const patch = outboxTransition(doc, event, now);
      if (patch === null) return doc.status;
      // The version first: from here on no process trusts what it remembers of this document,
      // even if the write below fails or this process dies before it lands.
      const version = String(lease.token);
      await this.redis.set(this.versionKey(requestId), version, 'PX', VERSION_TTL_MS);
      this.known.delete(requestId);
      await this.ref(requestId).update(patch);
      this.remember(requestId, { ...doc, ...patch }, version);
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
