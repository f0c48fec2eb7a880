import { randomInt } from 'node:crypto';
import type { Firestore } from 'firebase-admin/firestore';
import {
  AppError,
  Collections,
  CreateEventBody,
  EventEditDoc,
  EventEditsCollection,
  BookingConflictError,
  RecomputeClientJob,
  RecordPaymentBody,
  UpdateEventBody,
  bucharestParts,
  canMoveBooking,
  type BookingPayment,
  type EventDoc,
  type RoleSlot,
} from '@wacrm/contracts';
import { collections } from '../collections.js';
import { contractConverter } from '../converters.js';
import { createOnce, sha256Of } from '../create-once.js';
import {
  conflictsOf,
  legacyTimesOf,
  mergeBooking,
  touchesResources,
  underResourceLocks,
  type BookingPart,
  type ResourceLease,
  type ResourceLock,
} from './bookings.repository.js';
import { bookingStatusOf, paidOf, sumMoney } from './event-figures.js';

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
  /**
   * Issue 19: serialises the bookings of each performer and costume; required to save a booking
   * that names any (their conflicts are checked holding it).
   */
  resourceLock?: ResourceLock;
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
  const booking = mergeBooking(body);
  if (booking.status === undefined && Object.keys(booking).length > 0) {
    booking.status = bookingStatusOf(booking);
  }
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
    version: 1,
    ...booking,
    ...legacyTimesOf(booking),
  };
  const write = async (held: ResourceLease[]): Promise<CreatedEvent> => {
    const conflicts = await conflictsOf(db, accountId, ref.id, booking, false);
    if (conflicts.length > 0) throw new BookingConflictError(conflicts);
    for (const lease of held) await lease.assertHeld();
    if (key === undefined) {
      // create() fails if the id exists, so even an id collision cannot overwrite an event.
      await ref.create(event);
      return { eventId: ref.id, event, created: true };
    }
    event.bodyHash = sha256Of(body);
    const once = await createOnce(
      ref,
      event,
      `Idempotency-Key ${key} was already used for a different event`,
    );
    return { eventId: ref.id, event: once.doc, created: once.created };
  };
  const saved = await withResources(options, accountId, booking, write);
  await requestClientRecompute(options.queue, {
    phoneE164: saved.event.phoneE164,
    eventId: ref.id,
    reason: 'created',
  });
  return saved;
}

/** Runs a booking's write holding the locks of the performers and costumes it names. */
async function withResources<T>(
  options: { resourceLock?: ResourceLock },
  accountId: string | null,
  booking: BookingPart,
  task: (held: ResourceLease[]) => Promise<T>,
): Promise<T> {
  const performerIds = booking.performerIds ?? [];
  const costumeIds = booking.costumeIds ?? [];
  if (accountId === null || performerIds.length + costumeIds.length === 0) return task([]);
  if (options.resourceLock === undefined) {
    throw new AppError('INTERNAL', 'a booking with performers or costumes needs the resource lock');
  }
  return underResourceLocks(options.resourceLock, accountId, { performerIds, costumeIds }, task);
}

/** The booking fields of a stored event. */
function bookingOf(event: EventDoc): BookingPart {
  return mergeBooking(
    {},
    {
      status: event.status,
      start: event.start,
      end: event.end,
      performerIds: event.performerIds,
      costumeIds: event.costumeIds,
      depositDueDate: event.depositDueDate,
      balanceDueDate: event.balanceDueDate,
    },
  );
}

/** A patch field left out keeps the stored value; `null` clears it. */
function keep<T>(value: T | undefined, fallback: T): T {
  return value === undefined ? fallback : value;
}

/** The lease a writer holds on one event (a `FencedLease` of libs/queue fits as it is). */
export interface EventEditLease {
  readonly token: number;
  assertHeld(): Promise<void>;
  advancePast(token: number): Promise<void>;
}

/** One writer per event across replicas (libs/queue `RedisFencedLock` fits as it is). */
export interface EventEditLock {
  run<T>(eventId: string, task: (lease: EventEditLease) => Promise<T>): Promise<T>;
}

export interface EventEditOptions extends EventWriteOptions {
  /** Serialises the edits of one event; the store has no isolation to rely on. */
  lock: EventEditLock;
  /** The version the caller read (`If-Match`); another stored version is a 409. */
  expectedVersion?: number;
  /** The caller's Idempotency-Key: a retry returns the version the first call wrote. */
  idempotencyKey?: string;
}

export interface EditedEvent extends SavedEvent {
  /** True when an earlier call with the same Idempotency-Key had already made this edit. */
  replayed: boolean;
}

/** Events written before versions existed are version 1. */
export function versionOf(event: EventDoc): number {
  return event.version ?? 1;
}

/** `evenimente/{id}/edits/{…}` of a keyed edit: per caller, so two users' keys never meet. */
function editRef(db: Firestore, eventId: string, uid: string, key: string) {
  return db
    .collection(Collections.evenimente)
    .doc(eventId)
    .collection(EventEditsCollection)
    .withConverter(editConverter)
    .doc(`edit-${sha256Of([uid, key]).slice(0, 40)}`);
}

const editConverter = contractConverter('event edit', EventEditDoc);

/**
 * The one write path of an edit: under the event's lock, re-read it, answer a replayed key,
 * refuse a stale version or a write over a newer lock holder's, then write the event (version
 * + 1, the lease's token) and the key's record in one commit, checking the lease just before.
 * The read-modify-write is safe because no other writer of this event runs meanwhile.
 */
async function editEvent(
  db: Firestore,
  eventId: string,
  kind: EventEditDoc['kind'],
  requestHash: string,
  options: EventEditOptions,
  change: (current: EventDoc, now: Date) => EventDoc | null | Promise<EventDoc | null>,
  held: readonly ResourceLease[] = [],
): Promise<EditedEvent> {
  return options.lock.run(eventId, async (lease) => {
    const current = await readEvent(db, eventId);
    const key = options.idempotencyKey;
    const keyRef = key === undefined ? undefined : editRef(db, eventId, options.uid, key);
    if (keyRef !== undefined) {
      const earlier = (await keyRef.get()).data();
      if (earlier !== undefined) {
        const done = earlier;
        if (done.kind !== kind || done.bodyHash !== requestHash) {
          throw new AppError(
            'CONFLICT',
            `Idempotency-Key ${key} was already used for a different edit of event ${eventId}`,
          );
        }
        return { eventId, event: current, replayed: true };
      }
    }
    if (current.writeFence !== undefined && current.writeFence > lease.token) {
      await lease.advancePast(current.writeFence);
      throw new AppError(
        'DEPENDENCY_UNAVAILABLE',
        `event ${eventId} was written under a newer lock; try again`,
      );
    }
    const stored = versionOf(current);
    if (options.expectedVersion !== undefined && options.expectedVersion !== stored) {
      throw new AppError(
        'CONFLICT',
        `event ${eventId} is at version ${stored}, not ${options.expectedVersion}: reload it and edit again`,
      );
    }
    const now = options.now ?? new Date();
    const next = await change(current, now);
    if (next === null) return { eventId, event: current, replayed: false };
    const event: EventDoc = { ...next, version: stored + 1, writeFence: lease.token };
    const batch = db.batch();
    batch.set(collections(db).evenimente().doc(eventId), event);
    if (keyRef !== undefined) {
      const record: EventEditDoc = {
        kind,
        uid: options.uid,
        bodyHash: requestHash,
        version: event.version!,
        at: now,
      };
      batch.set(keyRef, record);
    }
    await lease.assertHeld();
    for (const resource of held) await resource.assertHeld();
    await batch.commit();
    return { eventId, event, replayed: false };
  });
}

async function readEvent(db: Firestore, eventId: string): Promise<EventDoc> {
  const event = (await collections(db).evenimente().doc(eventId).get()).data();
  if (event === undefined) throw new AppError('NOT_FOUND', `event ${eventId} not found`);
  return event;
}

/**
 * Edits an event's booking fields; the phone, creator and history stay as they were. Edits of
 * one event are serialised (options.lock) and compared on the version (options.expectedVersion).
 */
export async function updateEvent(
  db: Firestore,
  eventId: string,
  input: InputOf<typeof UpdateEventBody>,
  options: EventEditOptions,
): Promise<EditedEvent> {
  const patch = UpdateEventBody.parse(input);
  if (patch.date === null) throw invalid('an event needs a date', 'date');
  const resourcesTouched = touchesResources(patch);
  const idsOf = (event: EventDoc) => ({
    performerIds: patch.performerIds ?? event.performerIds ?? [],
    costumeIds: patch.costumeIds ?? event.costumeIds ?? [],
  });
  // The resources to lock are read before the event's lock; under it, they are checked again.
  const unlocked = resourcesTouched ? await readEvent(db, eventId) : undefined;
  const locked = unlocked === undefined ? { performerIds: [], costumeIds: [] } : idsOf(unlocked);
  const edit = (held: ResourceLease[]) =>
    editEvent(
      db,
      eventId,
      'update',
      sha256Of(patch),
      options,
      async (current, now) => {
        if (current.isArchived) throw new AppError('CONFLICT', `event ${eventId} is archived`);
        const from = bookingStatusOf(current);
        if (patch.status !== undefined && !canMoveBooking(from, patch.status)) {
          throw new AppError('CONFLICT', `a ${from} booking cannot become ${patch.status}`, {
            errors: [{ path: 'status', message: `not allowed from ${from}` }],
          });
        }
        if (patch.paid !== undefined && (current.payments?.length ?? 0) > 0) {
          throw invalid('paid is the sum of the recorded payments; record a payment', 'paid');
        }
        const booking = mergeBooking(patch, bookingOf(current));
        if (booking.status === undefined && Object.keys(booking).length > 0) booking.status = from;
        if (resourcesTouched) {
          const needed = idsOf(current);
          const covered =
            needed.performerIds.every((id) => locked.performerIds.includes(id)) &&
            needed.costumeIds.every((id) => locked.costumeIds.includes(id));
          if (!covered) {
            throw new AppError(
              'DEPENDENCY_UNAVAILABLE',
              `event ${eventId} changed its performers meanwhile; try again`,
            );
          }
          const conflicts = await conflictsOf(db, current.accountId, eventId, booking, false);
          if (conflicts.length > 0) throw new BookingConflictError(conflicts);
        }
        const characters = patch.characters ?? current.characters;
        return {
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
            paid: patch.paid ?? paidOf(current),
          },
          childName: keep(patch.childName, current.childName),
          childAge: keep(patch.childAge, current.childAge),
          guests: keep(patch.guests, current.guests),
          notes: keep(patch.notes, current.notes),
          ...booking,
          ...(resourcesTouched ? legacyTimesOf(booking) : {}),
          updatedAt: now,
        };
      },
      held,
    );
  const saved = await withResources(options, unlocked?.accountId ?? null, locked, (held) =>
    edit(held),
  );
  await requestClientRecompute(options.queue, {
    phoneE164: saved.event.phoneE164,
    eventId,
    reason: 'updated',
  });
  return saved;
}

/** `paymentId` of a payment recorded with an Idempotency-Key: per caller, like edits. */
export function paymentIdFor(uid: string, idempotencyKey: string): string {
  return `pay-${sha256Of([uid, idempotencyKey]).slice(0, 32)}`;
}

/**
 * Issue 19: records a payment on a booking through the event's one write path (lock, version,
 * Idempotency-Key — required here, so a retried payment is never counted twice). `payment.paid`
 * becomes the sum of `payments`; money paid before payments were recorded is kept as an opening
 * entry. Payments are never removed.
 */
export async function recordPayment(
  db: Firestore,
  eventId: string,
  input: InputOf<typeof RecordPaymentBody>,
  options: EventEditOptions & { idempotencyKey: string },
): Promise<EditedEvent> {
  const body = RecordPaymentBody.parse(input);
  const paymentId = paymentIdFor(options.uid, options.idempotencyKey);
  const saved = await editEvent(db, eventId, 'payment', sha256Of(body), options, (current, now) => {
    if (current.isArchived) throw new AppError('CONFLICT', `event ${eventId} is archived`);
    const payments: BookingPayment[] = [...(current.payments ?? [])];
    if (payments.some((p) => p.paymentId === paymentId)) return null;
    if (payments.length === 0 && current.payment.paid > 0) {
      payments.push({
        paymentId: 'opening',
        amount: current.payment.paid,
        date: bucharestParts(current.createdAt).date,
        method: 'other',
        note: 'paid before payments were recorded',
        recordedBy: current.createdBy,
        recordedAt: now,
      });
    }
    payments.push({ paymentId, ...body, recordedBy: options.uid, recordedAt: now });
    return {
      ...current,
      payments,
      payment: { ...current.payment, paid: sumMoney(payments.map((p) => p.amount)) },
      updatedAt: now,
    };
  });
  await requestClientRecompute(options.queue, {
    phoneE164: saved.event.phoneE164,
    eventId,
    reason: 'updated',
  });
  return saved;
}

/**
 * Archives an event: it stays in `evenimente` forever and stops counting for the client. There
 * is deliberately no delete. Archiving twice is harmless (the second changes nothing).
 */
export async function archiveEvent(
  db: Firestore,
  eventId: string,
  options: EventEditOptions,
): Promise<EditedEvent> {
  const saved = await editEvent(
    db,
    eventId,
    'archive',
    sha256Of('archive'),
    options,
    (current, now) =>
      current.isArchived ? null : { ...current, isArchived: true, archivedAt: now, updatedAt: now },
  );
  await requestClientRecompute(options.queue, {
    phoneE164: saved.event.phoneE164,
    eventId,
    reason: 'archived',
  });
  return saved;
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
