import type { Firestore } from 'firebase-admin/firestore';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { readHistoryMediaProgress, webhookEventBacklog } from '@wacrm/firestore';
import type { Logger } from '@wacrm/observability';
import { listAccounts } from './accounts.repository.js';
import type { QueueRegistry } from './queues.js';

export interface GatewayMetrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  realtimeLag: Histogram;
  sendLatency: Histogram;
  sseClients: Gauge;
  webhookDeliveries: Counter<'outcome'>;
}

const STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

/**
 * What the gateway can measure: HTTP latency per route, queue depths, accounts by state, ingest
 * lag (age of the oldest job waiting in wa-inbound), realtime delivery lag, SSE clients and
 * webhook outcomes. Scrape-time gauges read Redis and Firestore only when /metrics is called.
 */
export function createGatewayMetrics(options: {
  registry: Registry;
  queues: QueueRegistry;
  db: Firestore;
  logger: Logger;
}): GatewayMetrics {
  const { registry, queues, db, logger } = options;
  const registers = [registry];

  new Gauge({
    name: 'wacrm_queue_jobs',
    help: 'Jobs per queue and state',
    labelNames: ['queue', 'state'],
    registers,
    async collect() {
      try {
        const all = [...queues.fixed, ...queues.openedCommands()];
        const counts = await Promise.all(all.map((q) => q.queue.getJobCounts(...STATES)));
        this.reset();
        all.forEach((q, i) => {
          for (const state of STATES)
            this.set({ queue: q.queue.name, state }, counts[i]?.[state] ?? 0);
        });
      } catch (error) {
        logger.warn({ err: error }, 'metrics: queue depths unavailable (Redis)');
      }
    },
  });

  // Transient failures retry until they succeed, so an outage shows here, not in `failed`:
  // delayed jobs that already failed at least once (the first 1,000 of each queue are sampled).
  // One sample per scrape feeds both gauges.
  const sampleRetrying = oneReadPerScrape(() => {
    const all = [...queues.fixed, ...queues.openedCommands()];
    return Promise.all(all.map((q) => q.queue.getDelayed(0, 999))).then((delayed) =>
      all.map((q, i) => {
        const failing = (delayed[i] ?? []).filter((j) => j.attemptsMade > 0);
        const oldest = Math.min(...failing.map((j) => j.timestamp));
        const age = failing.length > 0 ? Math.max(0, (Date.now() - oldest) / 1000) : 0;
        return { queue: q.queue.name, n: failing.length, age };
      }),
    );
  });
  for (const [name, help, field] of [
    [
      'wacrm_jobs_retrying',
      'Delayed jobs that failed at least once and wait for their next attempt',
      'n',
    ],
    [
      'wacrm_jobs_retrying_oldest_seconds',
      'Age of the oldest job among those retrying (0 when none)',
      'age',
    ],
  ] as const) {
    new Gauge({
      name,
      help,
      labelNames: ['queue'],
      registers,
      async collect() {
        try {
          const rows = await sampleRetrying();
          this.reset();
          for (const row of rows) this.set({ queue: row.queue }, row[field]);
        } catch (error) {
          logger.warn({ err: error }, 'metrics: retrying jobs unavailable (Redis)');
        }
      },
    });
  }

  // One read of the accounts per scrape feeds both gauges below.
  const sampleAccounts = oneReadPerScrape(() => listAccounts(db));
  new Gauge({
    name: 'wacrm_accounts',
    help: 'WhatsApp accounts by status',
    labelNames: ['status'],
    registers,
    async collect() {
      try {
        const accounts = await sampleAccounts();
        this.reset();
        const byStatus = new Map<string, number>();
        for (const { doc } of accounts)
          byStatus.set(doc.status, (byStatus.get(doc.status) ?? 0) + 1);
        for (const [status, n] of byStatus) this.set({ status }, n);
      } catch (error) {
        logger.warn({ err: error }, 'metrics: accounts unavailable (Firestore)');
      }
    },
  });

  new Gauge({
    name: 'wacrm_history_media',
    help: 'History media per account: total, stored, pending (queued or awaiting the phone), failed, expired',
    labelNames: ['account_id', 'state'],
    registers,
    async collect() {
      try {
        const accounts = await sampleAccounts();
        const progress = await readHistoryMediaProgress(db, accounts);
        this.reset();
        accounts.forEach(({ id }, i) => {
          const p = progress[i];
          if (p === undefined) return;
          for (const state of ['total', 'stored', 'pending', 'failed', 'expired'] as const)
            this.set({ account_id: id, state }, p[state]);
        });
      } catch (error) {
        logger.warn({ err: error }, 'metrics: history media unavailable (Firestore)');
      }
    },
  });

  new Gauge({
    name: 'wacrm_ingest_lag_seconds',
    help: 'Age of the oldest job waiting in wa-inbound (0 when none wait)',
    registers,
    async collect() {
      try {
        const inbound = queues.fixed.find((q) => q.queue.name === 'wa-inbound');
        const [oldest] = (await inbound?.queue.getJobs(['wait'], 0, 0, true)) ?? [];
        this.set(oldest !== undefined ? Math.max(0, (Date.now() - oldest.timestamp) / 1000) : 0);
      } catch (error) {
        logger.warn({ err: error }, 'metrics: ingest lag unavailable (Redis)');
      }
    },
  });

  // Webhook events recorded in their change's commit and not yet turned into deliveries: a
  // dispatcher that is down or failing shows here (one Firestore sample per scrape feeds both).
  const sampleBacklog = oneReadPerScrape(() => webhookEventBacklog(db));
  for (const [name, help, field] of [
    [
      'wacrm_webhook_events_undispatched',
      'Recorded webhook events not yet dispatched to deliveries (counted up to 10,000)',
      'count',
    ],
    [
      'wacrm_webhook_events_undispatched_oldest_seconds',
      'Age of the oldest webhook event not yet dispatched (0 when none)',
      'oldestSeconds',
    ],
  ] as const) {
    new Gauge({
      name,
      help,
      registers,
      async collect() {
        try {
          this.set((await sampleBacklog())[field]);
        } catch (error) {
          logger.warn({ err: error }, 'metrics: webhook backlog unavailable (Firestore)');
        }
      },
    });
  }

  return {
    registry,
    httpDuration: new Histogram({
      name: 'wacrm_http_request_duration_seconds',
      help: 'HTTP request duration by route (the send route gives the accept latency of a send)',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    realtimeLag: new Histogram({
      name: 'wacrm_realtime_delivery_lag_seconds',
      help: "From a realtime event's time to its write on an SSE connection",
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    sendLatency: new Histogram({
      name: 'wacrm_send_latency_seconds',
      help: 'From accepting POST /api/whatsapp/send to the WhatsApp server ack (status sent)',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800],
      registers,
    }),
    sseClients: new Gauge({ name: 'wacrm_sse_clients', help: 'Open SSE connections', registers }),
    webhookDeliveries: new Counter({
      name: 'wacrm_webhook_deliveries_total',
      help: 'Webhook delivery attempts by outcome',
      labelNames: ['outcome'],
      registers,
    }),
  };
}

/** `read`, shared by the gauges one scrape collects: read again only after a second. */
function oneReadPerScrape<T>(read: () => Promise<T>): () => Promise<T> {
  let last: { at: number; result: Promise<T> } | null = null;
  return () => {
    if (last === null || Date.now() - last.at > 1_000) last = { at: Date.now(), result: read() };
    return last.result;
  };
}
