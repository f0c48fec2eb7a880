import type { Firestore } from 'firebase-admin/firestore';
import { ReminderDoc, type ReminderKind } from '@wacrm/contracts';
import { contractConverter } from '@wacrm/firestore';

/** `reminders/{eventId}.{kind}` (issue 19): a booking's reminders, never deleted. */
export const REMINDERS = 'reminders';

const converter = contractConverter('reminder', ReminderDoc);
const reminders = (db: Firestore) => db.collection(REMINDERS).withConverter(converter);

export function reminderId(eventId: string, kind: ReminderKind): string {
  return `${eventId}.${kind}`;
}

export function reminderRef(db: Firestore, eventId: string, kind: ReminderKind) {
  return reminders(db).doc(reminderId(eventId, kind));
}

/** A booking's reminders (at most one per kind). */
export async function remindersOf(db: Firestore, eventId: string): Promise<ReminderDoc[]> {
  const snap = await reminders(db).where('eventId', '==', eventId).limit(20).get();
  return snap.docs.map((d) => d.data());
}
