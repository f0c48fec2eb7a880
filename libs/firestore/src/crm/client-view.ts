import type { Firestore } from 'firebase-admin/firestore';
import {
  canSeeAccount,
  type AccountAccess,
  type ClientDoc,
  type ThreadDoc,
} from '@wacrm/contracts';
import { collections } from '../collections.js';
import { aggregateClient } from './client-aggregate.js';
import { listClientEvents, type SavedEvent } from './events.repository.js';

/** A client as one caller may see it: figures, accounts, name and events of its accounts only. */
export interface VisibleClient {
  client: ClientDoc;
  /** Newest first, archived ones included. */
  events: SavedEvent[];
  /** The client's conversations in the accounts the caller may see, most recent first. */
  threads: Array<{ threadId: string; thread: ThreadDoc }>;
}

export type ClientVisibility =
  | { status: 'visible'; record: VisibleClient }
  /** The client exists but nothing of it belongs to the caller's accounts. */
  | { status: 'forbidden' }
  | { status: 'not-found' };

/**
 * Reads `clients/{phoneE164}` as `access` may see it. An admin gets the stored aggregate; anyone
 * else gets the same aggregate (aggregateClient, the aggregator's own function) computed from
 * the events and threads of the accounts they may see, so another account's totals, sources,
 * contact name or last contact never show, and events without an account are admin-only.
 */
export async function readClientFor(
  db: Firestore,
  phoneE164: string,
  access: AccountAccess,
): Promise<ClientVisibility> {
  const c = collections(db);
  const [stored, events, threadSnap] = await Promise.all([
    c.clients().doc(phoneE164).get(),
    listClientEvents(db, phoneE164),
    c.threads().where('phoneE164', '==', phoneE164).get(),
  ]);
  const storedClient = stored.data();
  const threads = threadSnap.docs
    .map((d) => ({ threadId: d.id, thread: d.data() }))
    .filter(({ thread }) => canSeeAccount(access, thread.accountId))
    .sort((a, b) => activityOf(b.thread) - activityOf(a.thread));
  if (access === 'all') {
    if (storedClient === undefined && events.length === 0) return { status: 'not-found' };
    // Computed here too (the aggregator's function, from the same inputs): the stored aggregate
    // is only recomputed when an event changes, so a name from a later conversation would lag.
    const client = fromEvents(
      phoneE164,
      events,
      threads.map((t) => t.thread),
      storedClient,
    );
    return { status: 'visible', record: { client, events, threads } };
  }
  const visibleEvents = events.filter(({ event }) => canSeeAccount(access, event.accountId));
  if (visibleEvents.length === 0 && threads.length === 0) {
    return storedClient === undefined && events.length === 0
      ? { status: 'not-found' }
      : { status: 'forbidden' };
  }
  return {
    status: 'visible',
    record: {
      client: fromEvents(
        phoneE164,
        visibleEvents,
        threads.map((t) => t.thread),
        storedClient,
      ),
      events: visibleEvents,
      threads,
    },
  };
}

const activityOf = (t: ThreadDoc) => (t.lastMessageAt ?? t.updatedAt).getTime();

function fromEvents(
  phoneE164: string,
  events: readonly SavedEvent[],
  threads: Parameters<typeof aggregateClient>[2],
  stored?: ClientDoc,
): ClientDoc {
  return aggregateClient(
    phoneE164,
    events.map((e) => e.event),
    threads,
    stored?.updatedAt ?? new Date(),
  );
}
