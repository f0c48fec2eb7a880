import { UnrecoverableError } from 'bullmq';
import { loadConfig, OutboxSenderEnv } from '@wacrm/config';
import { OutboxQueue, WaInboundQueue, waCommandsQueue } from '@wacrm/contracts';
import { initFirebaseFromEnv } from '@wacrm/firestore';
import {
  connectServiceRedis,
  bootService,
  openQueue,
  startWorker,
  serveWorkerOps,
  type ContractQueue,
} from '@wacrm/queue';
import { cachedAccounts } from './data-access/account-cache.js';
import { createGovernor } from './data-access/governor.js';
import { OutboxStore } from './data-access/outbox-store.js';
import { cancelOutbox } from './entry-points/cancel-outbox.processor.js';
import { relayOnce } from './entry-points/outbox-relay.js';
import { sendOutbox } from './entry-points/send-outbox.processor.js';
import { recordSendStatus } from './entry-points/send-status.processor.js';
import { VERSION } from './version.js';

const SERVICE = 'outbox-sender';
const config = loadConfig(SERVICE, OutboxSenderEnv);
const booted = bootService(SERVICE, VERSION, config);
const { instanceId, logger, shutdown } = booted;

const firebase = initFirebaseFromEnv(config);
shutdown.add('firebase', () => firebase.close());

const redis = await connectServiceRedis(booted, config.REDIS_URL);
const queueDeps = { connection: redis, prefix: config.QUEUE_PREFIX, tracerName: SERVICE };
const outboxQueue = openQueue(OutboxQueue, queueDeps);
shutdown.add('outbox queue', () => outboxQueue.queue.close());
const waInbound = openQueue(WaInboundQueue, queueDeps);
shutdown.add('wa-inbound queue', () => waInbound.queue.close());

const commandQueues = new Map<string, ContractQueue<ReturnType<typeof waCommandsQueue>>>();
function commandsFor(accountId: string): ContractQueue<ReturnType<typeof waCommandsQueue>> {
  let queue = commandQueues.get(accountId);
  if (queue === undefined) {
    queue = openQueue(waCommandsQueue(accountId), queueDeps);
    commandQueues.set(accountId, queue);
  }
  return queue;
}
shutdown.add('command queues', () =>
  Promise.all([...commandQueues.values()].map((q) => q.queue.close())),
);

const governor = createGovernor(redis, config.QUEUE_PREFIX);
const outbox = new OutboxStore(firebase.db, redis, config.QUEUE_PREFIX);
const accounts = cachedAccounts(firebase.db, 1_000);
const defaults = {
  ratePerMinute: config.OUTBOX_RATE_PER_MINUTE,
  burst: config.OUTBOX_BURST,
  minRecipientGapMs: config.OUTBOX_MIN_RECIPIENT_GAP_MS,
  dailyCap: config.OUTBOX_DAILY_CAP,
  jitterMs: config.OUTBOX_JITTER_MS,
  warmupDays: config.OUTBOX_WARMUP_DAYS,
};
if (!config.OUTBOX_PACING)
  logger.warn('OUTBOX_PACING is off: sends are not paced (benchmarks only)');

const worker = startWorker(
  OutboxQueue,
  {
    'send-outbox': (payload, ctx) =>
      sendOutbox(payload, {
        db: firebase.db,
        outbox,
        governor,
        defaults,
        pacing: config.OUTBOX_PACING,
        commandsFor,
        outboxQueue,
        waInbound,
        logger: ctx.logger,
        accounts,
      }),
    'send-status': (payload, ctx) => recordSendStatus(payload, { outbox, logger: ctx.logger }),
    'cancel-outbox': (payload, ctx) => cancelOutbox(payload, { outbox, logger: ctx.logger }),
  },
  { connection: redis, prefix: config.QUEUE_PREFIX, logger, tracerName: SERVICE, shutdown },
  { concurrency: config.OUTBOX_CONCURRENCY },
);
await serveWorkerOps(config, worker, { service: SERVICE, redis: redis, logger, shutdown });

// After the last attempt the outbox document says so, with the reason: nothing fails silently.
worker.on('failed', (job, error) => {
  const final =
    error instanceof UnrecoverableError ||
    (job !== undefined && job.attemptsMade >= (job.opts.attempts ?? 1));
  if (job === undefined || !final || job.name !== 'send-outbox') return;
  const { requestId } = job.data as { requestId: string };
  outbox
    .apply(requestId, { kind: 'job-failed', error: error.message })
    .catch((e: unknown) => logger.error({ err: e, requestId }, 'could not mark outbox failed'));
  logger.error({ requestId, err: error }, `outbox ${requestId} failed`);
});

const relayTimer = setInterval(() => {
  relayOnce({
    db: firebase.db,
    outbox,
    redis,
    outboxQueue,
    commandsFor,
    logger,
    instanceId,
    keyPrefix: config.QUEUE_PREFIX,
    relayAfterMs: config.OUTBOX_RELAY_AFTER_MS,
    staleSendingMs: 10 * 60_000,
    scheduleAheadMs: 3 * config.OUTBOX_RELAY_INTERVAL_MS,
  }).catch((error: unknown) =>
    logger.warn({ err: error }, 'outbox relay pass failed; next pass retries'),
  );
}, config.OUTBOX_RELAY_INTERVAL_MS);
shutdown.add('relay', () => Promise.resolve(clearInterval(relayTimer)));

logger.info({ pacing: config.OUTBOX_PACING, ...defaults }, 'outbox-sender started');
