import { AppError } from '@wacrm/contracts';
import { newAccountDoc, recordWebhookEvents } from '@wacrm/firestore';
import type {
  AccountDoc,
  AccountStateJob,
  OutboxDoc,
  RecordOutboundJob,
  HistoryChunkDoc,
  IdentityMappingsJob,
  IngestHistoryJob,
  IngestMessagesJob,
  MessageDoc,
  MessageUpdatesJob,
  RealtimeEvent,
  ReceiptsJob,
  SendResultJob,
  SendStatusJob,
} from '@wacrm/contracts';
import type { Logger } from '@wacrm/observability';
import type { LooseWrite } from '../data-access/change-writer.js';
import type { Mutation } from './change-set.js';
import { syncConversation, type AddressedMutation, type ThreadHint } from './conversation-sync.js';
import { applyIdentityMappings, normalizeMapping } from './identity-merge.js';
import type { IngestDeps } from './ingest-deps.js';
import { classify, statusFromWa } from './wa-message.js';

type FromGateway = {
  accountId: string;
  fencingToken: number;
  observedAt: string;
  instanceId: string;
};

/**
 * Records the sender's fencing token. Messages, receipts and edits are facts keyed by id that
 * only move forward, so a stale owner's copy of them is kept (dropping it could lose a message);
 * only account state from a stale owner is refused (see updateAccount).
 */
async function noteFence(deps: IngestDeps, job: FromGateway, logger: Logger): Promise<void> {
  const verdict = await deps.fence.check(job.accountId, job.fencingToken, job.observedAt, false);
  if (verdict === 'stale') {
    logger.warn(
      { accountId: job.accountId, fencingToken: job.fencingToken, instanceId: job.instanceId },
      'job from a stale owner of the account; its messages are kept (idempotent, forward-only)',
    );
  }
}

export async function ingestMessages(
  job: IngestMessagesJob,
  deps: IngestDeps,
  logger: Logger,
): Promise<unknown> {
  return deps.lock.run(job.accountId, async () => {
    await noteFence(deps, job, logger);
    const result = await syncConversation(
      deps,
      { accountId: job.accountId, source: job.source, raw: job.messages },
      logger,
    );
    logger.info({ accountId: job.accountId, ...result }, 'messages ingested');
    return result;
  });
}

function accountSeed(accountId: string, now: Date): AccountDoc {
  return newAccountDoc(accountId, null, now);
}

export async function ingestHistory(
  job: IngestHistoryJob,
  deps: IngestDeps,
  logger: Logger,
): Promise<unknown> {
  return deps.lock.run(job.accountId, async () => {
    await noteFence(deps, job, logger);
    const { accountId } = job;
    const mappings = job.contacts.flatMap((c) => {
      if (c.lid !== null && c.phoneNumber !== null) return [{ lid: c.lid, pn: c.phoneNumber }];
      if (c.phoneNumber !== null && c.id.endsWith('@lid'))
        return [{ lid: c.id, pn: c.phoneNumber }];
      return [];
    });
    if (mappings.some((m) => normalizeMapping(m.lid, m.pn) !== null)) {
      await applyIdentityMappings(deps, accountId, mappings, logger);
    }

    const [account, recorded] = await Promise.all([
      deps.store.loadAccount(accountId),
      deps.store.chunkRecorded(accountId, job.chunkId),
    ]);
    const now = new Date();
    // A chunk counts towards progress once: a replay rewrites nothing it already counted.
    const counting = !recorded;
    const running = account?.history.status === 'running';
    const base = {
      messages: running ? account.history.messages : 0,
      threads: running ? account.history.threads : 0,
      startedAt: running ? account.history.startedAt : now,
    };
    const hints: ThreadHint[] = [
      ...job.chats.map((c) => ({
        chatJid: c.id,
        name: c.name,
        unreadCount: c.unreadCount,
        create: true,
      })),
      ...job.contacts.map((c) => ({
        chatJid: c.id,
        name: c.name ?? c.notify,
        unreadCount: null,
        create: false,
      })),
    ];
    const chunkThreads = new Set([
      ...job.chats.map((c) => c.id),
      ...job.messages.map((m) => m.key.remoteJid),
    ]).size;
    const complete = job.progress === 100;
    let committedMessages = 0;
    const perBatch = ({ isLast, newMessages }: { isLast: boolean; newMessages: number }) => {
      committedMessages = newMessages;
      if (!counting) return [];
      const history = {
        status: isLast && complete ? ('completed' as const) : ('running' as const),
        messages: base.messages + newMessages,
        threads: base.threads + (isLast ? chunkThreads : 0),
        percent: isLast ? job.progress : running ? account.history.percent : null,
        startedAt: base.startedAt,
        completedAt: isLast && complete ? now : null,
      };
      const writes: LooseWrite[] = [
        {
          apply: (b) =>
            account === undefined
              ? b.set(deps.store.accountRef(accountId), { ...accountSeed(accountId, now), history })
              : b.set(
                  deps.store.accountRef(accountId),
                  { history, updatedAt: now },
                  { merge: true },
                ),
          events: [],
        },
      ];
      if (isLast) {
        const chunk: HistoryChunkDoc = {
          accountId,
          chunkId: job.chunkId,
          source: job.source,
          messages: newMessages,
          threads: chunkThreads,
          progress: job.progress,
          recordedAt: now,
        };
        writes.push({
          apply: (b) => b.set(deps.store.chunkRef(accountId, job.chunkId), chunk),
          events: [],
        });
      }
      return writes;
    };
    const result = await syncConversation(
      deps,
      {
        accountId,
        source: job.source,
        raw: job.messages,
        hints,
        reservePerBatch: 2,
        perBatch,
      },
      logger,
    );
    const total = base.messages + committedMessages;
    logger.info(
      { accountId, chunkId: job.chunkId, progress: job.progress, counted: counting, ...result },
      `${job.source} chunk ingested`,
    );
    if (counting && complete) {
      logger.info(
        { accountId, messages: total, threads: base.threads + chunkThreads },
        `${job.source === 'backfill' ? 'backfill' : 'history sync'} of ${accountId} done: ${total} messages`,
      );
    }
    return result;
  });
}

export async function updateMessages(
  job: MessageUpdatesJob,
  deps: IngestDeps,
  logger: Logger,
): Promise<unknown> {
  return deps.lock.run(job.accountId, async () => {
    await noteFence(deps, job, logger);
    const mutations: AddressedMutation[] = [];
    for (const update of job.updates) {
      const chatJid = update.key.remoteJid;
      const status = statusFromWa(update.status);
      if (status !== null) {
        // Our own messages move along sent → delivered → read; an inbound one can only be read.
        const mutation: Mutation = { status: update.key.fromMe ? status : 'read' };
        if (update.key.fromMe || status === 'read') {
          mutations.push({ chatJid, messageId: update.key.id, mutation });
        }
      }
      if (update.message !== null) {
        const item = classify({
          key: update.key,
          message: update.message,
          messageTimestamp: 0,
          pushName: null,
          status: null,
          messageStubType: null,
          messageStubParameters: null,
          undecryptable: false,
        });
        if (item.kind === 'edit') {
          mutations.push({
            chatJid,
            messageId: item.targetId,
            mutation: { editedBody: item.body },
          });
        } else if (item.kind === 'revoke') {
          mutations.push({ chatJid, messageId: item.targetId, mutation: { deleted: true } });
        } else if (item.kind === 'reaction') {
          mutations.push({
            chatJid,
            messageId: item.targetId,
            mutation: { reaction: { reactor: item.reactor, emoji: item.emoji } },
          });
        } else if (item.kind === 'content') {
          // Baileys reports an edit as the new content of the original key.
          mutations.push({
            chatJid,
            messageId: update.key.id,
            mutation: { editedBody: item.content.body },
          });
        }
      }
    }
    const result = await syncConversation(
      deps,
      { accountId: job.accountId, source: 'live', mutations },
      logger,
    );
    logger.info(
      { accountId: job.accountId, updates: job.updates.length, ...result },
      'message updates applied',
    );
    return result;
  });
}

export async function applyReceipts(
  job: ReceiptsJob,
  deps: IngestDeps,
  logger: Logger,
): Promise<unknown> {
  return deps.lock.run(job.accountId, async () => {
    await noteFence(deps, job, logger);
    const mutations: AddressedMutation[] = job.receipts.flatMap((r) => {
      const status =
        r.readTimestamp !== null ? 'read' : r.receiptTimestamp !== null ? 'delivered' : null;
      if (status === null) return [];
      return [{ chatJid: r.key.remoteJid, messageId: r.key.id, mutation: { status } }];
    });
    const result = await syncConversation(
      deps,
      { accountId: job.accountId, source: 'live', mutations },
      logger,
    );
    logger.info(
      { accountId: job.accountId, receipts: job.receipts.length, ...result },
      'receipts applied',
    );
    return result;
  });
}

export async function recordSendResult(
  job: SendResultJob,
  deps: IngestDeps,
  logger: Logger,
): Promise<unknown> {
  return deps.lock.run(job.accountId, async () => {
    await noteFence(deps, job, logger);
    const now = new Date();
    const outbox = (await deps.store.loadOutbox([job.requestId])).get(job.requestId);
    const permanentFailure = job.outcome === 'failed' && !job.retryable;
    const mutation: Mutation =
      job.outcome === 'sent'
        ? { status: 'sent', requestId: job.requestId }
        : permanentFailure
          ? { status: 'failed', requestId: job.requestId }
          : { requestId: job.requestId };
    const outboxMessages: Array<{ outbox: NonNullable<typeof outbox>; message: MessageDoc }> = [];
    const mutations: AddressedMutation[] = [];
    if (outbox !== undefined && job.outcome === 'sent') {
      // The send is in the conversation as soon as WhatsApp acknowledged it; the gateway's echo
      // of the same message id is then a duplicate.
      outboxMessages.push({
        outbox,
        message: outboundMessage(outbox, {
          accountId: job.accountId,
          waMessageId: job.waMessageId,
          requestId: job.requestId,
          status: 'sent',
          tsClient: new Date(job.observedAt),
          now,
        }),
      });
    }
    // Without an outbox document the thread is unknown: the change waits for the message.
    mutations.push({
      chatJid: outbox?.to ?? 'unknown@s.whatsapp.net',
      messageId: job.waMessageId,
      mutation,
      threadId: outbox?.threadId ?? '',
    });
    // The outbox's owner (outbox-sender) moves it on the fact; a retryable failure is retried
    // by the gateway and moves nothing.
    const sendStatus: SendStatusJob[] = [];
    if (job.outcome === 'sent' || permanentFailure) {
      sendStatus.push({
        requestId: job.requestId,
        status: job.outcome === 'sent' ? 'sent' : 'failed',
        error: job.outcome === 'sent' ? null : (job.error ?? 'send failed'),
        observedAt: job.observedAt,
      });
    }
    if (outbox === undefined) {
      logger.warn(
        { requestId: job.requestId, waMessageId: job.waMessageId },
        'send result without an outbox document; kept as a pending update of the message',
      );
    }
    const result = await syncConversation(
      deps,
      {
        accountId: job.accountId,
        source: 'live',
        mutations,
        outboxMessages,
        sendStatus,
        mirrorOutbox: false,
      },
      logger,
    );
    logger.info(
      { accountId: job.accountId, requestId: job.requestId, outcome: job.outcome, ...result },
      // The seeds' rollout guide watches for "outbox … sent".
      `outbox ${job.requestId} ${job.outcome}`,
    );
    return result;
  });
}

/** The conversation's copy of a message accepted through the outbox. */
export function outboundMessage(
  outbox: OutboxDoc,
  at: {
    accountId: string;
    waMessageId: string;
    requestId: string;
    status: MessageDoc['status'];
    tsClient: Date;
    now: Date;
  },
): MessageDoc {
  return {
    accountId: at.accountId,
    threadId: outbox.threadId,
    direction: 'outbound',
    body: outbox.body ?? outbox.media?.caption ?? null,
    type: outbox.media?.kind ?? 'text',
    media:
      outbox.media === null
        ? null
        : {
            kind: outbox.media.kind,
            mimetype: outbox.media.mimetype,
            size: null,
            fileName: outbox.media.fileName,
            caption: outbox.media.caption,
            directPath: null,
            url: outbox.media.url,
            mediaKeyBase64: null,
            fileSha256Base64: null,
            seconds: null,
            width: null,
            height: null,
          },
    tsClient: at.tsClient,
    tsServer: null,
    status: at.status,
    waKey: { id: at.waMessageId, remoteJid: outbox.to, fromMe: true, participant: null },
    requestId: at.requestId,
    source: 'live',
    participant: null,
    senderName: null,
    quotedMessageId: outbox.replyTo,
    deleted: false,
    editedBody: null,
    reactions: {},
    location: null,
    createdAt: at.now,
    updatedAt: at.now,
  };
}

/**
 * A send the API accepted: the conversation shows it as `queued` at once, written here so
 * threads keep one writer. The later send result only moves its status forward.
 */
export async function recordOutbound(
  job: RecordOutboundJob,
  deps: IngestDeps,
  logger: Logger,
): Promise<unknown> {
  return deps.lock.run(job.accountId, async () => {
    const outbox = (await deps.store.loadOutbox([job.requestId])).get(job.requestId);
    if (outbox === undefined) {
      throw new AppError('NOT_FOUND', `outbox/${job.requestId} does not exist`);
    }
    const now = new Date();
    const message = outboundMessage(outbox, {
      accountId: job.accountId,
      waMessageId: job.waMessageId,
      requestId: job.requestId,
      status: 'queued',
      tsClient: new Date(job.acceptedAt),
      now,
    });
    const result = await syncConversation(
      deps,
      {
        accountId: job.accountId,
        source: 'live',
        mutations: [],
        outboxMessages: [{ outbox, message }],
        loose: [],
        mirrorOutbox: false,
      },
      logger,
    );
    logger.info(
      { accountId: job.accountId, requestId: job.requestId, ...result },
      'outbound message recorded',
    );
    return result;
  });
}

export async function mapIdentities(
  job: IdentityMappingsJob,
  deps: IngestDeps,
  logger: Logger,
): Promise<unknown> {
  return deps.lock.run(job.accountId, async () => {
    await noteFence(deps, job, logger);
    const result = await applyIdentityMappings(deps, job.accountId, job.mappings, logger);
    logger.info({ accountId: job.accountId, ...result }, 'identity mappings applied');
    return result;
  });
}

export async function updateAccount(
  job: AccountStateJob,
  deps: IngestDeps,
  logger: Logger,
): Promise<unknown> {
  return deps.lock.run(job.accountId, async () => {
    const verdict = await deps.fence.check(job.accountId, job.fencingToken, job.observedAt, true);
    if (verdict === 'stale') {
      logger.warn(
        {
          accountId: job.accountId,
          fencingToken: job.fencingToken,
          instanceId: job.instanceId,
          status: job.status,
        },
        'account state from a stale owner (older fencing token or observation) dropped',
      );
      return { dropped: true };
    }
    const now = new Date();
    const observed = new Date(job.observedAt);
    const account = await deps.store.loadAccount(job.accountId);
    const fields = {
      status: job.status,
      qr: job.status === 'qr_ready' ? job.qr : null,
      // WhatsApp rotates a pairing QR about every 20 s; the client shows it until then.
      qrExpiresAt:
        job.status === 'qr_ready' && job.qr !== null ? new Date(observed.getTime() + 20_000) : null,
      pairingCode: job.pairingCode,
      ownerInstanceId: job.instanceId,
      lastError:
        job.reason !== null && job.status !== 'connected'
          ? `${job.reason}${job.disconnectCode !== null ? ` (code ${job.disconnectCode})` : ''}`
          : null,
      ...(job.phone !== null ? { phone: job.phone } : {}),
      ...(job.status === 'connected' ? { lastConnectedAt: observed } : {}),
      updatedAt: now,
    };
    const batch = deps.store.db.batch();
    const ref = deps.store.accountRef(job.accountId);
    if (account === undefined) batch.set(ref, { ...accountSeed(job.accountId, now), ...fields });
    else batch.set(ref, fields, { merge: true });
    const events: RealtimeEvent[] = [
      {
        type: 'account.status',
        accountId: job.accountId,
        status: job.status,
        at: now.toISOString(),
      },
    ];
    recordWebhookEvents(deps.store.db, batch, events, now);
    await batch.commit();
    await deps.publisher.publish(events);
    logger.info({ accountId: job.accountId, status: job.status }, 'account state recorded');
    return { status: job.status };
  });
}
