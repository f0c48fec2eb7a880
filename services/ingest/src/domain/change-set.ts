import {
  advanceStatus,
  furthestStatus,
  type MessageDoc,
  type MessageStatus,
  type PendingUpdateDoc,
  type ThreadDoc,
} from '@wacrm/contracts';
import { messagePreview } from './thread-fold.js';

/** A change to a message that may arrive before, with or after the message itself. */
export interface Mutation {
  status?: MessageStatus;
  deleted?: boolean;
  editedBody?: string | null;
  reaction?: { reactor: string; emoji: string };
  requestId?: string;
  /**
   * Who sent an edit or revoke: it applies only to a message that sender wrote (the account's own
   * messages for `fromMe`; in a group, the member's; in a chat, the contact's).
   */
  author?: MessageAuthor;
}

export interface MessageAuthor {
  fromMe: boolean;
  /** Group member (canonical JID); null in a one-to-one chat. */
  participant: string | null;
}

/** Whether `author` wrote `doc`. */
export function wroteMessage(author: MessageAuthor, doc: MessageDoc): boolean {
  if (author.fromMe) return doc.direction === 'outbound';
  if (doc.direction !== 'inbound') return false;
  return author.participant === null || doc.participant === author.participant;
}

/** What a job found in Firestore before deciding anything. */
export interface LoadedState {
  accountId: string;
  now: Date;
  threads: ReadonlyMap<string, ThreadDoc>;
  /** Existing messages by `messageKey(threadId, id)`. */
  messages: ReadonlyMap<string, MessageDoc>;
  /** Existing pending updates by message id. */
  pending: ReadonlyMap<string, PendingUpdateDoc>;
}

export interface ThreadSeed {
  clientJid: string;
  phoneE164: string | null;
  isGroup: boolean;
  displayName: string | null;
  unreadCount?: number;
}

export interface ThreadChange {
  threadId: string;
  existing: ThreadDoc | null;
  /** The document to create when `existing` is null (counters at zero). */
  seed: ThreadDoc;
  /** Messages that did not exist before this job, oldest first. */
  newMessages: MessageDoc[];
  /** Fields other than the counters that change. */
  patch: Partial<ThreadDoc>;
}

export interface MessagePatch {
  threadId: string;
  messageId: string;
  patch: Partial<MessageDoc>;
  /** The message before and after the patch (the search index re-reads its words). */
  before: MessageDoc;
  after: MessageDoc;
}

export interface StatusChange {
  threadId: string;
  messageId: string;
  status: MessageStatus;
  requestId: string | null;
}

export interface ChangeSet {
  threads: ThreadChange[];
  messagePatches: MessagePatch[];
  pendingWrites: PendingUpdateDoc[];
  /** Pending updates folded into messages created here (their index entries can go). */
  pendingApplied: string[];
  statusChanges: StatusChange[];
}

export const messageKey = (threadId: string, messageId: string): string =>
  `${threadId}\u0000${messageId}`;

function applyMutation(doc: MessageDoc, m: Mutation, now: Date): MessageDoc {
  const reactions = { ...doc.reactions };
  if (m.reaction !== undefined) {
    if (m.reaction.emoji === '') delete reactions[m.reaction.reactor];
    else reactions[m.reaction.reactor] = m.reaction.emoji;
  }
  return {
    ...doc,
    status: m.status !== undefined ? advanceStatus(doc.status, m.status) : doc.status,
    deleted: doc.deleted || m.deleted === true,
    editedBody: m.editedBody !== undefined ? m.editedBody : doc.editedBody,
    reactions,
    requestId: doc.requestId ?? m.requestId ?? null,
    updatedAt: now,
  };
}

/** What a decrypted resend brings that its placeholder lacked. */
function contentOf(doc: MessageDoc) {
  return {
    body: doc.body,
    type: doc.type,
    media: doc.media,
    location: doc.location,
    quotedMessageId: doc.quotedMessageId,
    senderName: doc.senderName ?? null,
  };
}

function withContentOf(placeholder: MessageDoc, resend: MessageDoc, now: Date): MessageDoc {
  const { resendRequested: _dropped, ...rest } = placeholder;
  return {
    ...rest,
    ...contentOf(resend),
    senderName: resend.senderName ?? placeholder.senderName,
    resendRequested: false,
    updatedAt: now,
  };
}

function pendingAsMutation(p: PendingUpdateDoc): Mutation[] {
  const out: Mutation[] = [
    {
      ...(p.status !== null ? { status: p.status } : {}),
      deleted: p.deleted,
      ...(p.editedBody !== null ? { editedBody: p.editedBody } : {}),
      ...(p.requestId !== null ? { requestId: p.requestId } : {}),
    },
  ];
  for (const [reactor, emoji] of Object.entries(p.reactions)) {
    out.push({ reaction: { reactor, emoji } });
  }
  return out;
}

/**
 * Decides, from what is stored, what a job changes. Pure: the same state and inputs give the
 * same writes, which is what makes a replayed job change nothing.
 */
export class ChangeSetBuilder {
  private readonly threads = new Map<string, ThreadChange>();
  private readonly newByKey = new Map<string, MessageDoc>();
  private readonly patched = new Map<string, { threadId: string; doc: MessageDoc }>();
  private readonly pendingWrites = new Map<string, PendingUpdateDoc>();
  private readonly pendingApplied = new Set<string>();
  private readonly statusChanges = new Map<string, StatusChange>();

  constructor(private readonly state: LoadedState) {}

  /** The thread's change, creating the thread from `seed` if it is not stored yet. */
  ensureThread(threadId: string, seed: ThreadSeed): ThreadChange {
    let change = this.threads.get(threadId);
    if (change === undefined) {
      const existing = this.state.threads.get(threadId) ?? null;
      change = {
        threadId,
        existing,
        seed: {
          accountId: this.state.accountId,
          clientJid: seed.clientJid,
          phoneE164: seed.phoneE164,
          displayName: seed.displayName,
          isGroup: seed.isGroup,
          lastMessageAt: null,
          lastMessageText: null,
          lastMessageDirection: null,
          lastMessageId: null,
          unreadCount: seed.unreadCount ?? 0,
          messageCount: 0,
          createdAt: this.state.now,
          updatedAt: this.state.now,
        },
        newMessages: [],
        patch: {},
      };
      this.threads.set(threadId, change);
    }
    if (change.existing !== null && change.existing.displayName === null && seed.displayName) {
      change.patch.displayName = seed.displayName;
    }
    if (change.existing === null && change.seed.displayName === null && seed.displayName) {
      change.seed.displayName = seed.displayName;
    }
    return change;
  }

  patchThread(threadId: string, seed: ThreadSeed, patch: Partial<ThreadDoc>): void {
    Object.assign(this.ensureThread(threadId, seed).patch, patch);
  }

  isStored(threadId: string, messageId: string): boolean {
    return this.state.messages.has(messageKey(threadId, messageId));
  }

  /** Adds a message unless it is stored or already added; returns whether it is new. */
  addMessage(seed: ThreadSeed, doc: MessageDoc): boolean {
    const key = messageKey(doc.threadId, doc.waKey.id);
    if (this.state.messages.has(key) || this.newByKey.has(key))
      return this.fillPlaceholder(key, doc);
    let message = doc;
    const pending = this.state.pending.get(doc.waKey.id);
    if (pending !== undefined) {
      for (const m of pendingAsMutation(pending))
        message = applyMutation(message, m, message.updatedAt);
      this.pendingApplied.add(doc.waKey.id);
    }
    const queued = this.pendingWrites.get(doc.waKey.id);
    if (queued !== undefined) {
      // A change that arrived earlier in this same job.
      for (const m of pendingAsMutation(queued))
        message = applyMutation(message, m, message.updatedAt);
      this.pendingWrites.delete(doc.waKey.id);
      this.pendingApplied.add(doc.waKey.id);
    }
    this.newByKey.set(key, message);
    this.ensureThread(doc.threadId, seed).newMessages.push(message);
    return true;
  }

  /**
   * The decrypted resend of a message stored as an undecryptable placeholder (same key): the
   * placeholder becomes the message, in the same document, so nothing is stored or counted twice.
   * Anything else with a known key is a duplicate.
   */
  private fillPlaceholder(key: string, doc: MessageDoc): boolean {
    if (doc.resendRequested === true) return false;
    const fresh = this.newByKey.get(key);
    if (fresh !== undefined) {
      if (fresh.resendRequested !== true) return false;
      const next = withContentOf(fresh, doc, fresh.updatedAt);
      const list = this.threads.get(doc.threadId)!.newMessages;
      list[list.indexOf(fresh)] = next;
      this.newByKey.set(key, next);
      return true;
    }
    const stored = this.patched.get(key)?.doc ?? this.state.messages.get(key);
    if (stored?.resendRequested !== true) return false;
    this.patched.set(key, {
      threadId: doc.threadId,
      doc: withContentOf(stored, doc, this.state.now),
    });
    return true;
  }

  /** Applies a change to a message wherever it is: new here, stored, or not seen yet (pending). */
  mutate(threadId: string, messageId: string, mutation: Mutation): void {
    const key = messageKey(threadId, messageId);
    const fresh = this.newByKey.get(key);
    const known = fresh ?? this.patched.get(key)?.doc ?? this.state.messages.get(key);
    // An edit or revoke from someone who did not write the message changes nothing.
    if (
      mutation.author !== undefined &&
      known !== undefined &&
      !wroteMessage(mutation.author, known)
    ) {
      return;
    }
    if (fresh !== undefined) {
      const next = applyMutation(fresh, mutation, fresh.updatedAt);
      const list = this.threads.get(threadId)!.newMessages;
      list[list.indexOf(fresh)] = next;
      this.newByKey.set(key, next);
      return;
    }
    const stored = this.patched.get(key)?.doc ?? this.state.messages.get(key);
    if (stored !== undefined) {
      const next = applyMutation(stored, mutation, this.state.now);
      this.patched.set(key, { threadId, doc: next });
      if (next.status !== stored.status) {
        this.statusChanges.set(key, {
          threadId,
          messageId,
          status: next.status,
          requestId: next.requestId,
        });
      }
      return;
    }
    const base: PendingUpdateDoc = this.pendingWrites.get(messageId) ??
      this.state.pending.get(messageId) ?? {
        accountId: this.state.accountId,
        messageId,
        status: null,
        deleted: false,
        editedBody: null,
        reactions: {},
        requestId: null,
        updatedAt: this.state.now,
      };
    const reactions = { ...base.reactions };
    if (mutation.reaction !== undefined) {
      // An empty emoji removes a reaction; kept as '' so a later fold removes it too.
      reactions[mutation.reaction.reactor] = mutation.reaction.emoji;
    }
    this.pendingWrites.set(messageId, {
      ...base,
      status: furthestStatus(base.status, mutation.status ?? null),
      deleted: base.deleted || mutation.deleted === true,
      editedBody: mutation.editedBody !== undefined ? mutation.editedBody : base.editedBody,
      reactions,
      requestId: base.requestId ?? mutation.requestId ?? null,
      updatedAt: this.state.now,
    });
  }

  /** The stored or new version of a message, after this job's changes. */
  current(threadId: string, messageId: string): MessageDoc | undefined {
    const key = messageKey(threadId, messageId);
    return this.newByKey.get(key) ?? this.patched.get(key)?.doc ?? this.state.messages.get(key);
  }

  build(): ChangeSet {
    const messagePatches: MessagePatch[] = [];
    for (const [key, { threadId, doc }] of this.patched) {
      const before = this.state.messages.get(key)!;
      const patch: Partial<MessageDoc> = {};
      if (doc.status !== before.status) patch.status = doc.status;
      if (doc.deleted !== before.deleted) patch.deleted = doc.deleted;
      if (doc.editedBody !== before.editedBody) patch.editedBody = doc.editedBody;
      if (doc.requestId !== before.requestId) patch.requestId = doc.requestId;
      if (JSON.stringify(doc.reactions) !== JSON.stringify(before.reactions)) {
        patch.reactions = doc.reactions;
      }
      const decrypted = before.resendRequested === true && doc.resendRequested !== true;
      if (decrypted) Object.assign(patch, contentOf(doc), { resendRequested: false });
      if (Object.keys(patch).length === 0) continue;
      messagePatches.push({
        threadId,
        messageId: doc.waKey.id,
        patch: { ...patch, updatedAt: this.state.now },
        before,
        after: doc,
      });
      // An edit of the message the inbox shows changes the preview.
      const thread = this.state.threads.get(threadId);
      if ((patch.editedBody !== undefined || decrypted) && thread?.lastMessageId === doc.waKey.id) {
        this.patchThread(threadId, threadSeedOf(thread), { lastMessageText: messagePreview(doc) });
      }
    }
    for (const change of this.threads.values()) {
      change.newMessages.sort(
        (a, b) =>
          a.tsClient.getTime() - b.tsClient.getTime() ||
          (a.waKey.id < b.waKey.id ? -1 : a.waKey.id > b.waKey.id ? 1 : 0),
      );
    }
    return {
      threads: [...this.threads.values()],
      messagePatches,
      pendingWrites: [...this.pendingWrites.values()],
      pendingApplied: [...this.pendingApplied],
      statusChanges: [...this.statusChanges.values()],
    };
  }
}

export function threadSeedOf(thread: ThreadDoc): ThreadSeed {
  return {
    clientJid: thread.clientJid,
    phoneE164: thread.phoneE164,
    isGroup: thread.isGroup,
    displayName: thread.displayName,
  };
}
