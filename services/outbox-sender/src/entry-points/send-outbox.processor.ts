import { Job } from 'bullmq';
import type { Firestore } from 'firebase-admin/firestore';
import type { OutboxQueue, WaInboundQueue, waCommandsQueue } from '@wacrm/contracts';
import {
  AppError,
  type OutboxDoc,
  type OutgoingMedia,
  type SendOutboxJob,
  type WaKey,
} from '@wacrm/contracts';
import { collections } from '@wacrm/firestore';
import { Attr, setSpanAttributes, type Logger } from '@wacrm/observability';
import { enqueue, jobIdFrom, type ContractQueue } from '@wacrm/queue';
import type { AccountReader } from '../data-access/account-cache.js';
import type { OutboxStore } from '../data-access/outbox-store.js';
import type { Governor } from '../data-access/governor.js';
import { effectivePolicy, type PolicyDefaults } from '../domain/send-policy.js';

export interface SendOutboxDeps {
  /** Accounts and quoted messages are read here; the outbox only through `outbox`. */
  db: Firestore;
  outbox: OutboxStore;
  governor: Governor;
  defaults: PolicyDefaults;
  pacing: boolean;
  /** Where a scheduled send that came due is re-queued if its job ran early (issue 19). */
  outboxQueue?: ContractQueue<typeof OutboxQueue>;
  /** Ingest's queue: a scheduled send enters the conversation when it comes due. */
  waInbound?: ContractQueue<typeof WaInboundQueue>;
  /** The command queue of one account (opened once per account and kept). */
  commandsFor(accountId: string): ContractQueue<ReturnType<typeof waCommandsQueue>>;
  logger: Logger;
  /** Where account documents come from (a short-lived cache in production); Firestore if unset. */
  accounts?: AccountReader;
  now?: () => number;
}

export type SendOutboxOutcome =
  | { handedOver: true; sendAt: number; commandJobId: string }
  | { handedOver: false; reason: string };

/**
 * A scheduled send (issue 19) whose job ran: before its time, it is queued again for its time
 * (a job that ran early, e.g. one the relay made after Redis lost the delayed one); at its time,
 * it enters the conversation (record-outbound, as the send route does for an immediate send)
 * and becomes `queued`, to be paced like any other. Null when it is due and now `queued`.
 */
async function comeDue(
  payload: SendOutboxJob,
  outbox: OutboxDoc,
  deps: SendOutboxDeps,
  now: number,
): Promise<SendOutboxOutcome | null> {
  const sendAt = outbox.sendAt?.getTime() ?? now;
  if (sendAt > now) {
    if (deps.outboxQueue === undefined) {
      throw new AppError('INTERNAL', `outbox/${payload.requestId} ran before its sendAt`);
    }
    await enqueue(deps.outboxQueue, 'send-outbox', payload, {
      jobId: jobIdFrom(payload.requestId, 'at', String(sendAt)),
      delay: sendAt - now,
    });
    return { handedOver: false, reason: `scheduled for ${new Date(sendAt).toISOString()}` };
  }
  if (deps.waInbound !== undefined) {
    // Keyed by the requestId like the send route's: a retry re-adds nothing.
    await enqueue(
      deps.waInbound,
      'record-outbound',
      {
        accountId: outbox.accountId,
        requestId: payload.requestId,
        threadId: outbox.threadId,
        to: outbox.to,
        waMessageId: outbox.waMessageId,
        acceptedAt: new Date(sendAt).toISOString(),
      },
      { jobId: `outbound.${payload.requestId}` },
    );
  }
  const status = await deps.outbox.apply(payload.requestId, { kind: 'due' }, new Date(now));
  if (status !== 'queued') return { handedOver: false, reason: `already ${status}` };
  deps.logger.info(
    { requestId: payload.requestId, lateMs: now - sendAt },
    `scheduled outbox ${payload.requestId} came due`,
  );
  return null;
}

/**
 * Hands one outbox document to its account's command queue at the time the governor picks.
 * Idempotent: the command's job id comes from the requestId, so a retry after a crash never
 * makes a second command; a document left `sending` without one is completed by the retry.
 */
export async function sendOutbox(
  payload: SendOutboxJob,
  deps: SendOutboxDeps,
): Promise<SendOutboxOutcome> {
  const now = deps.now?.() ?? Date.now();
  const c = collections(deps.db);
  const readAccount = (accountId: string) =>
    deps.accounts?.get(accountId) ??
    c
      .accounts()
      .doc(accountId)
      .get()
      .then((s) => s.data());
  // Both reads at once: they are on every send's critical path.
  const [firstSnap, jobAccount] = await Promise.all([
    deps.outbox.get(payload.requestId),
    readAccount(payload.accountId),
  ]);
  let outboxSnap = firstSnap;
  let outbox = outboxSnap.data();
  if (outbox === undefined) {
    throw new AppError('NOT_FOUND', `outbox/${payload.requestId} does not exist`);
  }
  if (outbox.status === 'scheduled') {
    const due = await comeDue(payload, outbox, deps, now);
    if (due !== null) return due;
    outboxSnap = await deps.outbox.get(payload.requestId);
    outbox = outboxSnap.data()!;
  }
  setSpanAttributes({
    [Attr.accountId]: outbox.accountId,
    [Attr.messageId]: outbox.waMessageId,
    [Attr.requestId]: payload.requestId,
  });
  if (outbox.status !== 'queued' && outbox.status !== 'sending' && outbox.status !== 'paused') {
    return { handedOver: false, reason: `already ${outbox.status}` };
  }
  const commandJobId = jobIdFrom('send', payload.requestId);
  // A retry after a completed hand-over: the command exists, so change nothing (no second slot).
  if (
    outbox.status === 'sending' &&
    (await Job.fromId(deps.commandsFor(outbox.accountId).queue, commandJobId))
  ) {
    return { handedOver: false, reason: 'already handed over' };
  }
  // The job names the account; the document is the truth if they ever disagree.
  const account =
    outbox.accountId === payload.accountId ? jobAccount : await readAccount(outbox.accountId);
  if (account === undefined) {
    throw new AppError(
      'NOT_FOUND',
      `account ${outbox.accountId} of outbox/${payload.requestId} does not exist`,
    );
  }
  // WhatsApp refused this number (logged out, banned): keep the message, send nothing.
  const pausedReason =
    account.status === 'logged_out' ? 'account logged out' : (account.sendingPausedReason ?? null);
  if (pausedReason !== null) {
    if (outbox.status !== 'paused') {
      await deps.outbox.apply(
        payload.requestId,
        { kind: 'paused', reason: pausedReason },
        new Date(now),
        outboxSnap,
      );
      deps.logger.warn(
        { requestId: payload.requestId, accountId: outbox.accountId, reason: pausedReason },
        'outbox paused',
      );
    }
    return { handedOver: false, reason: pausedReason };
  }

  let replyTo: WaKey | undefined;
  if (outbox.replyTo !== null) {
    const quoted = (await c.messages(outbox.threadId).doc(outbox.replyTo).get()).data();
    if (quoted === undefined) {
      throw new AppError(
        'NOT_FOUND',
        `quoted message ${outbox.replyTo} is not in thread ${outbox.threadId}`,
      );
    }
    replyTo = quoted.waKey;
  }
  let media: OutgoingMedia | undefined;
  if (outbox.media !== null) {
    const { url, mediaId } = outbox.media;
    if (url === null && (mediaId === null || mediaId === undefined))
      throw new AppError('VALIDATION_FAILED', 'outbox media has no url or media id');
    media = {
      kind: outbox.media.kind,
      ...(url !== null ? { url } : { mediaId: mediaId! }),
      mimetype: outbox.media.mimetype,
      ...(outbox.media.fileName !== null ? { fileName: outbox.media.fileName } : {}),
      ...(outbox.media.caption !== null ? { caption: outbox.media.caption } : {}),
    };
  }

  const policy = effectivePolicy(deps.defaults, account.sendPolicy, account.pairedAt, now);
  const sendAt = deps.pacing
    ? await deps.governor.schedule(outbox.accountId, outbox.to, policy, now)
    : now;
  // `sending` is written before the command exists: once it is queued the gateway may send it
  // and ingest record `sent` at any moment, and a later write here would move the status back.
  // A crash between the two leaves `sending` without a command, which the retry (or the relay's
  // stale-sending pass) completes.
  // The snapshot read above is still current: nothing else writes before the command exists.
  await deps.outbox.apply(payload.requestId, { kind: 'sending' }, new Date(now), outboxSnap);
  await enqueue(
    deps.commandsFor(outbox.accountId),
    'send-message',
    {
      requestId: payload.requestId,
      accountId: outbox.accountId,
      to: outbox.to,
      waMessageId: outbox.waMessageId,
      ...(outbox.body !== null ? { text: outbox.body } : {}),
      ...(media !== undefined ? { media } : {}),
      ...(replyTo !== undefined ? { replyTo } : {}),
    },
    { jobId: commandJobId, delay: Math.max(0, sendAt - now) },
  );
  deps.logger.info(
    {
      requestId: payload.requestId,
      accountId: outbox.accountId,
      delayMs: sendAt - now,
      warmup: policy.warmupFactor,
    },
    `outbox ${payload.requestId} handed to wa-gateway`,
  );
  return { handedOver: true, sendAt, commandJobId };
}
