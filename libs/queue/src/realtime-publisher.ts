import type { Redis } from 'ioredis';
import { RealtimeChannel, RealtimeEvent, realtimeEventAccountIds } from '@wacrm/contracts';
import { Attr, currentTraceparent, SpanKind, withSpan, type Logger } from '@wacrm/observability';

/**
 * Live notifications after each commit; Firestore stays the truth, so a lost one is only late.
 * Each message is the RealtimeEvent plus the `traceparent` of this publish, so the api-gateway's
 * relay and SSE push join the trace of the job that caused them (consumers parsing the event
 * with its schema never see the extra field). Shared by every service that commits something a
 * screen shows (ingest: threads and messages; crm-aggregator: client aggregates).
 */
export class RealtimePublisher {
  constructor(
    private readonly redis: Redis,
    private readonly logger: Logger,
  ) {}

  async publish(events: RealtimeEvent[]): Promise<void> {
    if (events.length === 0) return;
    try {
      await withSpan(
        'realtime.publish',
        {
          kind: SpanKind.PRODUCER,
          // Account ids and event types only: a client.updated's phone number never goes here.
          attributes: {
            [Attr.accountId]: realtimeEventAccountIds(events[0]!).join(','),
            [Attr.eventType]: [...new Set(events.map((e) => e.type))].join(','),
            [Attr.count]: events.length,
          },
        },
        async () => {
          const traceparent = currentTraceparent();
          const pipeline = this.redis.pipeline();
          for (const event of events) {
            const parsed = RealtimeEvent.parse(event);
            pipeline.publish(
              RealtimeChannel,
              JSON.stringify(traceparent !== undefined ? { ...parsed, traceparent } : parsed),
            );
          }
          await pipeline.exec();
        },
      );
    } catch (error) {
      this.logger.warn(
        { err: error, events: events.length },
        'realtime publish failed; clients resync from Firestore',
      );
    }
  }
}
