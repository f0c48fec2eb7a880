import { createHash } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { z } from 'zod';
import {
  AppError,
  DEFAULT_REMINDER_TEXTS,
  OutboxStatus,
  bucharestParts,
  type OutboxQueue,
  renderTemplate,
  sendAtProblem,
  type EventDoc,
  type OutboxDoc,
  type ReminderDoc,
  type ReminderKind,
} from '@wacrm/contracts';
import { collections, listClientEvents, readOutboxEntries } from '@wacrm/firestore';
import { RedisFencedLock } from '@wacrm/queue';
import { createJobClient, type JobClient } from '../data-access/job-requests.js';
import { remindersOf, reminderRef } from '../data-access/reminders.repository.js';
import { reminderTexts } from '../data-access/templates.repository.js';
import { docId } from '../domain/doc-id.js';
import { requireAccount, type Principal } from '../domain/principal.js';
import { bookingValues, reminderPlan, remindsOf } from '../domain/reminder-plan.js';
import type { RouteDeps } from './route-deps.js';
import { acceptSend } from './send.routes.js';

const CancelAnswer = z.object({ status: OutboxStatus });
/** How long the API waits for outbox-sender to answer a cancel. */
const CANCEL_TIMEOUT_MS = 10_000;

/** A send the approval of a reminder makes: one per booking, kind and time. */
function reminderRequestId(eventId: string, kind: ReminderKind, sendAt: Date | null): string {
  const key = `${eventId}\n${kind}\n${sendAt?.toISOString() ?? 'now'}`;
  return `rem-${createHash('sha256').update(key).digest('hex').slice(0, 40)}`;
}

/**
 * Issue 19 item 5: scheduled sends and a booking's reminders. The outbox stays outbox-sender's:
 * a cancel is asked of it (the cancel-outbox job) and its answer decides 200 or 409.
 */
export function scheduling(deps: RouteDeps) {
  // A booking's reminders are synced, approved and cancelled one at a time across replicas.
  const lock = new RedisFencedLock(deps.redis, deps.queues.prefix, { name: 'reminders' });
  // Opened on the first cancel: its QueueEvents holds a blocking connection of its own.
  let outboxJobs: JobClient<typeof OutboxQueue> | undefined;
  const outboxClient = () =>
    (outboxJobs ??= createJobClient(
      deps.queues.outbox,
      () => deps.redis.duplicate({ maxRetriesPerRequest: null }),
      CANCEL_TIMEOUT_MS,
      'outbox-sender',
    ));

  async function outboxDoc(requestId: string): Promise<OutboxDoc> {
    const doc = (await readOutboxEntries(deps.db, [requestId])).get(requestId);
    if (doc === undefined) throw new AppError('NOT_FOUND', `send ${requestId} does not exist`);
    return doc;
  }

  /**
   * Cancels a scheduled send; the status it ends in (`cancelled`, or where it already was).
   * Asks outbox-sender unless the document already says it is too late.
   */
  async function cancelSend(doc: OutboxDoc, reason: string): Promise<OutboxDoc['status']> {
    if (doc.status !== 'scheduled') return doc.status;
    const answer = await outboxClient().request(
      'cancel-outbox',
      { requestId: doc.requestId, reason },
      CancelAnswer,
      `cancel.${doc.requestId}.${Date.now()}`,
    );
    return answer.status;
  }

  /** The route's cancel: 200 once cancelled (again: the same), 409 once it went out. */
  async function cancelScheduled(principal: Principal, requestId: string): Promise<void> {
    const doc = await outboxDoc(requestId);
    requireAccount(principal, doc.accountId);
    if (doc.sendAt == null) {
      throw new AppError('CONFLICT', `send ${requestId} was not scheduled`);
    }
    const status = await cancelSend(doc, `cancelled by ${principal.id}`);
    if (status !== 'cancelled') {
      throw new AppError('CONFLICT', `send ${requestId} can no longer be cancelled: ${status}`);
    }
  }

  async function readEvent(eventId: string): Promise<EventDoc> {
    const event = (
      await collections(deps.db).evenimente().doc(docId(eventId, 'eventId')).get()
    ).data();
    if (event === undefined) throw new AppError('NOT_FOUND', `event ${eventId} not found`);
    return event;
  }

  /** The event a reminder route targets, after checking the caller may use its account. */
  async function eventFor(principal: Principal, eventId: string): Promise<EventDoc> {
    const event = await readEvent(eventId);
    requireAccount(principal, event.accountId);
    return event;
  }

  /** Cancels a reminder's send; false when it had already gone out. */
  async function withdraw(reminder: ReminderDoc, reason: string): Promise<boolean> {
    if (reminder.requestId === null) return true;
    const doc = (await readOutboxEntries(deps.db, [reminder.requestId])).get(reminder.requestId);
    if (doc === undefined) return true;
    try {
      const status = await cancelSend(doc, reason);
      return status === 'cancelled';
    } catch (error) {
      // The cancel job stays queued (durable in Redis) and outbox-sender applies it when it
      // answers again; only a send that already went out is not cancelled.
      if (error instanceof AppError && error.code === 'DEPENDENCY_UNAVAILABLE') return true;
      throw error;
    }
  }

  /**
   * Brings a booking's reminders in line with it: drafts are created or refreshed (text and time),
   * those it no longer has are cancelled (with their send, unless it went out), and an approved
   * one whose time moved goes back to draft for a new approval.
   */
  async function syncUnlocked(eventId: string, event: EventDoc): Promise<ReminderDoc[]> {
    const existing = new Map((await remindersOf(deps.db, eventId)).map((r) => [r.kind, r]));
    if (event.accountId === null) return [...existing.values()];
    const now = new Date();
    const plan = new Map(reminderPlan(event).map((p) => [p.kind, p]));
    const texts = plan.size > 0 ? await reminderTexts(deps.db, event.accountId) : {};
    const values = bookingValues(event);
    const out: ReminderDoc[] = [];
    for (const kind of ['confirmation', 'deposit_due', 'day_before', 'review_request'] as const) {
      const planned = plan.get(kind);
      const current = existing.get(kind);
      const ref = reminderRef(deps.db, eventId, kind);
      if (planned === undefined) {
        if (current === undefined || current.status === 'cancelled') {
          if (current !== undefined) out.push(current);
          continue;
        }
        const reason = remindsOf(event) ? 'no longer needed' : 'booking cancelled';
        if (current.status === 'scheduled' && !(await withdraw(current, reason))) {
          out.push(current);
          continue;
        }
        const next = { ...current, status: 'cancelled' as const, cancelledReason: reason };
        await ref.set({ ...next, updatedAt: now });
        out.push({ ...next, updatedAt: now });
        continue;
      }
      const text = renderTemplate(texts[kind] ?? DEFAULT_REMINDER_TEXTS[kind], values).text;
      const sameTime = (current?.sendAt?.getTime() ?? null) === (planned.sendAt?.getTime() ?? null);
      if (current?.status === 'cancelled') {
        out.push(current);
        continue;
      }
      if (current?.status === 'scheduled') {
        if (sameTime || !(await withdraw(current, 'booking time changed'))) {
          out.push(current);
          continue;
        }
      }
      if (current?.status === 'draft' && sameTime && current.text === text) {
        out.push(current);
        continue;
      }
      const draft: ReminderDoc = {
        accountId: event.accountId,
        eventId,
        kind,
        text,
        sendAt: planned.sendAt,
        status: 'draft',
        requestId: null,
        approvedBy: null,
        approvedAt: null,
        cancelledReason: null,
        createdAt: current?.createdAt ?? now,
        updatedAt: now,
      };
      await ref.set(draft);
      out.push(draft);
    }
    return out;
  }

  /** After an event is saved: its reminders follow (a failure is logged; the next save or the
   * reminders route repairs it). */
  async function syncAfterSave(eventId: string, log: FastifyBaseLogger): Promise<void> {
    try {
      await lock.run(eventId, async () => syncUnlocked(eventId, await readEvent(eventId)));
    } catch (error) {
      log.warn({ err: error, eventId }, 'reminders not synced with the booking; retried later');
    }
  }

  async function sync(principal: Principal, eventId: string): Promise<ReminderDoc[]> {
    await eventFor(principal, eventId);
    return lock.run(eventId, async () => syncUnlocked(eventId, await readEvent(eventId)));
  }

  async function list(principal: Principal, eventId: string): Promise<ReminderDoc[]> {
    await eventFor(principal, eventId);
    return remindersOf(deps.db, eventId);
  }

  /** One click: the draft becomes a scheduled send at its time (now, if its time has come). */
  async function approve(
    principal: Principal,
    eventId: string,
    kind: ReminderKind,
    log: FastifyBaseLogger,
  ): Promise<ReminderDoc> {
    await eventFor(principal, eventId);
    return lock.run(eventId, async () => {
      const event = await readEvent(eventId);
      const reminders = await syncUnlocked(eventId, event);
      const reminder = reminders.find((r) => r.kind === kind);
      if (reminder === undefined) {
        throw new AppError('NOT_FOUND', `booking ${eventId} has no ${kind} reminder`);
      }
      if (reminder.status === 'scheduled') return reminder;
      if (reminder.status === 'cancelled') {
        throw new AppError('CONFLICT', `the ${kind} reminder was cancelled`);
      }
      const now = Date.now();
      const sendAt =
        reminder.sendAt !== null && sendAtProblem(reminder.sendAt, now + 2_000) === null
          ? reminder.sendAt
          : null;
      if (sendAt === null && kind !== 'confirmation' && kind !== 'review_request') {
        const day = event.start !== undefined ? bucharestParts(event.start).date : event.date;
        if (day < bucharestParts(new Date(now)).date) {
          throw new AppError('CONFLICT', `the ${kind} reminder's time has passed`);
        }
      }
      const requestId = reminderRequestId(eventId, kind, reminder.sendAt);
      await acceptSend(
        deps,
        {
          requestId,
          accountId: event.accountId!,
          ...(event.threadId !== null ? { threadId: event.threadId } : { to: event.phoneE164 }),
          text: reminder.text,
          media: null,
          replyTo: null,
          sendAt,
          createdBy: principal.id,
        },
        log,
      );
      const at = new Date();
      const approved: ReminderDoc = {
        ...reminder,
        status: 'scheduled',
        requestId,
        approvedBy: principal.id,
        approvedAt: at,
        updatedAt: at,
      };
      await reminderRef(deps.db, eventId, kind).set(approved);
      return approved;
    });
  }

  async function cancelReminder(
    principal: Principal,
    eventId: string,
    kind: ReminderKind,
  ): Promise<ReminderDoc> {
    await eventFor(principal, eventId);
    return lock.run(eventId, async () => {
      const ref = reminderRef(deps.db, eventId, kind);
      const reminder = (await ref.get()).data();
      if (reminder === undefined) {
        throw new AppError('NOT_FOUND', `booking ${eventId} has no ${kind} reminder`);
      }
      if (reminder.status === 'cancelled') return reminder;
      const reason = `cancelled by ${principal.id}`;
      if (reminder.status === 'scheduled' && reminder.requestId !== null) {
        const status = await cancelSend(await outboxDoc(reminder.requestId), reason);
        if (status !== 'cancelled') {
          throw new AppError('CONFLICT', `the ${kind} reminder already went out (${status})`);
        }
      }
      const next: ReminderDoc = {
        ...reminder,
        status: 'cancelled',
        cancelledReason: reason,
        updatedAt: new Date(),
      };
      await ref.set(next);
      return next;
    });
  }

  /** The booking a chat's template values come from: the client's next one, else the latest. */
  async function bookingOfThread(
    accountId: string,
    phoneE164: string | null,
  ): Promise<{ eventId: string; event: EventDoc } | null> {
    if (phoneE164 === null) return null;
    const today = bucharestParts(new Date()).date;
    const events = (await listClientEvents(deps.db, phoneE164, 200)).filter(
      (e) => e.event.accountId === accountId && remindsOf(e.event),
    );
    const upcoming = events.filter((e) => e.event.date >= today);
    return upcoming.at(-1) ?? events[0] ?? null;
  }

  return {
    close: () => outboxJobs?.close() ?? Promise.resolve(),
    cancelScheduled,
    syncAfterSave,
    sync,
    list,
    approve,
    cancelReminder,
    readEvent,
    eventFor,
    bookingOfThread,
  };
}

export type Scheduling = ReturnType<typeof scheduling>;
