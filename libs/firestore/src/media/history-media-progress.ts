import {
  FieldValue,
  type DocumentReference,
  type Firestore,
  type Transaction,
} from 'firebase-admin/firestore';
import {
  Collections,
  HistoryMediaProgressDoc,
  type AccountDoc,
  type HistoryMediaProgress,
  type MediaStatus,
  type MessageSource,
} from '@wacrm/contracts';
import { contractConverter, timestampsToDates } from '../converters.js';

const converter = contractConverter('history media progress', HistoryMediaProgressDoc);

/** How history media end; `pending` is what the total leaves. */
const OUTCOMES = ['stored', 'failed', 'expired'] as const;
type Outcome = (typeof OUTCOMES)[number];
export type HistoryMediaDelta = Partial<Record<Outcome, number>>;

/** `accounts/{accountId}/mediaProgress/history`, written by the media worker only. */
export function historyMediaProgressRef(
  db: Firestore,
  accountId: string,
): DocumentReference<HistoryMediaProgressDoc> {
  return db
    .collection(Collections.accounts)
    .doc(accountId)
    .collection(Collections.mediaProgress)
    .doc('history')
    .withConverter(converter);
}

/** Media the history counts follow: all but live (ingest's total and the worker's outcomes). */
export const isHistoryMedia = (source: MessageSource): boolean => source !== 'live';

const isOutcome = (status: MediaStatus | undefined): status is Outcome =>
  (OUTCOMES as readonly string[]).includes(status ?? '');

/**
 * What one change of a message's `media.status` moves in its account's history media counts:
 * nothing for live media or when the status stays (a retried job), else one out of the old
 * outcome and one into the new (an `expired` file the phone later uploads again becomes `stored`).
 */
export function historyMediaDelta(
  source: MessageSource,
  before: MediaStatus | undefined,
  after: MediaStatus,
): HistoryMediaDelta | null {
  if (!isHistoryMedia(source) || (before ?? 'pending') === after) return null;
  const delta: HistoryMediaDelta = {};
  if (isOutcome(before)) delta[before] = -1;
  if (isOutcome(after)) delta[after] = 1;
  return Object.keys(delta).length > 0 ? delta : null;
}

/** Adds `delta` to the account's counts in the transaction that changes the message. */
export function recordHistoryMediaDelta(
  tx: Transaction,
  db: Firestore,
  accountId: string,
  delta: HistoryMediaDelta,
  now: Date,
): void {
  const fields: Record<string, unknown> = { updatedAt: now };
  for (const outcome of OUTCOMES) fields[outcome] = FieldValue.increment(delta[outcome] ?? 0);
  tx.set(historyMediaProgressRef(db, accountId), fields, { merge: true });
}

/** The counts an operator reads: the total (ingest's) against how the media ended (the worker's). */
export function historyMediaProgressView(
  total: number | undefined,
  doc: HistoryMediaProgressDoc | undefined,
): HistoryMediaProgress {
  const stored = Math.max(0, doc?.stored ?? 0);
  const failed = Math.max(0, doc?.failed ?? 0);
  const expired = Math.max(0, doc?.expired ?? 0);
  const ended = stored + failed + expired;
  // History media stored before totals were counted still show as ended, never as negative pending.
  const all = Math.max(total ?? 0, ended);
  return { total: all, stored, pending: all - ended, failed, expired };
}

/** The history media progress of each account, in their order, read in one round trip. */
export async function readHistoryMediaProgress(
  db: Firestore,
  accounts: ReadonlyArray<{ id: string; doc: AccountDoc }>,
): Promise<HistoryMediaProgress[]> {
  if (accounts.length === 0) return [];
  const refs = accounts.map((a) => historyMediaProgressRef(db, a.id));
  const snaps = await db.getAll(...refs);
  // getAll is untyped; parse through the converter's contract like any read.
  return accounts.map((a, i) => {
    const data = snaps[i]?.exists === true ? snaps[i].data() : undefined;
    const doc =
      data === undefined ? undefined : HistoryMediaProgressDoc.parse(timestampsToDates(data));
    return historyMediaProgressView(a.doc.historyMediaTotal, doc);
  });
}
