import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { AppError, WebhooksQueue, type DeliverWebhookJob } from '@wacrm/contracts';
import {
  boundedFetch,
  OutboundFetchError,
  OutboundRefusedError,
  type OutboundPolicy,
} from '@wacrm/net';
import type { Logger } from '@wacrm/observability';
import { startWorker, type JobContext, type ShutdownRegistry } from '@wacrm/queue';
import type { GatewayMetrics } from '../data-access/metrics.js';
import type { WebhooksRepository } from './webhooks.repository.js';
import {
  signWebhook,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  type SecretBox,
} from './webhook-crypto.js';

export interface WebhookDeliveryDeps {
  repo: WebhooksRepository;
  secretBox: SecretBox;
  metrics: GatewayMetrics;
  timeoutMs: number;
  /** Which internal hosts receivers may be on (none by default): checked on every connection. */
  policy: OutboundPolicy;
  now?: () => Date;
}

/** Jobs enqueued before events were recorded have no event id: their delivery id stands in. */
function eventIdOf(job: DeliverWebhookJob): string {
  return job.eventId ?? job.deliveryId;
}

/** What is read of a receiver's answer (the status is what counts). */
const RESPONSE_BYTES = 64 * 1024;

/**
 * The request body integrators receive: `id` is the delivery id (this event for this
 * subscription), `eventId` the event's own id, the same for every subscription; both are stable
 * across retries and replays, so a receiver dedupes on either.
 */
export function webhookBody(job: DeliverWebhookJob): string {
  return JSON.stringify({
    id: job.deliveryId,
    eventId: eventIdOf(job),
    type: job.eventType,
    accountId: job.accountId,
    occurredAt: job.occurredAt,
    data: job.data,
  });
}

/**
 * One delivery attempt: POST the signed body; 2xx is delivered, anything else is recorded and
 * rethrown so BullMQ retries with backoff (the schedule lives in Redis, so it survives restarts).
 */
export async function deliverWebhook(
  job: DeliverWebhookJob,
  ctx: JobContext,
  deps: WebhookDeliveryDeps,
): Promise<{ status: number }> {
  const now = deps.now ?? (() => new Date());
  const subscription = await deps.repo.get(job.subscriptionId);
  if (subscription === undefined || !subscription.active) {
    await deps.repo.recordAttempt(job.deliveryId, {
      status: 'failed',
      statusCode: null,
      error: 'subscription disabled',
      at: now(),
    });
    throw new AppError('NOT_FOUND', `webhook ${job.subscriptionId} is disabled or gone`);
  }
  const body = webhookBody(job);
  const timestamp = Math.floor(now().getTime() / 1000);
  const lastAttempt = ctx.job.attemptsMade + 1 >= (ctx.job.opts.attempts ?? 1);
  let status: number | null = null;
  let error: string | null = null;
  let permanent = false;
  try {
    // A receiver's URL is a caller's choice: no internal address, no redirect, bounded.
    const response = await boundedFetch(subscription.url, {
      policy: deps.policy,
      maxBytes: RESPONSE_BYTES,
      timeoutMs: deps.timeoutMs,
      maxRedirects: 0,
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'wacrm-webhooks/1',
        [SIGNATURE_HEADER]: signWebhook(
          deps.secretBox.open(subscription.secretCiphertext),
          timestamp,
          body,
        ),
        [TIMESTAMP_HEADER]: String(timestamp),
        'x-wacrm-delivery': job.deliveryId,
        'x-wacrm-event-id': eventIdOf(job),
        'x-wacrm-event': job.eventType,
      },
      body,
    });
    status = response.status;
    if (status >= 200 && status < 300) {
      await deps.repo.recordAttempt(job.deliveryId, {
        status: 'delivered',
        statusCode: status,
        error: null,
        at: now(),
      });
      deps.metrics.webhookDeliveries.inc({ outcome: 'delivered' });
      ctx.logger.info({ deliveryId: job.deliveryId, status }, 'webhook delivered');
      return { status };
    }
    error = `receiver answered HTTP ${status}`;
  } catch (caught) {
    if (caught instanceof OutboundFetchError) status = caught.status;
    // A refused address stays refused; a redirect or an oversized answer is the receiver's
    // configuration: retrying cannot help.
    permanent =
      caught instanceof OutboundRefusedError ||
      (caught instanceof OutboundFetchError && caught.permanent);
    error = caught instanceof Error ? `${caught.name}: ${caught.message}` : 'request failed';
  }
  const final = lastAttempt || permanent;
  await deps.repo.recordAttempt(job.deliveryId, {
    status: final ? 'failed' : 'retrying',
    statusCode: status,
    error,
    at: now(),
  });
  deps.metrics.webhookDeliveries.inc({ outcome: final ? 'failed' : 'retrying' });
  ctx.logger.warn(
    { deliveryId: job.deliveryId, subscriptionId: job.subscriptionId, status, final },
    final
      ? 'webhook delivery failed for good; replay it from the delivery log'
      : 'webhook delivery failed; retrying with backoff',
  );
  if (permanent) throw new AppError('FORBIDDEN', error ?? 'refused', { retryable: false });
  throw new Error(error);
}

export function startWebhookWorker(
  deps: WebhookDeliveryDeps & {
    connection: Redis;
    prefix: string;
    logger: Logger;
    shutdown?: ShutdownRegistry;
    concurrency?: number;
  },
): Worker {
  return startWorker(
    WebhooksQueue,
    { 'deliver-webhook': (payload, ctx) => deliverWebhook(payload, ctx, deps) },
    {
      connection: deps.connection,
      prefix: deps.prefix,
      logger: deps.logger,
      tracerName: 'api-gateway',
      ...(deps.shutdown !== undefined ? { shutdown: deps.shutdown } : {}),
    },
    { concurrency: deps.concurrency ?? 8 },
  );
}
