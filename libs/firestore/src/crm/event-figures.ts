import type { EventDoc } from '@wacrm/contracts';

/**
 * Money is summed in bani (integer hundredths), so 50 payments of 0.1 RON add up to exactly
 * 5 RON; the CRM aggregates and the answers to "how much has the client spent" both use this.
 */
export function sumMoney(values: ReadonlyArray<number | null>): number {
  let bani = 0;
  for (const value of values) if (value !== null) bani += Math.round(value * 100);
  return bani / 100;
}

/** Archived events are kept forever but count for nothing. */
export function activeEvents<E extends Pick<EventDoc, 'isArchived'>>(events: readonly E[]): E[] {
  return events.filter((e) => !e.isArchived);
}

export interface EventFigures {
  eventsCount: number;
  /** Sum of `payment.paid`: what the client has actually paid. */
  spendPaid: number;
  /** Sum of `payment.amount`: what the bookings are worth. */
  spendTotal: number;
  firstEventAt: string | null;
  lastEventAt: string | null;
}

/** The figures of a set of events, archived ones excluded. */
export function eventFigures(
  events: ReadonlyArray<Pick<EventDoc, 'isArchived' | 'date' | 'payment'>>,
): EventFigures {
  const active = activeEvents(events);
  const dates = active.map((e) => e.date).sort();
  return {
    eventsCount: active.length,
    spendPaid: sumMoney(active.map((e) => e.payment.paid)),
    spendTotal: sumMoney(active.map((e) => e.payment.amount)),
    firstEventAt: dates[0] ?? null,
    lastEventAt: dates.at(-1) ?? null,
  };
}
