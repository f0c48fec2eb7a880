import type { ClientDoc, EventDoc, ThreadDoc } from '@wacrm/contracts';
import { eventFigures, type MoneyEvent } from './event-figures.js';

export type AggregateEvent = Pick<EventDoc, 'date' | 'accountId'> & MoneyEvent;
export type AggregateThread = Pick<
  ThreadDoc,
  'accountId' | 'displayName' | 'lastMessageAt' | 'updatedAt'
>;

/**
 * `clients/{phoneE164}` as a pure function of the client's events and threads: running it again
 * on the same inputs gives the same document, so a recompute is idempotent and heals any drift.
 */
export function aggregateClient(
  phoneE164: string,
  events: readonly AggregateEvent[],
  threads: readonly AggregateThread[],
  now: Date,
): ClientDoc {
  const figures = eventFigures(events);
  const accountIds = new Set<string>();
  for (const e of events) if (!e.isArchived && e.accountId !== null) accountIds.add(e.accountId);
  for (const t of threads) accountIds.add(t.accountId);

  let lastContactAt: Date | null = null;
  for (const t of threads) {
    if (t.lastMessageAt !== null && (lastContactAt === null || t.lastMessageAt > lastContactAt)) {
      lastContactAt = t.lastMessageAt;
    }
  }
  // The name from the conversation most recently active wins; a thread with no name never does.
  const named = threads
    .filter((t) => t.displayName !== null && t.displayName.trim() !== '')
    .sort((a, b) => activity(b) - activity(a));

  return {
    phoneE164,
    displayName: named[0]?.displayName ?? null,
    eventsCount: figures.eventsCount,
    lifetimeSpendPaid: figures.spendPaid,
    lifetimeSpendTotal: figures.spendTotal,
    outstandingBalance: figures.outstanding,
    firstEventAt: figures.firstEventAt,
    lastEventAt: figures.lastEventAt,
    lastContactAt,
    accountIds: [...accountIds].sort(),
    updatedAt: now,
  };
}

function activity(t: AggregateThread): number {
  return (t.lastMessageAt ?? t.updatedAt).getTime();
}

/** True when two aggregates differ only in `updatedAt`: such a recompute need not write. */
export function sameAggregate(a: ClientDoc, b: ClientDoc): boolean {
  return (
    a.phoneE164 === b.phoneE164 &&
    a.displayName === b.displayName &&
    a.eventsCount === b.eventsCount &&
    a.lifetimeSpendPaid === b.lifetimeSpendPaid &&
    a.lifetimeSpendTotal === b.lifetimeSpendTotal &&
    a.outstandingBalance === b.outstandingBalance &&
    a.firstEventAt === b.firstEventAt &&
    a.lastEventAt === b.lastEventAt &&
    (a.lastContactAt?.getTime() ?? null) === (b.lastContactAt?.getTime() ?? null) &&
    a.accountIds.join(',') === b.accountIds.join(',')
  );
}
