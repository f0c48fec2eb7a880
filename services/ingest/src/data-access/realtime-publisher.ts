import type { Redis } from 'ioredis';
import { RealtimeChannel, RealtimeEvent } from '@wacrm/contracts';
import type { Logger } from '@wacrm/observability';

/** Live notifications after each commit; Firestore stays the truth, so a lost one is only late. */
export class RealtimePublisher {
  constructor(
    private readonly redis: Redis,
    private readonly logger: Logger,
  ) {}

  async publish(events: RealtimeEvent[]): Promise<void> {
    if (events.length === 0) return;
    try {
      const pipeline = this.redis.pipeline();
      for (const event of events) {
        pipeline.publish(RealtimeChannel, JSON.stringify(RealtimeEvent.parse(event)));
      }
      await pipeline.exec();
    } catch (error) {
      this.logger.warn(
        { err: error, events: events.length },
        'realtime publish failed; clients resync from Firestore',
      );
    }
  }
}
