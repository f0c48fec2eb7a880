import type { ReminderKind } from '@wacrm/contracts';
import { bucharestParts, instantOf, type EventDoc, type TemplateValues } from '@wacrm/contracts';
import { bookingMoney, bookingStatusOf } from '@wacrm/firestore';

/** `2026-12-24` → `24.12.2026`, as Romanians write a date. */
function roDate(date: string): string {
  const [y, m, d] = date.split('-');
  return `${d}.${m}.${y}`;
}

/** `350` → `350`, `350.5` → `350,50` (lei, Romanian decimal comma). */
function roMoney(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(2).replace('.', ',');
}

function dayAfter(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/** A booking's template values (issue 19): what `{{nume_copil}}` and the others stand for. */
export function bookingValues(event: EventDoc): TemplateValues {
  const money = bookingMoney(event);
  const time = event.start !== undefined ? bucharestParts(event.start).time : event.time;
  const values: TemplateValues = {
    data: roDate(event.start !== undefined ? bucharestParts(event.start).date : event.date),
    rest_de_plata: roMoney(money.outstanding),
  };
  if (event.childName !== null) values.nume_copil = event.childName;
  if (time !== null) values.ora = time;
  if (event.characters.length > 0) values.personaj = event.characters.join(', ');
  if (event.address !== null) values.adresa = event.address;
  if (event.payment.advance !== null) values.avans = roMoney(event.payment.advance);
  if (event.depositDueDate != null) values.termen_avans = roDate(event.depositDueDate);
  return values;
}

export interface PlannedReminder {
  kind: ReminderKind;
  /** When it goes out; null = when it is approved. */
  sendAt: Date | null;
}

/** Whether a booking still has reminders: not cancelled, not archived. */
export function remindsOf(event: EventDoc): boolean {
  return !event.isArchived && bookingStatusOf(event) !== 'cancelled';
}

/**
 * The reminders a booking has (issue 19), Europe/Bucharest times: the confirmation (when
 * approved), the deposit on the morning it is due (while some of it is missing), the day before
 * at 10:00 and a review request the day after at 11:00. None for a cancelled or archived one.
 */
export function reminderPlan(event: EventDoc): PlannedReminder[] {
  if (!remindsOf(event)) return [];
  const day = event.start !== undefined ? bucharestParts(event.start).date : event.date;
  const lastDay = event.end !== undefined ? bucharestParts(event.end).date : day;
  const plan: PlannedReminder[] = [{ kind: 'confirmation', sendAt: null }];
  if (event.depositDueDate != null && bookingMoney(event).depositOutstanding > 0) {
    plan.push({ kind: 'deposit_due', sendAt: instantOf(`${event.depositDueDate}T10:00`) });
  }
  plan.push({ kind: 'day_before', sendAt: instantOf(`${dayAfter(day, -1)}T10:00`) });
  plan.push({ kind: 'review_request', sendAt: instantOf(`${dayAfter(lastDay, 1)}T11:00`) });
  return plan;
}
