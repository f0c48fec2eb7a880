import {
  HistoryChunkDoc,
  IdentityDoc,
  IngestCollections,
  PendingUpdateDoc,
  type AccountDoc,
  type MessageDoc,
  type OutboxDoc,
  type ThreadDoc,
} from '@wacrm/contracts';
import { collections, contractConverter, readOutboxEntries, type Firebase } from '@wacrm/firestore';
import { messageKey } from '../domain/change-set.js';

export type Db = Firebase['db'];
export type WriteBatch = ReturnType<Db['batch']>;
type AnyRef = Parameters<Db['getAll']>[number];

const identityConverter = contractConverter('identity', IdentityDoc);
const pendingConverter = contractConverter('pendingUpdate', PendingUpdateDoc);
const chunkConverter = contractConverter('historyChunk', HistoryChunkDoc);

/** getAll in slices: one RPC per few hundred documents. */
const READ_SLICE = 300;

/** Firestore reads and typed references for ingest; every write goes through a batch. */
export class FirestoreStore {
  readonly c: ReturnType<typeof collections>;

  constructor(readonly db: Db) {
    this.c = collections(db);
  }

  accountRef(accountId: string) {
    return this.c.accounts().doc(accountId);
  }
  threadRef(threadId: string) {
    return this.c.threads().doc(threadId);
  }
  messageRef(threadId: string, messageId: string) {
    return this.c.messages(threadId).doc(messageId);
  }
  identityRef(accountId: string, lid: string) {
    return this.accountRef(accountId)
      .collection(IngestCollections.identities)
      .doc(lid)
      .withConverter(identityConverter);
  }
  pendingRef(accountId: string, messageId: string) {
    return this.accountRef(accountId)
      .collection(IngestCollections.pendingUpdates)
      .doc(messageId)
      .withConverter(pendingConverter);
  }
  chunkRef(accountId: string, chunkId: string) {
    return this.accountRef(accountId)
      .collection(IngestCollections.historyChunks)
      .doc(chunkId)
      .withConverter(chunkConverter);
  }

  private async getAll<T>(refs: AnyRef[]): Promise<Array<T | undefined>> {
    const slices: Array<typeof refs> = [];
    for (let i = 0; i < refs.length; i += READ_SLICE) slices.push(refs.slice(i, i + READ_SLICE));
    const results = await Promise.all(slices.map((slice) => this.db.getAll(...slice)));
    return results.flat().map((snap) => (snap.exists ? (snap.data() as T) : undefined));
  }

  async loadThreads(threadIds: Iterable<string>): Promise<Map<string, ThreadDoc>> {
    const ids = [...new Set(threadIds)];
    const docs = await this.getAll<ThreadDoc>(ids.map((id) => this.threadRef(id)));
    const out = new Map<string, ThreadDoc>();
    docs.forEach((doc, i) => doc !== undefined && out.set(ids[i]!, doc));
    return out;
  }

  /** Stored messages by `messageKey(threadId, id)`. */
  async loadMessages(
    keys: Iterable<{ threadId: string; messageId: string }>,
  ): Promise<Map<string, MessageDoc>> {
    const unique = new Map<string, { threadId: string; messageId: string }>();
    for (const k of keys) unique.set(messageKey(k.threadId, k.messageId), k);
    const list = [...unique.values()];
    const docs = await this.getAll<MessageDoc>(
      list.map((k) => this.messageRef(k.threadId, k.messageId)),
    );
    const out = new Map<string, MessageDoc>();
    docs.forEach((doc, i) => {
      const k = list[i]!;
      if (doc !== undefined) out.set(messageKey(k.threadId, k.messageId), doc);
    });
    return out;
  }

  async loadPending(accountId: string, messageIds: Iterable<string>) {
    const ids = [...new Set(messageIds)];
    const docs = await this.getAll<PendingUpdateDoc>(
      ids.map((id) => this.pendingRef(accountId, id)),
    );
    const out = new Map<string, PendingUpdateDoc>();
    docs.forEach((doc, i) => doc !== undefined && out.set(ids[i]!, doc));
    return out;
  }

  async loadIdentities(accountId: string, lids: Iterable<string>): Promise<Map<string, string>> {
    const ids = [...new Set(lids)];
    const docs = await this.getAll<IdentityDoc>(ids.map((id) => this.identityRef(accountId, id)));
    const out = new Map<string, string>();
    docs.forEach((doc, i) => doc !== undefined && out.set(ids[i]!, doc.pn));
    return out;
  }

  /** Outbox documents are read only: outbox-sender owns them (ingest reports send status). */
  loadOutbox(requestIds: Iterable<string>): Promise<Map<string, OutboxDoc>> {
    return readOutboxEntries(this.db, requestIds);
  }

  async loadAccount(accountId: string): Promise<AccountDoc | undefined> {
    return (await this.accountRef(accountId).get()).data();
  }

  async chunkRecorded(accountId: string, chunkId: string): Promise<boolean> {
    return (await this.chunkRef(accountId, chunkId).get()).exists;
  }

  /** A thread's messages at or after `at`, newest first, at most `limit` (a read mark's tail). */
  async messagesFrom(threadId: string, at: Date, limit: number): Promise<MessageDoc[]> {
    const snap = await this.c
      .messages(threadId)
      .where('tsClient', '>=', at)
      .orderBy('tsClient', 'desc')
      .limit(limit)
      .get();
    return snap.docs.map((d) => d.data());
  }

  /** Every thread of an account with its id (the search backfill, read once per job). */
  async accountThreads(accountId: string): Promise<Array<{ id: string; doc: ThreadDoc }>> {
    const snap = await this.c.threads().where('accountId', '==', accountId).get();
    return snap.docs.map((d) => ({ id: d.id, doc: d.data() }));
  }

  /** Every message of a thread (a LID thread being merged: small, read once). */
  async threadMessages(threadId: string): Promise<MessageDoc[]> {
    const snap = await this.c.messages(threadId).get();
    return snap.docs.map((d) => d.data());
  }
}
