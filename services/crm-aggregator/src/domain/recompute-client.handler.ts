import type { RecomputeClientJob } from '@wacrm/contracts';
import type { Logger } from '@wacrm/observability';
import type { RealtimePublisher } from '@wacrm/queue';
import type { ClientLock } from '../data-access/client-lock.js';
import type { ClientStore } from '../data-access/client-store.js';
import { aggregateClient, sameAggregate } from '@wacrm/firestore';

export interface RecomputeDeps {
  store: ClientStore;
  lock: ClientLock;
  logger: Logger;
  /** Announces `client.updated` after a write, so open client screens refresh at once. */
  publisher: Pick<RealtimePublisher, 'publish'>;
  now?: () => Date;
}

export interface RecomputeResult {
  phoneE164: string;
  eventsCount: number;
  lifetimeSpendPaid: number;
  /** False when the stored aggregate was already right. */
  written: boolean;
}

/**
 * Recomputes `clients/{phoneE164}` from the events themselves, under the client's lock. The
 * Firestore emulator has no transaction isolation, so correctness comes from this serialisation:
 * the read of every event and the write of the aggregate never interleave with another run's.
 * Only a recompute that changed the document announces it.
 */
export async function recomputeClient(
  payload: RecomputeClientJob,
  deps: RecomputeDeps,
): Promise<RecomputeResult> {
  const { phoneE164 } = payload;
  return deps.lock.withLock(phoneE164, async () => {
    const [events, threads, stored] = await Promise.all([
      deps.store.events(phoneE164),
      deps.store.threads(phoneE164),
      deps.store.client(phoneE164),
    ]);
    const now = deps.now?.() ?? new Date();
    const next = aggregateClient(phoneE164, events, threads, now);
    const written = stored === undefined || !sameAggregate(stored, next);
    if (written) {
      await deps.store.saveClient(next);
      // Still under the lock, so two announcements for one client go out in commit order. The
      // phone rides only in the event (SSE serves it to principals of these accounts only).
      await deps.publisher.publish([
        {
          type: 'client.updated',
          phoneE164,
          accountIds: next.accountIds,
          at: now.toISOString(),
        },
      ]);
    }
    deps.logger.info(
      {
        reason: payload.reason,
        eventId: payload.eventId,
        eventsCount: next.eventsCount,
        written,
      },
      'client aggregate recomputed',
    );
    return {
      phoneE164,
      eventsCount: next.eventsCount,
      lifetimeSpendPaid: next.lifetimeSpendPaid,
      written,
    };
  });
}
