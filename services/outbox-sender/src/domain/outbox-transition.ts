import { advanceOutbox, statusReached, type OutboxDoc, type SendStatusJob } from '@wacrm/contracts';

/** Everything that moves an outbox document after the send route created it `queued`. */
export type OutboxEvent =
  /** Handed to the account's command queue (once more on a retried hand-over). */
  | { kind: 'sending' }
  /** WhatsApp refused the account (logged out, banned): kept, sent once it is connected again. */
  | { kind: 'paused'; reason: string }
  /** The account is connected again: back to `queued`. */
  | { kind: 'resumed' }
  /** A fact about the send: acked, a receipt, or failed for good (from ingest or the relay). */
  | { kind: 'status'; status: SendStatusJob['status']; error: string | null }
  /** The `send-outbox` job itself failed for good (no document, no account, bad media). */
  | { kind: 'job-failed'; error: string }
  /** A scheduled send's time has come: it waits for its turn like any other (issue 19). */
  | { kind: 'due' }
  /** An operator (or the booking's cancellation) cancels a scheduled send. */
  | { kind: 'cancel'; reason: string };

export type OutboxPatch = Partial<
  Pick<OutboxDoc, 'status' | 'attempts' | 'lastError' | 'sentAt' | 'updatedAt' | 'cancelledReason'>
>;

const WAITING: ReadonlyArray<OutboxDoc['status']> = ['queued', 'sending', 'paused'];
/** Not sent yet and not cancelled: a failure for good ends these. */
const OPEN: ReadonlyArray<OutboxDoc['status']> = [...WAITING, 'scheduled'];

/**
 * The one place outbox transitions are decided: the patch `event` makes to `doc`, or null when
 * it changes nothing. Statuses only move forward (the order of `@wacrm/contracts`), so a replayed
 * or late fact never moves a document back; `failed` ends only a send still waiting.
 */
export function outboxTransition(
  doc: OutboxDoc,
  event: OutboxEvent,
  now: Date,
): OutboxPatch | null {
  // Cancelled is final: a late job, fact or relay pass changes nothing.
  if (doc.status === 'cancelled') return null;
  switch (event.kind) {
    case 'due':
      if (doc.status !== 'scheduled') return null;
      return { status: 'queued', updatedAt: now };
    case 'cancel':
      if (doc.status !== 'scheduled') return null;
      return { status: 'cancelled', cancelledReason: event.reason, updatedAt: now };
    case 'sending':
      if (!WAITING.includes(doc.status)) return null;
      return { status: 'sending', attempts: doc.attempts + 1, lastError: null, updatedAt: now };
    case 'paused':
      if (doc.status !== 'queued' && doc.status !== 'sending') return null;
      return { status: 'paused', lastError: event.reason, updatedAt: now };
    case 'resumed':
      if (doc.status !== 'paused') return null;
      return { status: 'queued', lastError: null, updatedAt: now };
    case 'job-failed':
      if (!OPEN.includes(doc.status)) return null;
      return { status: 'failed', lastError: event.error, updatedAt: now };
    case 'status': {
      if (event.status === 'failed') {
        if (!WAITING.includes(doc.status)) return null;
        return { status: 'failed', lastError: event.error ?? 'send failed', updatedAt: now };
      }
      const next = advanceOutbox(doc.status, event.status);
      if (next === null) {
        // Already further on; only a missing sentAt is completed.
        return doc.sentAt === null && statusReached(doc.status, 'sent')
          ? { sentAt: now, updatedAt: now }
          : null;
      }
      return {
        status: next,
        sentAt: doc.sentAt ?? now,
        ...(doc.lastError !== null ? { lastError: null } : {}),
        updatedAt: now,
      };
    }
  }
}
