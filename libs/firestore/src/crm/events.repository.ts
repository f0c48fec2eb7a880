import { randomInt } from 'node:crypto';
import type { Firestore } from 'firebase-admin/firestore';
import {
  AppError,
  CreateEventBody,
  RecomputeClientJob,
  UpdateEventBody,
  type EventDoc,
  type RoleSlot,
} from '@wacrm/contracts';
import { collections } from '../collections.js';
import { createOnce, sha256Of } from '../create-once.js';

/** What a schema accepts before defaults apply (zod's `z.input`, without a zod dependency here). */
type InputOf<S extends { _zod: { input: unknown } }> = S['_zod']['input'];

/**
 * The producer side of `crm-events` as this module needs it. A `ContractQueue` from libs/queue
 * (`openQueue(CrmEventsQueue, …)`) fits as it is; libs/firestore does not depend on BullMQ.
 */
export interface CrmEventsProducer {
  readonly queue: {
    add(
      name: 'recompute-client',
      data: RecomputeClientJob,
      opts: RecomputeClientJobOptions,
    ): Promise<unknown>;
  };
}

export interface RecomputeClientJobOptions {
  deduplication: { id: string; keepLastIfActive: true };
}

/**
 * One client's recomputes never run side by side: while one runs, later requests collapse into
 * a single follow-up that starts after it (BullMQ `keepLastIfActive`). Since a recompute reads
 * every event, that follow-up sees every write made before it was requested.
 */
export function recomputeClientJobOptions(phoneE164: string): RecomputeClientJobOptions {
  return {
    deduplication: {
      id: `recompute.${phoneE164.replace(/[^A-Za-z0-9+]/g, '_')}`,
      keepLastIfActive: true,
    },
  };
}

/** Asks crm-aggregator to recompute `clients/{phoneE164}`; the payload is parsed first. */
export async function requestClientRecompute(
  producer: CrmEventsProducer,
  job: RecomputeClientJob,
): Promise<void> {
  const parsed = RecomputeClientJob.safeParse(job);
  if (!parsed.success) {
    throw new AppError(
      'INVALID_JOB_PAYLOAD',
      `refusing to enqueue recompute-client: ${parsed.error.message}`,
    );
  }
  await producer.queue.add(
    'recompute-client',
    parsed.data,
    recomputeClientJobOptions(parsed.data.phoneE164),
  );
}

export interface EventWriteOptions {
  /** The caller's uid: `createdBy` of a new event. */
  uid: string;
  /** Where the client recompute is requested after the write. */
  queue: CrmEventsProducer;
  /** Tests pin the clock. */
  now?: Date;
}

export interface CreateEventOptions extends EventWriteOptions {
  /**
   * The caller's Idempotency-Key: the event id is derived from it and the caller, so a retried
   * save returns the event the first call made instead of booking the party twice.
   */
  idempotencyKey?: string;
}

export interface SavedEvent {
  eventId: string;
  event: EventDoc;
}

export interface CreatedEvent extends SavedEvent {
  /** False when an earlier call with the same Idempotency-Key had already created it. */
  created: boolean;
}

/** `evenimente/{id}` of a keyed create: per caller, so two users' keys never meet. */
export function eventIdForKey(uid: string, idempotencyKey: string): string {
  return `req-${sha256Of([uid, idempotencyKey]).slice(0, 40)}`;
}

// Crockford's base32 without I, L, O, U: nothing to misread when it is said on the phone.
const SHORT_ID_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A short id people can read out, e.g. "EV-7K3Q9" (32^5 ≈ 33.5 million values). */
export function newEventShortId(): string {
  let id = 'EV-';
  for (let i = 0; i < 5; i += 1) id += SHORT_ID_ALPHABET[randomInt(SHORT_ID_ALPHABET.length)];
  return id;
}

/** Slots "1", "2", … in the order the characters were given, keeping a performer already cast. */
export function rolesBySlotFrom(
  characters: readonly string[],
  previous: Record<string, RoleSlot> = {},
): Record<string, RoleSlot> {
  const roles: Record<string, RoleSlot> = {};
  characters.forEach((character, index) => {
    const slot = String(index + 1);
    const before = previous[slot];
    roles[slot] = {
      character,
      performer: before !== undefined && before.character === character ? before.performer : null,
    };
  });
  return roles;
}

async function uniqueShortId(db: Firestore): Promise<string> {
  // A lookup makes a clash far less likely still; without transaction isolation it is best effort.
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const candidate = newEventShortId();
    const clash = await collections(db)
      .evenimente()
      .where('eventShortId', '==', candidate)
      .limit(1)
      .get();
    if (clash.empty) return candidate;
  }
  return newEventShortId();
}

function invalid(message: string, path: string): AppError {
  return new AppError('VALIDATION_FAILED', message, { errors: [{ path, message }] });
}

/**
 * Saves a confirmed booking as a NEW `evenimente/{eventId}` (never overwrites another), then asks
 * for the client's recompute. With a `threadId`, the phone and account come from the thread.
 * Without an Idempotency-Key every call is a new event (auto id); with one, a retry returns the
 * first call's event and requests the recompute again, which also repairs an enqueue the first
 * call lost after its write.
 */
export async function createEvent(
  db: Firestore,
  input: InputOf<typeof CreateEventBody>,
  options: CreateEventOptions,
): Promise<CreatedEvent> {
  const body = CreateEventBody.parse(input);
  let phoneE164 = body.phoneE164 ?? null;
  let accountId = body.accountId ?? null;
  if (body.threadId !== undefined) {
    const thread = (await collections(db).threads().doc(body.threadId).get()).data();
    if (thread === undefined) throw new AppError('NOT_FOUND', `thread ${body.threadId} not found`);
    if (thread.phoneE164 === null) {
      if (phoneE164 === null) {
        throw invalid('the thread has no known phone number; give phoneE164', 'phoneE164');
      }
    } else if (phoneE164 !== null && phoneE164 !== thread.phoneE164) {
      throw invalid('phoneE164 does not match the thread', 'phoneE164');
    } else {
      phoneE164 = thread.phoneE164;
    }
    if (accountId !== null && accountId !== thread.accountId) {
      throw invalid('accountId does not match the thread', 'accountId');
    }
    accountId = thread.accountId;
  }
  if (phoneE164 === null) throw invalid('threadId or phoneE164 is required', 'phoneE164');

  const now = options.now ?? new Date();
  const key = options.idempotencyKey;
  const events = collections(db).evenimente();
  const ref = key === undefined ? events.doc() : events.doc(eventIdForKey(options.uid, key));
  const event: EventDoc = {
    phoneE164,
    createdBy: options.uid,
    schemaVersion: 3,
    isArchived: false,
    eventShortId: await uniqueShortId(db),
    date: body.date,
    time: body.time,
    durationHours: body.durationHours,
    address: body.address,
    characters: body.characters,
    rolesBySlot: rolesBySlotFrom(body.characters),
    payment: {
      amount: body.amount,
      advance: body.advance,
      // Paid so far defaults to the advance: that is what a confirmed booking has received.
      paid: body.paid ?? body.advance ?? 0,
      currency: 'RON',
    },
    childName: body.childName,
    childAge: body.childAge,
    guests: body.guests,
    notes: body.notes,
    accountId,
    threadId: body.threadId ?? null,
    sourceExtractionId: body.sourceExtractionId,
    createdAt: now,
    updatedAt: now,
    archivedAt: null,
  };
  let saved: CreatedEvent;
  if (key === undefined) {
    // create() fails if the id exists, so even an id collision cannot overwrite an event.
    await ref.create(event);
    saved = { eventId: ref.id, event, created: true };
  } else {
    event.bodyHash = sha256Of(body);
    const write = await createOnce(
      ref,
      event,
      `Idempotency-Key ${key} was already used for a different event`,
    );
    saved = { eventId: ref.id, event: write.doc, created: write.created };
  }
  await requestClientRecompute(options.queue, {
    phoneE164: saved.event.phoneE164,
    eventId: ref.id,
    reason: 'created',
  });
  return saved;
}

/** A patch field left out keeps the stored value; `null` clears it. */
function keep<T>(value: T | undefined, fallback: T): T {
  return value === undefined ? fallback : value;
}

async function readEvent(db: Firestore, eventId: string): Promise<EventDoc> {
  const event = (await collections(db).evenimente().doc(eventId).get()).data();
  if (event === undefined) throw new AppError('NOT_FOUND', `event ${eventId} not found`);
  return event;
}

/** Edits an event's booking fields; the phone, creator and history stay as they were. */
export async function updateEvent(
  db: Firestore,
  eventId: string,
  input: InputOf<typeof UpdateEventBody>,
  options: EventWriteOptions,
): Promise<SavedEvent> {
  const patch = UpdateEventBody.parse(input);
  const current = await readEvent(db, eventId);
  if (current.isArchived) throw new AppError('CONFLICT', `event ${eventId} is archived`);
  if (patch.date === null) throw invalid('an event needs a date', 'date');
  const characters = patch.characters ?? current.characters;
  const event: EventDoc = {
    ...current,
    date: patch.date ?? current.date,
    time: keep(patch.time, current.time),
    durationHours: keep(patch.durationHours, current.durationHours),
    address: keep(patch.address, current.address),
    characters,
    rolesBySlot: rolesBySlotFrom(characters, current.rolesBySlot),
    payment: {
      ...current.payment,
      amount: keep(patch.amount, current.payment.amount),
      advance: keep(patch.advance, current.payment.advance),
      paid: patch.paid ?? current.payment.paid,
    },
    childName: keep(patch.childName, current.childName),
    childAge: keep(patch.childAge, current.childAge),
    guests: keep(patch.guests, current.guests),
    notes: keep(patch.notes, current.notes),
    updatedAt: options.now ?? new Date(),
  };
  await collections(db).evenimente().doc(eventId).set(event);
  await requestClientRecompute(options.queue, {
    phoneE164: event.phoneE164,
    eventId,
    reason: 'updated',
  });
  return { eventId, event };
}

/**
 * Archives an event: it stays in `evenimente` forever and stops counting for the client. There
 * is deliberately no delete. Archiving twice is harmless.
 */
export async function archiveEvent(
  db: Firestore,
  eventId: string,
  options: EventWriteOptions,
): Promise<SavedEvent> {
  const current = await readEvent(db, eventId);
  const now = options.now ?? new Date();
  const event: EventDoc = current.isArchived
    ? current
    : { ...current, isArchived: true, archivedAt: now, updatedAt: now };
  if (!current.isArchived) await collections(db).evenimente().doc(eventId).set(event);
  await requestClientRecompute(options.queue, {
    phoneE164: event.phoneE164,
    eventId,
    reason: 'archived',
  });
  return { eventId, event };
}

/**
 * The most events read for one client (issue 15): a phone flooded with events cannot make a
 * profile, a list or an answer read them all. Past it, the newest are read.
 */
export const CLIENT_EVENTS_READ_MAX = 1000;

/** A client's events, newest first (by date, then creation), archived ones included. */
export async function listClientEvents(
  db: Firestore,
  phoneE164: string,
  max = CLIENT_EVENTS_READ_MAX,
): Promise<Array<SavedEvent>> {
  const snapshot = await collections(db)
    .evenimente()
    .where('phoneE164', '==', phoneE164)
    .orderBy('date', 'desc')
    .limit(max)
    .get();
  return snapshot.docs
    .map((doc) => ({ eventId: doc.id, event: doc.data() }))
    .sort(
      (a, b) =>
        b.event.date.localeCompare(a.event.date) ||
        b.event.createdAt.getTime() - a.event.createdAt.getTime(),
    );
}
