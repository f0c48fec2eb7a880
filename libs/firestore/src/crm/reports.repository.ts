import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Firestore, Query } from 'firebase-admin/firestore';
import {
  AppError,
  bucharestParts,
  canSeeAccount,
  type AccountAccess,
  type EventDoc,
  type PerformerFeedDoc,
  type ThreadDoc,
} from '@wacrm/contracts';
import { collections } from '../collections.js';
import { spanOf } from './bookings.repository.js';
import type { SavedEvent } from './events.repository.js';
import { clientRowsOf, type ClientThread } from './reports.js';

// --- a performer's calendar feed ---------------------------------------------------------------

const hashOf = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

/**
 * Makes a new secret for a performer's feed (the old one, if any, stops working at once) and
 * stores only its SHA-256. Returns the token: the one time it exists in clear.
 */
export async function rotatePerformerFeed(
  db: Firestore,
  performerId: string,
  accountId: string,
  uid: string,
  now = new Date(),
): Promise<{ token: string; createdAt: Date }> {
  const token = randomBytes(32).toString('base64url');
  const doc: PerformerFeedDoc = {
    accountId,
    tokenHash: hashOf(token),
    createdBy: uid,
    createdAt: now,
    revokedAt: null,
    revokedBy: null,
  };
  await collections(db).performerFeeds().doc(performerId).set(doc);
  return { token, createdAt: now };
}

/** Revokes the feed's secret (kept, with who and when); 404 when there is no live one. */
export async function revokePerformerFeed(
  db: Firestore,
  performerId: string,
  uid: string,
  now = new Date(),
): Promise<Date> {
  const ref = collections(db).performerFeeds().doc(performerId);
  return db.runTransaction(async (tx) => {
    const current = (await tx.get(ref)).data();
    if (current === undefined || current.revokedAt !== null) {
      throw new AppError('NOT_FOUND', 'this performer has no calendar URL to revoke');
    }
    tx.set(ref, { ...current, revokedAt: now, revokedBy: uid });
    return now;
  });
}

/**
 * The performer's account when `token` is the live secret of its feed; NOT_FOUND otherwise
 * (unknown performer, no feed, revoked, another token: all answered alike).
 */
export async function accountOfFeed(
  db: Firestore,
  performerId: string,
  token: string,
): Promise<string> {
  const feed = (await collections(db).performerFeeds().doc(performerId).get()).data();
  const given = Buffer.from(hashOf(token), 'hex');
  const ok =
    feed !== undefined &&
    feed.revokedAt === null &&
    timingSafeEqual(given, Buffer.from(feed.tokenHash, 'hex'));
  if (!ok) throw new AppError('NOT_FOUND', 'no calendar at this URL');
  return feed.accountId;
}

/** How far back and ahead a performer's feed lists bookings. */
export const FEED_PAST_DAYS = 90;
export const FEED_FUTURE_DAYS = 400;
const DAY_MS = 86_400_000;

/**
 * The performer's bookings that hold them (not cancelled, not archived) starting from 90 days
 * ago to 400 days ahead, by start.
 */
export async function performerBookings(
  db: Firestore,
  accountId: string,
  performerId: string,
  now = new Date(),
): Promise<SavedEvent[]> {
  const snap = await collections(db)
    .evenimente()
    .where('accountId', '==', accountId)
    .where('start', '>=', new Date(now.getTime() - FEED_PAST_DAYS * DAY_MS))
    .where('start', '<', new Date(now.getTime() + FEED_FUTURE_DAYS * DAY_MS))
    .get();
  return snap.docs
    .map((d) => ({ eventId: d.id, event: d.data() }))
    .filter(({ eventId, event }) => spanOf(eventId, event)?.performerIds.includes(performerId))
    .sort((a, b) => a.event.start!.getTime() - b.event.start!.getTime());
}

// --- events of an account, for exports and reports ------------------------------------------

/** The most events one export or report reads. */
export const EXPORT_EVENTS_MAX = 10_000;

async function readEvents(
  query: Query<EventDoc>,
  max: number,
): Promise<{ items: SavedEvent[]; truncated: boolean }> {
  const snap = await query.limit(max + 1).get();
  return {
    items: snap.docs.slice(0, max).map((d) => ({ eventId: d.id, event: d.data() })),
    truncated: snap.size > max,
  };
}

/** An account's events dated in [from, to] (calendar dates, both included), archived ones too. */
export function eventsDatedIn(
  db: Firestore,
  accountId: string,
  range: { from: string; to: string },
  max = EXPORT_EVENTS_MAX,
) {
  return readEvents(
    collections(db)
      .evenimente()
      .where('accountId', '==', accountId)
      .where('date', '>=', range.from)
      .where('date', '<=', range.to)
      .orderBy('date'),
    max,
  );
}

/** The payments of an account's events received in [from, to], by day then booking. */
export async function paymentsReceivedIn(
  db: Firestore,
  accountId: string,
  range: { from: string; to: string },
  max = EXPORT_EVENTS_MAX,
) {
  // A payment may come long before or after the party: every event of the account is read.
  const events = await readEvents(
    collections(db).evenimente().where('accountId', '==', accountId),
    max,
  );
  const items = events.items
    .flatMap(({ eventId, event }) =>
      (event.payments ?? [])
        .filter((p) => p.date >= range.from && p.date <= range.to)
        .map((payment) => ({ eventId, event, payment })),
    )
    .sort(
      (a, b) =>
        a.payment.date.localeCompare(b.payment.date) ||
        a.event.eventShortId.localeCompare(b.event.eventShortId) ||
        a.payment.recordedAt.getTime() - b.payment.recordedAt.getTime(),
    );
  return { items, truncated: events.truncated };
}

// --- the clients list ---------------------------------------------------------------------------

/** The most events and conversations one clients list reads (each). */
export const CLIENT_LIST_READ_MAX = 20_000;

/**
 * Every client `access` may see, with figures from the events and names from the conversations
 * of the accounts it may see only (events without an account are an admin's only).
 */
export async function visibleClientRows(
  db: Firestore,
  access: AccountAccess,
  now = new Date(),
  max = CLIENT_LIST_READ_MAX,
) {
  const c = collections(db);
  const events: SavedEvent[] = [];
  const threads: ClientThread[] = [];
  let truncated = false;
  const accountIds = access === 'all' ? null : [...access].sort();
  const eventQueries =
    accountIds === null
      ? [c.evenimente() as Query<EventDoc>]
      : accountIds.map((id) => c.evenimente().where('accountId', '==', id));
  const threadQueries =
    accountIds === null
      ? [c.threads() as Query<ThreadDoc>]
      : accountIds.map((id) => c.threads().where('accountId', '==', id));
  for (const query of eventQueries) {
    const read = await readEvents(query, max - events.length);
    events.push(...read.items.filter(({ event }) => canSeeAccount(access, event.accountId)));
    truncated ||= read.truncated;
    if (events.length >= max) break;
  }
  for (const query of threadQueries) {
    const room = max - threads.length;
    const snap = await query.limit(room + 1).get();
    for (const doc of snap.docs.slice(0, room)) {
      const t = doc.data();
      if (canSeeAccount(access, t.accountId)) threads.push(t);
    }
    truncated ||= snap.size > room;
    if (threads.length >= max) break;
  }
  const today = bucharestParts(now).date;
  return { rows: clientRowsOf(events, threads, today, now), truncated };
}
