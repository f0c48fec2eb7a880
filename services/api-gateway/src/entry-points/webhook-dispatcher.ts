import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { WebhookEventType, type RealtimeEvent } from '@wacrm/contracts';
import type { Logger } from '@wacrm/observability';
import { enqueue } from '@wacrm/queue';
import type { QueueRegistry } from '../data-access/queues.js';
import { realtimeStreamKey, type StreamEntry } from '../data-access/realtime.js';
import type { WebhooksRepository } from '../data-access/webhooks.repository.js';

const GROUP = 'webhooks';

export interface WebhookJobOptions {
  attempts: number;
  backoffMs: number;
}

/** A delivery is one stream entry for one subscription: the same pair always gets the same id. */
export function deliveryIdFor(streamId: string, subscriptionId: string): string {
  return createHash('sha256').update(`${streamId}|${subscriptionId}`).digest('hex').slice(0, 32);
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

/** Writes the delivery log entries and enqueues one job per matching subscription. */
export async function dispatchEvent(
  deps: { repo: WebhooksRepository; queues: QueueRegistry; jobs: WebhookJobOptions },
  entry: StreamEntry,
): Promise<number> {
  const event: RealtimeEvent = entry.event;
  // Client aggregates are a screen refresh hint, not a webhook event type.
  if (event.type === 'client.updated') return 0;
  const type = WebhookEventType.parse(event.type);
  const subscriptions = await deps.repo.matching(event.accountId, type);
  const now = new Date();
  for (const { id: subscriptionId } of subscriptions) {
    const deliveryId = deliveryIdFor(entry.id, subscriptionId);
    const data = { ...event } as Record<string, unknown>;
    await deps.repo.createDelivery(deliveryId, {
      subscriptionId,
      accountId: event.accountId,
      eventType: type,
      occurredAt: event.at,
      data,
      status: 'pending',
      attempts: 0,
      lastStatusCode: null,
      lastError: null,
      replays: 0,
      createdAt: now,
      updatedAt: now,
      deliveredAt: null,
    });
    // The job id is the delivery id, so a stream entry handled twice enqueues once.
    await enqueue(
      deps.queues.webhooks,
      'deliver-webhook',
      {
        subscriptionId,
        deliveryId,
        eventType: type,
        accountId: event.accountId,
        occurredAt: new Date(Date.parse(event.at) || now.getTime()).toISOString(),
        data,
      },
      webhookJobOptions(deps.jobs, deliveryId),
    );
  }
  return subscriptions.length;
}

/**
 * Reads the realtime stream through a consumer group, so with several gateway replicas each
 * event is dispatched by one of them, and an entry a crashed replica had read is claimed by
 * another after `claimIdleMs`. Entries are acknowledged only once their jobs are enqueued.
 */
export async function startWebhookDispatcher(options: {
  reader: Redis;
  prefix: string;
  consumer: string;
  repo: WebhooksRepository;
  queues: QueueRegistry;
  jobs: WebhookJobOptions;
  logger: Logger;
  blockMs?: number;
  claimIdleMs?: number;
}): Promise<{ close(): Promise<void> }> {
  const key = realtimeStreamKey(options.prefix);
  const { reader, logger } = options;
  try {
    await reader.xgroup('CREATE', key, GROUP, '$', 'MKSTREAM');
  } catch (error) {
    if (!String(error).includes('BUSYGROUP')) throw error;
  }
  let stopped = false;
  let lastClaim = 0;

  const handle = async (raw: Array<[string, string[]]>) => {
    for (const [id, fields] of raw) {
      const index = fields.indexOf('e');
      let entry: StreamEntry | undefined;
      try {
        entry = { id, event: JSON.parse(fields[index + 1] ?? 'null') as RealtimeEvent };
        WebhookEventType.parse(entry.event.type);
      } catch {
        entry = undefined;
      }
      if (entry !== undefined) await dispatchEvent(options, entry);
      await reader.xack(key, GROUP, id);
    }
  };

  const loop = async () => {
    while (!stopped) {
      try {
        if (Date.now() - lastClaim > (options.claimIdleMs ?? 60_000)) {
          lastClaim = Date.now();
          const claimed = (await reader.xautoclaim(
            key,
            GROUP,
            options.consumer,
            options.claimIdleMs ?? 60_000,
            '0-0',
            'COUNT',
            100,
          )) as [string, Array<[string, string[]] | null>];
          await handle(claimed[1].filter((e): e is [string, string[]] => e !== null));
        }
        const result = (await reader.xreadgroup(
          'GROUP',
          GROUP,
          options.consumer,
          'COUNT',
          100,
          'BLOCK',
          options.blockMs ?? 5_000,
          'STREAMS',
          key,
          '>',
        )) as Array<[string, Array<[string, string[]]>]> | null;
        await handle(result?.[0]?.[1] ?? []);
      } catch (error) {
        if (stopped) break;
        logger.warn(
          { err: error },
          'webhook dispatch failed; unacknowledged events are retried (check Redis and Firestore)',
        );
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  };
  const running = loop();
  return {
    async close() {
      stopped = true;
      reader.disconnect();
      await running;
    },
  };
}
