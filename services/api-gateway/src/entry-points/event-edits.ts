import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError, EventIfMatch } from '@wacrm/contracts';
import { collections, versionOf, type EditedEvent } from '@wacrm/firestore';
import { RedisFencedLock } from '@wacrm/queue';
import { docId } from '../domain/doc-id.js';
import { requireAccount, type Principal } from '../domain/principal.js';
import { toEventView } from '../domain/views.js';
import { idempotencyKeyOf } from './request-id.js';
import type { RouteDeps } from './route-deps.js';

/**
 * The one write path of an event's edits, archives and payments (issue 16 item 4, issue 19):
 * the event's lock, the performer/costume locks of a booking, `If-Match` and Idempotency-Key.
 */
export function eventEditing(deps: Pick<RouteDeps, 'db' | 'redis' | 'queues'>) {
  // Edits of one event run one at a time across replicas (issue 16 item 4).
  const eventLock = new RedisFencedLock(deps.redis, deps.queues.prefix, { name: 'evenimente' });
  // Bookings of one performer or costume are checked and written one at a time (issue 19).
  const resourceLock = new RedisFencedLock(deps.redis, deps.queues.prefix, {
    name: 'booking-resources',
  });

  /** The locks, `If-Match` version and Idempotency-Key of an edit, archive or payment. */
  function optionsOf(request: FastifyRequest) {
    const header = request.headers['if-match'];
    let expectedVersion: number | undefined;
    if (typeof header === 'string') {
      const parsed = EventIfMatch.safeParse(header);
      if (!parsed.success) {
        throw new AppError('VALIDATION_FAILED', 'If-Match: the event\'s ETag, e.g. "3"', {
          errors: [{ path: 'If-Match', message: 'not an event version' }],
        });
      }
      expectedVersion = parsed.data;
    }
    const idempotencyKey = idempotencyKeyOf(request);
    return {
      lock: eventLock,
      resourceLock,
      ...(expectedVersion !== undefined ? { expectedVersion } : {}),
      ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
    };
  }

  function sendEdited(reply: FastifyReply, saved: EditedEvent) {
    void reply.header('etag', `"${versionOf(saved.event)}"`);
    if (saved.replayed) void reply.header('idempotent-replayed', 'true');
    return toEventView(saved.eventId, saved.event);
  }

  /** The event an edit targets, after checking the caller may write its account. */
  async function eventForWrite(principal: Principal, eventId: string) {
    const event = (
      await collections(deps.db).evenimente().doc(docId(eventId, 'eventId')).get()
    ).data();
    if (event === undefined) throw new AppError('NOT_FOUND', `event ${eventId} not found`);
    requireAccount(principal, event.accountId);
    return event;
  }

  return { resourceLock, optionsOf, sendEdited, eventForWrite };
}
