import {
  LEGACY_BOOKING_STATUS,
  bucharestParts,
  expectsPayment,
  type BookingMoneyView,
  type BookingStatus,
  type EventDoc,
} from '@wacrm/contracts';

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

/** A booking's status; events saved before statuses existed are confirmed. */
export function bookingStatusOf(event: Pick<EventDoc, 'status'>): BookingStatus {
  return event.status ?? LEGACY_BOOKING_STATUS;
}

/** `payment.paid` as it must be stored: the sum of `payments` once one is recorded. */
export function paidOf(event: Pick<EventDoc, 'payment' | 'payments'>): number {
  const payments = event.payments ?? [];
  return payments.length > 0 ? sumMoney(payments.map((p) => p.amount)) : event.payment.paid;
}

function atLeastZero(bani: number): number {
  return Math.max(0, bani) / 100;
}

export type MoneyEvent = Pick<
  EventDoc,
  'payment' | 'payments' | 'status' | 'isArchived' | 'depositDueDate' | 'balanceDueDate'
>;

/**
 * Issue 19, the one place a booking's money is computed: paid from its payments, outstanding
 * = price − paid, the deposit still missing, and whether the deposit or the balance is overdue
 * on `today` (a Europe/Bucharest date). A lead, a cancelled or an archived booking owes nothing.
 */
export function bookingMoney(
  event: MoneyEvent,
  today: string = bucharestParts(new Date()).date,
): BookingMoneyView {
  const paid = paidOf(event);
  const owes = !event.isArchived && expectsPayment(bookingStatusOf(event));
  const cents = (v: number) => Math.round(v * 100);
  const price = event.payment.amount;
  const deposit = event.payment.advance;
  const outstanding = owes && price !== null ? atLeastZero(cents(price) - cents(paid)) : 0;
  const depositOutstanding =
    owes && deposit !== null ? atLeastZero(cents(deposit) - cents(paid)) : 0;
  const due = (date: string | null | undefined) =>
    date !== null && date !== undefined && date < today;
  return {
    price,
    paid,
    outstanding,
    depositAsked: deposit,
    depositOutstanding,
    depositOverdue: depositOutstanding > 0 && due(event.depositDueDate),
    balanceOverdue: outstanding > 0 && due(event.balanceDueDate),
  };
}

export interface EventFigures {
  eventsCount: number;
  /** Sum of `payment.paid`: what the client has actually paid. */
  spendPaid: number;
  /** Sum of `payment.amount`: what the bookings are worth. */
  spendTotal: number;
  firstEventAt: string | null;
  lastEventAt: string | null;
  /** What the client still owes (bookingMoney's outstanding, summed). */
  outstanding: number;
}

/** The figures of a set of events, archived ones excluded. */
export function eventFigures(
  events: ReadonlyArray<Pick<EventDoc, 'date'> & MoneyEvent>,
): EventFigures {
  const active = activeEvents(events);
  const dates = active.map((e) => e.date).sort();
  return {
    eventsCount: active.length,
    spendPaid: sumMoney(active.map((e) => e.payment.paid)),
    spendTotal: sumMoney(active.map((e) => e.payment.amount)),
    firstEventAt: dates[0] ?? null,
    lastEventAt: dates.at(-1) ?? null,
    outstanding: sumMoney(active.map((e) => bookingMoney(e).outstanding)),
  };
}
