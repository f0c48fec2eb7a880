import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { WaInboundQueue } from '@wacrm/contracts';
import { startWorker, type ShutdownRegistry } from '@wacrm/queue';
import type { IngestDeps } from '../domain/ingest-deps.js';
import { mapIdentities, updateAccount } from '../domain/account.handlers.js';
import { ingestHistory } from '../domain/history.handlers.js';
import { applyReceipts, ingestMessages, updateMessages } from '../domain/messages.handlers.js';
import { recordOutbound, recordSendResult } from '../domain/send.handlers.js';
import { markRead } from '../domain/read-mark.js';
import { reindexSearch } from '../domain/search-backfill.js';

export interface InboundWorkerOptions {
  connection: Redis;
  prefix: string;
  concurrency: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  tracerName?: string;
  shutdown?: ShutdownRegistry;
}

/**
 * The `wa-inbound` consumer. Jobs of different accounts run side by side; one account's jobs
 * take turns (IngestDeps.lock). A SIGKILLed worker's jobs come back after the lock duration and
 * replay harmlessly; like every worker's (startWorker), a job may stall many times before it is
 * given up.
 */
export function startInboundWorker(deps: IngestDeps, options: InboundWorkerOptions): Worker {
  return startWorker(
    WaInboundQueue,
    {
      'ingest-messages': (p, ctx) => ingestMessages(p, deps, ctx.logger),
      'ingest-history': (p, ctx) => ingestHistory(p, deps, ctx.logger),
      'update-messages': (p, ctx) => updateMessages(p, deps, ctx.logger),
      'apply-receipts': (p, ctx) => applyReceipts(p, deps, ctx.logger),
      'update-account': (p, ctx) => updateAccount(p, deps, ctx.logger),
      'map-identities': (p, ctx) => mapIdentities(p, deps, ctx.logger),
      'record-send-result': (p, ctx) => recordSendResult(p, deps, ctx.logger),
      'record-outbound': (p, ctx) => recordOutbound(p, deps, ctx.logger),
      'mark-read': (p, ctx) => markRead(p, deps, ctx.logger),
      'reindex-search': (p, ctx) => reindexSearch(p, deps, ctx.logger),
    },
    {
      connection: options.connection,
      prefix: options.prefix,
      logger: deps.logger,
      ...(options.tracerName !== undefined ? { tracerName: options.tracerName } : {}),
      ...(options.shutdown !== undefined ? { shutdown: options.shutdown } : {}),
    },
    {
      concurrency: options.concurrency,
      lockDuration: options.lockDurationMs,
      stalledInterval: options.stalledIntervalMs,
    },
  );
}
