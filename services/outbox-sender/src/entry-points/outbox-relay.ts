import { Job } from 'bullmq';
import type { Firestore, QueryDocumentSnapshot } from 'firebase-admin/firestore';
import type { Redis } from 'ioredis';
import type { OutboxDoc, OutboxQueue, waCommandsQueue } from '@wacrm/contracts';
import { collections } from '@wacrm/firestore';
import { Attr, withSpan, type Logger } from '@wacrm/observability';
import { enqueue, jobIdFrom, type ContractQueue } from '@wacrm/queue';
import type { OutboxStore } from '../data-access/outbox-store.js';

export interface RelayDeps {
  /** Accounts and messages are read here; the outbox only through `outbox`. */
  db: Firestore;
  outbox: OutboxStore;
  redis: Redis;
  outboxQueue: ContractQueue<typeof OutboxQueue>;
  commandsFor(accountId: string): ContractQueue<ReturnType<typeof waCommandsQueue>>;
  logger: Logger;
  instanceId: string;
  keyPrefix: string;
  /** A `queued` document older than this has missed its job (enqueue failed after the write). */
  relayAfterMs: number;
  /** A `sending` document this old whose command job is gone (Redis lost data) is handed over again. */
  staleSendingMs: number;
  /**
   * Scheduled sends due within this much are given a job waiting for their time when they have
   * none (Redis lost it), so they still go out on time, not a relay pass late (issue 19).
   */
  scheduleAheadMs?: number;
  batchSize?: number;
}

export interface RelayPass {
  requeued: number;
  /** Scheduled sends whose time came and whose delayed job was missing (Redis lost it). */
  due: number;
  resumed: number;
  repaired: number;
  /** `sending` documents WhatsApp had acknowledged: marked `sent`, never sent again. */
  acknowledged: number;
}

/** Ensures a `send-outbox` job exists for `requestId`, whatever became of an earlier one. */
/** Hands a document back to the queue inside the trace of the request that accepted it. */
function ensureSendJob(deps: RelayDeps, doc: QueryDocumentSnapshot<OutboxDoc>): Promise<boolean> {
  const { accountId, traceparent } = doc.data();
  const parent = traceparent == null ? {} : { parent: { traceparent } };
  return withSpan(
    'outbox.relay',
    { ...parent, attributes: { [Attr.accountId]: accountId, [Attr.requestId]: doc.id } },
    () => requeue(deps, doc.id, accountId),
  );
}

async function isWaiting(deps: RelayDeps, jobId: string): Promise<boolean> {
  const job = await Job.fromId(deps.outboxQueue.queue, jobId);
  if (job === undefined) return false;
  const state = await job.getState();
  return state !== 'completed' && state !== 'failed' && state !== 'unknown';
}

async function requeue(deps: RelayDeps, requestId: string, accountId: string): Promise<boolean> {
  const existing = await Job.fromId(deps.outboxQueue.queue, requestId);
  if (existing !== undefined) {
    const state = await existing.getState();
    if (state === 'failed') {
      await existing.retry('failed');
      return true;
    }
    if (state !== 'completed' && state !== 'unknown') return false;
  }
  const jobId =
    existing === undefined ? requestId : jobIdFrom(requestId, 'relay', String(Date.now()));
  await enqueue(deps.outboxQueue, 'send-outbox', { requestId, accountId }, { jobId });
  return true;
}

/**
 * One pass of the transactional-outbox relay. The outbox document is the truth; Redis only
 * carries work. Documents the queue lost track of are handed to it again, paused accounts that
 * are connected again resume. Only the holder of a short Redis lock runs a pass.
 */
export async function relayOnce(deps: RelayDeps, now = Date.now()): Promise<RelayPass | null> {
  const lockKey = `${deps.keyPrefix}:outbox-relay:lock`;
  const ttl = Math.max(5_000, deps.relayAfterMs);
  const locked = await deps.redis.set(lockKey, deps.instanceId, 'PX', ttl, 'NX');
  if (locked === null && (await deps.redis.get(lockKey)) !== deps.instanceId) return null;
  await deps.redis.pexpire(lockKey, ttl);

  const c = collections(deps.db);
  const limit = deps.batchSize ?? 200;
  const pass: RelayPass = { requeued: 0, due: 0, resumed: 0, repaired: 0, acknowledged: 0 };

  const queued = await deps.outbox.queuedBefore(new Date(now - deps.relayAfterMs), limit);
  for (const doc of queued) {
    if (await ensureSendJob(deps, doc)) pass.requeued += 1;
  }

  // The document is the truth of a schedule: one due (or about to be) without a waiting job gets
  // one; a job that runs before sendAt waits for it under the `at` id, which counts as waiting.
  const ahead = deps.scheduleAheadMs ?? 0;
  for (const doc of await deps.outbox.scheduledDue(new Date(now + ahead), limit)) {
    const sendAt = doc.data().sendAt?.getTime() ?? now;
    if (sendAt > now && (await isWaiting(deps, jobIdFrom(doc.id, 'at', String(sendAt))))) continue;
    if (await ensureSendJob(deps, doc)) pass.due += 1;
  }

  const paused = await deps.outbox.paused(limit);
  const accountConnected = new Map<string, boolean>();
  for (const doc of paused) {
    const { accountId } = doc.data();
    if (!accountConnected.has(accountId)) {
      const account = (await c.accounts().doc(accountId).get()).data();
      accountConnected.set(
        accountId,
        account !== undefined &&
          account.status === 'connected' &&
          (account.sendingPausedReason ?? null) === null,
      );
    }
    if (accountConnected.get(accountId) !== true) continue;
    await deps.outbox.apply(doc.id, { kind: 'resumed' }, new Date(now));
    await ensureSendJob(deps, doc);
    pass.resumed += 1;
  }

  const sending = await deps.outbox.sendingBefore(new Date(now - deps.staleSendingMs), limit);
  for (const doc of sending) {
    const { accountId, threadId, waMessageId } = doc.data();
    const command = await Job.fromId(deps.commandsFor(accountId).queue, jobIdFrom('send', doc.id));
    if (command !== undefined) continue;
    // WhatsApp may have acknowledged it already (only the outbox write was lost): the message
    // then says so, and sending again would deliver it twice. Read untyped: only the status counts.
    const message = await deps.db
      .collection('threads')
      .doc(threadId)
      .collection('messages')
      .doc(waMessageId)
      .get();
    const status = message.get('status') as unknown;
    if (status === 'sent' || status === 'delivered' || status === 'read') {
      await deps.outbox.apply(
        doc.id,
        { kind: 'status', status: 'sent', error: null },
        new Date(now),
      );
      pass.acknowledged += 1;
      continue;
    }
    if (await ensureSendJob(deps, doc)) pass.repaired += 1;
  }

  if (pass.requeued + pass.due + pass.resumed + pass.repaired + pass.acknowledged > 0) {
    deps.logger.warn(pass, 'outbox relay handed documents back to the queue');
  }
  return pass;
}
