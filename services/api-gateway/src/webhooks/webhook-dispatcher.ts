import { createHash } from 'node:crypto';
import type { Firestore } from 'firebase-admin/firestore';
import type { Redis } from 'ioredis';
import { RealtimeChannel, type WebhookEventRecord } from '@wacrm/contracts';
import { compactWebhookEvents } from '@wacrm/firestore';
import type { Logger } from '@wacrm/observability';
import { enqueue } from '@wacrm/queue';
import type { QueueRegistry } from '../data-access/queues.js';
import type { WebhooksRepository } from './webhooks.repository.js';

export interface WebhookJobOptions {
  attempts: number;
  backoffMs: number;
}

/** A delivery is one recorded event for one subscription: the same pair always gets the same id. */
export function deliveryIdFor(eventId: string, subscriptionId: string): string {
  return createHash('sha256').update(`${eventId}|${subscriptionId}`).digest('hex').slice(0, 32);
}

export function webhookJobOptions(options: WebhookJobOptions, jobId: string) {
  return {
    jobId,
    attempts: options.attempts,
    backoff: { type: 'exponential', delay: options.backoffMs, jitter: 0.1 },
    removeOnComplete: { age: 7 * 24 * 3600 },
    removeOnFail: { age: 30 * 24 * 3600 },
  };
}

export interface DispatchDeps {
  repo: WebhooksRepository;
  queues: QueueRegistry;
  jobs: WebhookJobOptions;
}

/**
 * Turns one recorded event into a delivery (log entry + job) per matching subscription. Safe to
 * run again, by this replica after a crash or by another at the same time: the delivery id and
 * the job id come from the event id and the subscription, and a delivery already attempted is
 * left to its own retries.
 */
export async function dispatchEvent(
  deps: DispatchDeps,
  event: WebhookEventRecord,
  now = new Date(),
): Promise<number> {
  const subscriptions = await deps.repo.matching(event.accountId, event.type);
  let enqueued = 0;
  for (const { id: subscriptionId } of subscriptions) {
    const deliveryId = deliveryIdFor(event.eventId, subscriptionId);
    const created = await deps.repo.createDelivery(deliveryId, {
      subscriptionId,
      eventId: event.eventId,
      accountId: event.accountId,
      eventType: event.type,
      occurredAt: event.occurredAt,
      data: event.data,
      status: 'pending',
      attempts: 0,
      lastStatusCode: null,
      lastError: null,
      replays: 0,
      createdAt: now,
      updatedAt: now,
      deliveredAt: null,
    });
    if (!created) {
      // Made by an earlier pass: enqueue again only if no attempt was made (a crash between the
      // log entry and the job); the job id makes a job that exists the only one.
      const existing = await deps.repo.getDelivery(deliveryId);
      if (existing === undefined || existing.status !== 'pending' || existing.attempts > 0)
        continue;
    }
    await enqueue(
      deps.queues.webhooks,
      'deliver-webhook',
      {
        subscriptionId,
        deliveryId,
        eventId: event.eventId,
        eventType: event.type,
        accountId: event.accountId,
        occurredAt: new Date(Date.parse(event.occurredAt) || now.getTime()).toISOString(),
        data: event.data,
      },
      webhookJobOptions(deps.jobs, deliveryId),
    );
    enqueued += 1;
  }
  return enqueued;
}

/**
 * One pass: every undispatched record, oldest first, in pages; returns the records handled. A
 * record is marked only once every delivery of its events is enqueued (a crash before that
 * repeats it, harmlessly), the records of a page in one commit — or, when a record fails, the
 * ones before it.
 */
export async function dispatchRecorded(deps: DispatchDeps, pageSize = 100): Promise<number> {
  let handled = 0;
  for (;;) {
    const page = await deps.repo.undispatchedEvents(pageSize);
    const done: string[] = [];
    try {
      for (const { id, doc } of page) {
        for (const event of doc.events) await dispatchEvent(deps, event);
        done.push(id);
      }
    } finally {
      await deps.repo.markDispatched(done, new Date());
    }
    handled += page.length;
    if (page.length < pageSize) return handled;
  }
}

/**
 * Delivers from `webhookEvents`, the record ingest writes in the commit of each change
 * (issue 16 item 3): whatever was committed is delivered, however long no gateway ran, and an
 * event never depends on a live notification or a capped stream. Polls every `pollMs`; a live
 * notification on the realtime channel wakes it at once. Several replicas may run it: deliveries
 * are idempotent per (event, subscription). With `retention`, every `everyMs` (default 1 h) it
 * also deletes the records dispatched longer ago than `ms` whose deliveries were all delivered
 * (`compactWebhookEvents`); undispatched or undelivered ones are kept whatever their age.
 */
export async function startWebhookDispatcher(options: {
  reader: Redis;
  prefix: string;
  consumer: string;
  repo: WebhooksRepository;
  queues: QueueRegistry;
  jobs: WebhookJobOptions;
  logger: Logger;
  pollMs?: number;
  retention?: { db: Firestore; ms: number; everyMs?: number };
}): Promise<{ close(): Promise<void> }> {
  const { reader, logger, retention } = options;
  const pollMs = options.pollMs ?? 1_000;
  let compactedAt = -Infinity;
  const compact = async () => {
    if (retention === undefined || Date.now() - compactedAt < (retention.everyMs ?? 3_600_000)) {
      return;
    }
    compactedAt = Date.now();
    try {
      const { deleted, kept } = await compactWebhookEvents(retention.db, {
        retentionMs: retention.ms,
      });
      if (deleted > 0 || kept > 0) {
        logger.info(
          { deleted, keptUndelivered: kept, retentionMs: retention.ms },
          'webhook event records past retention compacted',
        );
      }
    } catch (error) {
      logger.warn({ err: error }, 'webhook event retention pass failed; tried again later');
    }
  };
  let stopped = false;
  let wake: (() => void) | undefined;
  const nap = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });
  reader.on('message', () => wake?.());
  // A nudge only: without it the next poll finds the same records.
  await reader.subscribe(RealtimeChannel).catch((error: unknown) => {
    logger.warn({ err: error }, 'webhook dispatcher polls only (realtime channel unavailable)');
  });

  const loop = async () => {
    while (!stopped) {
      try {
        const handled = await dispatchRecorded(options);
        if (handled > 0) logger.debug({ records: handled }, 'webhook events dispatched');
        await compact();
        await nap(pollMs);
      } catch (error) {
        if (stopped) break;
        logger.warn(
          { err: error },
          'webhook dispatch failed; undispatched events are retried (check Redis and Firestore)',
        );
        await nap(1_000);
      }
    }
  };
  const running = loop();
  return {
    async close() {
      stopped = true;
      wake?.();
      reader.disconnect();
      await running;
    },
  };
}
