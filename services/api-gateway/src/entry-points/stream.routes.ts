import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  AppError,
  realtimeEventAccountIds,
  type RealtimeEnd,
  type RealtimeEvent,
  type RealtimeResync,
} from '@wacrm/contracts';
import { Attr, SpanKind, startSpan } from '@wacrm/observability';
import {
  compareStreamIds,
  STREAM_ID,
  type RealtimeHub,
  type StreamEntry,
} from '../data-access/realtime.js';
import type { GatewayMetrics } from '../data-access/metrics.js';
import { StreamSlots } from '../domain/stream-slots.js';
import {
  canSeeAccount,
  requireAccount,
  requireOperation,
  type Principal,
} from '../domain/principal.js';
import { principalOf } from './auth.hook.js';
import { errorResponses } from './whatsapp.routes.js';
import { documentedRoutes } from './documented.js';

const StreamQuery = z.object({
  /** For clients that cannot set headers: the same as the Last-Event-ID header. */
  lastEventId: z.string().regex(STREAM_ID, 'an event id from this stream').optional(),
  accountId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .optional(),
});

const REPLAY_MAX = 10_000;

/**
 * How often an open stream derives its caller's principal again. With the auth caches (5 s for
 * keys and profiles, 10 s for ID-token revocation) a revoked or demoted caller's stream ends
 * within 25 s.
 */
export const STREAM_RECHECK_MS = 10_000;

/** Open streams one principal may hold on one replica (a browser needs one or two). */
export const STREAMS_PER_PRINCIPAL = 5;
/** Open streams on one replica in all. */
export const STREAMS_TOTAL = 2_000;
/**
 * Bytes a stream may have waiting for a slow client before it is ended with a `resync` (the
 * client reconnects with Last-Event-ID): a reader that does not read cannot grow our memory.
 */
export const STREAM_MAX_BUFFERED_BYTES = 1024 * 1024;

/**
 * Whether `principal` may see `event`, narrowed to `only` when given. An event of several accounts
 * (a client's) follows requireClient: any one of its accounts is enough.
 */
export function eventVisibleTo(
  principal: Principal,
  event: RealtimeEvent,
  only: string | undefined,
): boolean {
  const accountIds = realtimeEventAccountIds(event);
  if (only !== undefined && !accountIds.includes(only)) return false;
  return principal.accounts === 'all' || accountIds.some((a) => canSeeAccount(principal, a));
}

/** The end of an event's trace: the moment it was written to one SSE client. */
function tracePush(entry: StreamEntry, traceparent: string): void {
  startSpan('sse.push', {
    kind: SpanKind.PRODUCER,
    parent: { traceparent },
    attributes: {
      [Attr.accountId]: realtimeEventAccountIds(entry.event).join(','),
      [Attr.eventType]: entry.event.type,
      'wacrm.stream.id': entry.id,
    },
  }).end();
}

function frame(entry: StreamEntry): string {
  return `id: ${entry.id}\nevent: ${entry.event.type}\ndata: ${JSON.stringify(entry.event)}\n\n`;
}

/** A control frame (no id, so Last-Event-ID stays on the last event); shapes as documented. */
function controlFrame(...[event, data]: ['resync', RealtimeResync] | ['end', RealtimeEnd]): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * `GET /api/stream` (Server-Sent Events): thread, message, status, account and client events for the
 * caller's accounts. `Last-Event-ID` replays what was missed from the capped stream; when the
 * gap is older than the stream keeps, a `resync` event tells the client to reload from the API.
 */
export function streamRoutes(deps: {
  hub: RealtimeHub;
  metrics: GatewayMetrics;
  heartbeatMs?: number;
  slots?: StreamSlots;
}) {
  const slots =
    deps.slots ?? new StreamSlots({ perPrincipal: STREAMS_PER_PRINCIPAL, total: STREAMS_TOTAL });
  return (root: FastifyInstance): Promise<void> => {
    const app = documentedRoutes(root);
    app.get(
      '/api/stream',
      {
        config: { operation: 'read' },
        schema: {
          tags: ['realtime'],
          operationId: 'streamEvents',
          description:
            'Server-sent events of the accounts the caller may see; reconnect with Last-Event-ID to resume without a gap while the stream still holds it.',
          summary: 'Realtime events (text/event-stream); resume with the Last-Event-ID header',
          querystring: StreamQuery,
          // The frames' schema (RealtimeFrame) is put in the document by finishOpenApiDocument.
          response: { 200: z.string().describe('text/event-stream'), ...errorResponses },
        },
      },
      async (request, reply) => {
        let principal = principalOf(request);
        const header = request.headers['last-event-id'];
        const lastEventId =
          typeof header === 'string' && header !== '' ? header : request.query.lastEventId;
        if (lastEventId !== undefined && !STREAM_ID.test(lastEventId)) {
          throw new AppError('VALIDATION_FAILED', 'Last-Event-ID is not an id from this stream', {
            errors: [{ path: 'Last-Event-ID', message: 'an event id like 1700000000000-0' }],
          });
        }
        const only = request.query.accountId;
        if (only !== undefined && !canSeeAccount(principal, only)) {
          throw new AppError('FORBIDDEN', `no access to account ${only}`);
        }
        const visible = (entry: StreamEntry) => eventVisibleTo(principal, entry.event, only);
        const release = slots.acquire(`${principal.kind}:${principal.id}`);
        let closed = false;

        // Subscribe before replaying so nothing falls between the replay and the live feed.
        const buffered: StreamEntry[] = [];
        let replaying = true;
        let lastSent = lastEventId ?? '0-0';
        const raw = reply.raw;
        const write = (entry: StreamEntry) => {
          if (compareStreamIds(entry.id, lastSent) <= 0) return;
          lastSent = entry.id;
          if (!visible(entry)) return;
          if (closed) return;
          if (raw.writableLength > STREAM_MAX_BUFFERED_BYTES) {
            request.log.warn('SSE client too slow: stream ended, it resyncs');
            raw.end(controlFrame('resync', { reason: 'client too slow' }));
            close();
            return;
          }
          deps.metrics.realtimeLag.observe(
            Math.max(0, Date.now() - Date.parse(entry.event.at)) / 1000,
          );
          raw.write(frame(entry));
          if (entry.traceparent !== undefined) tracePush(entry, entry.traceparent);
        };
        const unsubscribe = deps.hub.subscribe((entry) =>
          replaying ? buffered.push(entry) : write(entry),
        );

        reply.hijack();
        raw.writeHead(200, {
          ...(reply.getHeaders() as Record<string, string>),
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          connection: 'keep-alive',
          'x-accel-buffering': 'no',
        });
        raw.write('retry: 3000\n\n');
        deps.metrics.sseClients.inc();
        const heartbeat = setInterval(() => raw.write(': ping\n\n'), deps.heartbeatMs ?? 15_000);
        const close = () => {
          if (closed) return;
          closed = true;
          clearInterval(heartbeat);
          clearInterval(recheck);
          release();
          unsubscribe();
          deps.metrics.sseClients.dec();
        };
        // The principal this stream filters with follows the credential: a revoked key or user,
        // a lost scope or a lost account ends the stream; a narrowed profile narrows it.
        const recheckPrincipal = request.recheckPrincipal;
        const recheck = setInterval(() => {
          if (recheckPrincipal === null) return;
          recheckPrincipal()
            .then((next) => {
              requireOperation(next, 'read');
              if (only !== undefined) requireAccount(next, only);
              principal = next;
            })
            .catch((error: unknown) => {
              if (closed) return;
              const reason = error instanceof Error ? error.message : 'credential no longer valid';
              request.log.info({ reason }, 'SSE stream ended: its credential changed');
              raw.end(controlFrame('end', { reason }));
              close();
            });
        }, STREAM_RECHECK_MS);
        request.raw.once('close', close);

        try {
          if (lastEventId !== undefined) {
            const oldest = await deps.hub.oldestId();
            if (oldest !== undefined && compareStreamIds(lastEventId, oldest) < 0) {
              // Older than the stream keeps: some events may be gone, so the client reloads.
              raw.write(
                controlFrame('resync', { reason: 'gap beyond the kept window', oldestId: oldest }),
              );
            }
            for (const entry of await deps.hub.replay(lastEventId, REPLAY_MAX)) write(entry);
          }
        } catch (error) {
          request.log.warn({ err: error }, 'SSE replay failed; the client resyncs');
          raw.write(controlFrame('resync', { reason: 'replay unavailable' }));
        }
        replaying = false;
        for (const entry of buffered.splice(0)) write(entry);
      },
    );
    return Promise.resolve();
  };
}
