import {
  type MessageDoc,
  type MessageSource,
  type OutboxDoc,
  type RealtimeEvent,
  type SendStatusJob,
  type WaKey,
  type WaRawMessage,
} from '@wacrm/contracts';
import { threadIdFor } from '@wacrm/firestore';
import type { Logger } from '@wacrm/observability';
import type { BatchProgress, LooseWrite, WriteResult } from '../data-access/change-writer.js';
import { writeChangeSet } from '../data-access/change-writer.js';
import { ChangeSetBuilder, messageKey, type Mutation, type ThreadSeed } from './change-set.js';
import type { IngestDeps } from './ingest-deps.js';
import {
  canonicalChatJid,
  isBroadcastJid,
  isGroupJid,
  isLidJid,
  normalizeJid,
  phoneE164FromJid,
} from './jid.js';
import { classify, type InboundItem } from './wa-message.js';
import { enqueueMediaJobs } from '../data-access/media-jobs.js';
import { reportSendStatus } from '../data-access/send-status.js';

/** The message statuses the outbox follows. */
const REPORTED: ReadonlySet<string> = new Set(['sent', 'delivered', 'read', 'failed']);

const clip = (text: string | null, max: number): string | null =>
  text === null ? null : text.length > max ? text.slice(0, max) : text;

/** A change addressed to a message by its chat and id (receipts, updates, send results). */
export interface AddressedMutation {
  chatJid: string;
  messageId: string;
  mutation: Mutation;
  /** Send results know the thread from the outbox document. */
  threadId?: string;
}

/** A conversation to exist (history chats) or to be named (contacts), without messages. */
export interface ThreadHint {
  chatJid: string;
  name: string | null;
  unreadCount: number | null;
  /** Create the thread if it does not exist (chats), or only name it when touched (contacts). */
  create: boolean;
}

/** History progress written in every commit of a chunk, with the writes to keep for it. */
export interface PerBatchWrites {
  reserve: number;
  writes: (progress: BatchProgress) => LooseWrite[];
}

/** Everything one sync does; each caller below fills it in explicitly. */
interface SyncPlan {
  accountId: string;
  source: MessageSource;
  raw: readonly WaRawMessage[];
  mutations: readonly AddressedMutation[];
  hints: readonly ThreadHint[];
  /** Messages created from an outbox document (accepted, or acknowledged by WhatsApp). */
  outboxMessages: ReadonlyArray<{ outbox: Pick<OutboxDoc, 'to'>; message: MessageDoc }>;
  perBatch: PerBatchWrites | null;
  /** Send facts the caller knows (a send result): reported to outbox-sender with the commit. */
  sendStatus: readonly SendStatusJob[];
  /** Report status changes of messages sent through the outbox to outbox-sender. */
  mirrorOutbox: boolean;
}

const NOTHING = {
  raw: [],
  mutations: [],
  hints: [],
  outboxMessages: [],
  perBatch: null,
  sendStatus: [],
} as const;

export interface SyncResult extends WriteResult {
  received: number;
  skipped: number;
  duplicates: number;
  threads: number;
}

/** The id of the thread a chat is filed under, after LID → phone mapping. */
export function threadFor(
  accountId: string,
  chatJid: string,
  lidToPn: ReadonlyMap<string, string>,
) {
  const jid = canonicalChatJid(chatJid, lidToPn);
  return { jid, threadId: threadIdFor(accountId, jid) };
}

export function seedFor(
  jid: string,
  displayName: string | null,
  phoneOf: (jid: string) => string | null = phoneE164FromJid,
): ThreadSeed {
  const group = isGroupJid(jid);
  return {
    clientJid: jid,
    phoneE164: group ? null : phoneOf(jid),
    isGroup: group,
    displayName: clip(displayName, 256),
  };
}

/** Loads the LID → phone mappings the given JIDs need (cached once known). */
export async function resolveIdentities(
  deps: IngestDeps,
  accountId: string,
  jids: Iterable<string>,
): Promise<Map<string, string>> {
  const cache = deps.identities.get(accountId);
  const missing = new Set<string>();
  for (const jid of jids) {
    const n = normalizeJid(jid);
    if (isLidJid(n) && !cache.has(n)) missing.add(n);
  }
  if (missing.size > 0) {
    for (const [lid, pn] of await deps.store.loadIdentities(accountId, missing)) cache.set(lid, pn);
  }
  return cache;
}

export function messageDoc(
  accountId: string,
  threadId: string,
  isGroup: boolean,
  item: Extract<InboundItem, { kind: 'content' }>,
  source: MessageSource,
  lidToPn: ReadonlyMap<string, string>,
  now: Date,
): MessageDoc {
  const participant =
    isGroup && item.key.participant !== null
      ? canonicalChatJid(item.key.participant, lidToPn)
      : null;
  return {
    accountId,
    threadId,
    direction: item.key.fromMe ? 'outbound' : 'inbound',
    body: clip(item.content.body, 65_536),
    type: item.content.type,
    media: item.content.media,
    tsClient: item.tsClient,
    tsServer: null,
    status: item.status,
    waKey: item.key,
    requestId: null,
    source,
    participant,
    senderName: clip(item.senderName, 256),
    quotedMessageId: item.content.quotedMessageId,
    deleted: false,
    editedBody: null,
    reactions: {},
    location: item.content.location,
    ...(item.resendRequested ? { resendRequested: true } : {}),
    createdAt: now,
    updatedAt: now,
  };
}

function mutationOf(item: Exclude<InboundItem, { kind: 'skip' | 'content' }>): Mutation {
  switch (item.kind) {
    case 'edit':
      return { editedBody: clip(item.body, 65_536) };
    case 'revoke':
      return { deleted: true };
    case 'reaction':
      return { reaction: { reactor: item.reactor, emoji: item.emoji } };
  }
}

/**
 * The one write path of ingest: reads what is stored for the messages of a job, decides what is
 * new (so counters only count messages that did not exist), and commits in batches. Callers hold
 * the account lock: one writer per account at a time is the ordering assumption that makes the
 * read-then-write of thread counters safe without transaction isolation.
 */
async function sync(deps: IngestDeps, input: SyncPlan, logger: Logger): Promise<SyncResult> {
  const { accountId, source } = input;
  const now = new Date();
  const classified: Array<{ raw: WaRawMessage; item: Exclude<InboundItem, { kind: 'skip' }> }> = [];
  let skipped = 0;
  for (const raw of input.raw) {
    if (isBroadcastJid(raw.key.remoteJid)) {
      skipped += 1;
      continue;
    }
    const item = classify(raw);
    if (item.kind === 'skip') {
      skipped += 1;
      logger.debug({ messageId: raw.key.id, reason: item.reason }, 'message skipped');
      continue;
    }
    classified.push({ raw, item });
  }
  const mutations = input.mutations.filter((m) => !isBroadcastJid(m.chatJid));
  const hints = input.hints.filter((h) => !isBroadcastJid(h.chatJid));

  const lidToPn = await resolveIdentities(deps, accountId, [
    ...classified.flatMap(({ raw }) => [raw.key.remoteJid, raw.key.participant ?? '']),
    ...mutations.map((m) => m.chatJid),
    ...hints.map((h) => h.chatJid),
  ]);

  // What to read: every thread touched, every message added or changed.
  const threadIds = new Set<string>();
  const messageKeys: Array<{ threadId: string; messageId: string }> = [];
  const located = classified.map(({ raw, item }) => {
    const { jid, threadId } = threadFor(accountId, raw.key.remoteJid, lidToPn);
    threadIds.add(threadId);
    const messageId = item.kind === 'content' ? item.key.id : item.targetId;
    messageKeys.push({ threadId, messageId });
    return { raw, item, jid, threadId };
  });
  const addressed = mutations.map((m) => {
    const { jid, threadId } = threadFor(accountId, m.chatJid, lidToPn);
    const target = m.threadId ?? threadId;
    // An empty thread id (a send result without its outbox document) can only be pending.
    if (target !== '') {
      threadIds.add(target);
      messageKeys.push({ threadId: target, messageId: m.messageId });
    }
    return { ...m, jid, threadId: target };
  });
  const hinted = hints.map((h) => ({ ...h, ...threadFor(accountId, h.chatJid, lidToPn) }));
  for (const h of hinted) if (h.create) threadIds.add(h.threadId);
  for (const { message } of input.outboxMessages) {
    threadIds.add(message.threadId);
    messageKeys.push({ threadId: message.threadId, messageId: message.waKey.id });
  }

  // Ingest writes every message in the same commit as its thread, so a thread that does not
  // exist has no messages: a history sync into new chats reads nothing but the threads.
  const threads = await deps.store.loadThreads(threadIds);
  const messages = await deps.store.loadMessages(
    messageKeys.filter((k) => threads.has(k.threadId)),
  );
  // Pending updates: for new messages flagged in the index, and for changes whose target is absent.
  const newIds = located
    .filter(
      (l) => l.item.kind === 'content' && !messages.has(messageKey(l.threadId, l.item.key.id)),
    )
    .map((l) => (l.item as { key: WaKey }).key.id);
  for (const { message } of input.outboxMessages) newIds.push(message.waKey.id);
  const flagged = await deps.pendingIndex.which(accountId, newIds);
  const absentTargets = [
    ...located
      .filter((l) => l.item.kind !== 'content')
      .map((l) => ({
        threadId: l.threadId,
        id: (l.item as { targetId: string }).targetId,
      })),
    ...addressed.map((a) => ({ threadId: a.threadId, id: a.messageId })),
  ]
    .filter((t) => !messages.has(messageKey(t.threadId, t.id)))
    .map((t) => t.id);
  const pending = await deps.store.loadPending(accountId, [...flagged, ...absentTargets]);

  const builder = new ChangeSetBuilder({ accountId, now, threads, messages, pending });
  // Parsing a number is the costliest step per message; one chat's JID gives one answer.
  const phones = new Map<string, string | null>();
  const phoneOf = (jid: string): string | null => {
    if (!phones.has(jid)) phones.set(jid, phoneE164FromJid(jid));
    return phones.get(jid)!;
  };
  const names = new Map<string, string>();
  for (const h of hinted) if (h.name !== null) names.set(h.threadId, h.name);
  for (const h of hinted) {
    if (!h.create && !threads.has(h.threadId)) continue;
    const seed = seedFor(h.jid, h.name, phoneOf);
    builder.ensureThread(h.threadId, {
      ...seed,
      ...(h.unreadCount !== null && h.unreadCount > 0 ? { unreadCount: h.unreadCount } : {}),
    });
  }
  let duplicates = 0;
  for (const { item, jid, threadId } of located) {
    if (item.kind === 'content') {
      const group = isGroupJid(jid);
      const name = names.get(threadId) ?? (group || item.key.fromMe ? null : item.senderName);
      const doc = messageDoc(accountId, threadId, group, item, source, lidToPn, now);
      if (!builder.addMessage(seedFor(jid, name, phoneOf), doc)) duplicates += 1;
    } else {
      const mutation = mutationOf(item);
      if (item.kind === 'edit' || item.kind === 'revoke') {
        mutation.author = {
          fromMe: item.key.fromMe,
          participant:
            isGroupJid(jid) && item.key.participant !== null
              ? canonicalChatJid(item.key.participant, lidToPn)
              : null,
        };
      }
      builder.mutate(threadId, item.targetId, mutation);
    }
  }
  for (const { outbox, message } of input.outboxMessages) {
    const jid = canonicalChatJid(outbox.to, lidToPn);
    if (!builder.addMessage(seedFor(jid, null, phoneOf), message)) duplicates += 1;
  }
  for (const a of addressed) builder.mutate(a.threadId, a.messageId, a.mutation);
  const changes = builder.build();
  if (deps.media !== undefined) await enqueueMediaJobs(deps.media, accountId, changes);

  // A message sent through the outbox: its owner (outbox-sender) moves the outbox on the fact.
  const facts: SendStatusJob[] = [...input.sendStatus];
  if (input.mirrorOutbox) {
    for (const s of changes.statusChanges) {
      if (s.requestId === null || !REPORTED.has(s.status)) continue;
      facts.push({
        requestId: s.requestId,
        status: s.status as SendStatusJob['status'],
        error: null,
        observedAt: now.toISOString(),
      });
    }
  }
  await reportSendStatus(deps.sendStatus, facts);

  await deps.pendingIndex.add(
    accountId,
    changes.pendingWrites.map((p) => p.messageId),
  );
  const result = await writeChangeSet(deps.store, changes, {
    accountId,
    now,
    maxWrites: deps.maxWrites,
    ...(input.perBatch !== null
      ? { reservePerBatch: input.perBatch.reserve, perBatch: input.perBatch.writes }
      : {}),
    onCommitted: (events: RealtimeEvent[]) => deps.publisher.publish(events),
  });
  await deps.pendingIndex.remove(accountId, changes.pendingApplied);
  return {
    ...result,
    received: input.raw.length,
    skipped,
    duplicates,
    threads: changes.threads.length,
  };
}

/** New messages from the socket (`ingest-messages`); their statuses reach the outbox. */
export function syncMessages(
  deps: IngestDeps,
  job: { accountId: string; source: MessageSource; raw: readonly WaRawMessage[] },
  logger: Logger,
): Promise<SyncResult> {
  return sync(deps, { ...NOTHING, ...job, mirrorOutbox: true }, logger);
}

/** A history chunk: its messages, the chats and contacts it names, its progress per commit. */
export function syncHistoryChunk(
  deps: IngestDeps,
  job: {
    accountId: string;
    source: MessageSource;
    raw: readonly WaRawMessage[];
    hints: readonly ThreadHint[];
    perBatch: PerBatchWrites;
  },
  logger: Logger,
): Promise<SyncResult> {
  return sync(deps, { ...NOTHING, ...job, mirrorOutbox: true }, logger);
}

/** Receipts, edits, revokes and reactions of stored messages; statuses reach the outbox. */
export function syncMessageChanges(
  deps: IngestDeps,
  accountId: string,
  mutations: readonly AddressedMutation[],
  logger: Logger,
): Promise<SyncResult> {
  return sync(
    deps,
    { ...NOTHING, accountId, source: 'live', mutations, mirrorOutbox: true },
    logger,
  );
}

/**
 * WhatsApp's answer to a send: the message's status (and the message itself when the accepted
 * copy is missing), with the fact for outbox-sender given by the caller, not mirrored.
 */
export function syncSendResult(
  deps: IngestDeps,
  accountId: string,
  result: {
    mutation: AddressedMutation;
    acked: { outbox: Pick<OutboxDoc, 'to'>; message: MessageDoc } | null;
    sendStatus: readonly SendStatusJob[];
  },
  logger: Logger,
): Promise<SyncResult> {
  return sync(
    deps,
    {
      ...NOTHING,
      accountId,
      source: 'live',
      mutations: [result.mutation],
      outboxMessages: result.acked === null ? [] : [result.acked],
      sendStatus: result.sendStatus,
      mirrorOutbox: false,
    },
    logger,
  );
}

/** A send the API accepted, shown in its conversation as `queued`. */
export function syncOutbound(
  deps: IngestDeps,
  accountId: string,
  accepted: { outbox: Pick<OutboxDoc, 'to'>; message: MessageDoc },
  logger: Logger,
): Promise<SyncResult> {
  return sync(
    deps,
    { ...NOTHING, accountId, source: 'live', outboxMessages: [accepted], mirrorOutbox: false },
    logger,
  );
}
