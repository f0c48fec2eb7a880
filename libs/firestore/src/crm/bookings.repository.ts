import type { CollectionReference, Firestore } from 'firebase-admin/firestore';
import {
  AppError,
  BOOKING_MAX_HOURS,
  CreateCostumeBody,
  CreatePerformerBody,
  TRAVEL_BUFFER_MAX_MINUTES,
  UpdateCostumeBody,
  UpdatePerformerBody,
  bucharestParts,
  holdsResources,
  instantOf,
  type BookingConflict,
  type BookingFields,
  type CostumeDoc,
  type EventDoc,
  type PerformerDoc,
} from '@wacrm/contracts';
import { collections } from '../collections.js';
import { bookingConflicts, type BookedSpan, type ResourceRules } from './booking-conflicts.js';
import { bookingMoney, bookingStatusOf } from './event-figures.js';

/** What a writer under a resource lock holds (a `FencedLease` of libs/queue fits as it is). */
export interface ResourceLease {
  readonly token: number;
  assertHeld(): Promise<void>;
}

/** One writer per performer or costume across replicas (libs/queue `RedisFencedLock` fits). */
export interface ResourceLock {
  run<T>(key: string, task: (lease: ResourceLease) => Promise<T>): Promise<T>;
}

function invalid(message: string, path: string): AppError {
  return new AppError('VALIDATION_FAILED', message, { errors: [{ path, message }] });
}

const performerKey = (accountId: string, id: string) => `${accountId}.p.${id}`;
const costumeKey = (accountId: string, id: string) => `${accountId}.c.${id}`;

/**
 * Runs `task` holding the lock of every performer and costume named, taken in one sorted
 * order so two saves never wait on each other crosswise. While held, no other booking of those
 * resources (on any replica) is checked or written, so a check-then-write cannot race.
 */
export async function underResourceLocks<T>(
  lock: ResourceLock,
  accountId: string,
  resources: { performerIds: readonly string[]; costumeIds: readonly string[] },
  task: (leases: ResourceLease[]) => Promise<T>,
): Promise<T> {
  const keys = [
    ...new Set([
      ...resources.performerIds.map((id) => performerKey(accountId, id)),
      ...resources.costumeIds.map((id) => costumeKey(accountId, id)),
    ]),
  ].sort();
  const step = (i: number, leases: ResourceLease[]): Promise<T> =>
    i === keys.length
      ? task(leases)
      : lock.run(keys[i]!, (lease) => step(i + 1, [...leases, lease]));
  return step(0, []);
}

// --- performers and costumes ------------------------------------------------------------------

export interface ResourceWriteOptions {
  uid: string;
  lock: ResourceLock;
  now?: Date;
}

export async function createPerformer(
  db: Firestore,
  input: CreatePerformerBody,
  options: ResourceWriteOptions,
): Promise<{ id: string; doc: PerformerDoc }> {
  const body = CreatePerformerBody.parse(input);
  const now = options.now ?? new Date();
  const ref = collections(db).performers().doc();
  const doc: PerformerDoc = {
    ...body,
    workingDays: [...new Set(body.workingDays)].sort(),
    daysOff: [...new Set(body.daysOff)].sort(),
    isArchived: false,
    createdBy: options.uid,
    createdAt: now,
    updatedAt: now,
  };
  await ref.create(doc);
  return { id: ref.id, doc };
}

export async function createCostume(
  db: Firestore,
  input: CreateCostumeBody,
  options: ResourceWriteOptions,
): Promise<{ id: string; doc: CostumeDoc }> {
  const body = CreateCostumeBody.parse(input);
  const now = options.now ?? new Date();
  const ref = collections(db).costumes().doc();
  const doc: CostumeDoc = {
    ...body,
    isArchived: false,
    createdBy: options.uid,
    createdAt: now,
    updatedAt: now,
  };
  await ref.create(doc);
  return { id: ref.id, doc };
}

export async function readPerformer(db: Firestore, id: string): Promise<PerformerDoc> {
  const doc = (await collections(db).performers().doc(id).get()).data();
  if (doc === undefined) throw new AppError('NOT_FOUND', `performer ${id} not found`);
  return doc;
}

export async function readCostume(db: Firestore, id: string): Promise<CostumeDoc> {
  const doc = (await collections(db).costumes().doc(id).get()).data();
  if (doc === undefined) throw new AppError('NOT_FOUND', `costume ${id} not found`);
  return doc;
}

/**
 * Edits a performer under the same lock bookings of it take, so a day off added while a booking
 * of that day is being saved is either seen by that save or refused after it. Never deletes:
 * `isArchived` retires a performer.
 */
export async function updatePerformer(
  db: Firestore,
  id: string,
  input: unknown,
  options: ResourceWriteOptions,
): Promise<{ id: string; doc: PerformerDoc }> {
  const patch = UpdatePerformerBody.parse(input);
  const before = await readPerformer(db, id);
  return options.lock.run(performerKey(before.accountId, id), async (lease) => {
    const current = await readPerformer(db, id);
    const doc: PerformerDoc = {
      ...current,
      ...patch,
      workingDays: [...new Set(patch.workingDays ?? current.workingDays)].sort(),
      daysOff: [...new Set(patch.daysOff ?? current.daysOff)].sort(),
      updatedAt: options.now ?? new Date(),
    };
    await lease.assertHeld();
    await collections(db).performers().doc(id).set(doc);
    return { id, doc };
  });
}

export async function updateCostume(
  db: Firestore,
  id: string,
  input: unknown,
  options: ResourceWriteOptions,
): Promise<{ id: string; doc: CostumeDoc }> {
  const patch = UpdateCostumeBody.parse(input);
  const before = await readCostume(db, id);
  return options.lock.run(costumeKey(before.accountId, id), async (lease) => {
    const current = await readCostume(db, id);
    const doc: CostumeDoc = { ...current, ...patch, updatedAt: options.now ?? new Date() };
    await lease.assertHeld();
    await collections(db).costumes().doc(id).set(doc);
    return { id, doc };
  });
}

/** The most performers or costumes one account lists. */
export const RESOURCES_LIST_MAX = 500;

/** An account's performers or costumes by name (archived ones only when asked). */
async function listOwned<D extends { name: string; isArchived: boolean }>(
  collection: CollectionReference<D>,
  accountId: string,
  includeArchived: boolean,
): Promise<{ items: Array<{ id: string; doc: D }>; truncated: boolean }> {
  const snap = await collection
    .where('accountId', '==', accountId)
    .limit(RESOURCES_LIST_MAX + 1)
    .get();
  const items = snap.docs
    .map((d) => ({ id: d.id, doc: d.data() }))
    .filter((r) => includeArchived || !r.doc.isArchived)
    .sort((a, b) => a.doc.name.localeCompare(b.doc.name, 'ro'));
  return { items: items.slice(0, RESOURCES_LIST_MAX), truncated: snap.size > RESOURCES_LIST_MAX };
}

export function listPerformers(db: Firestore, accountId: string, includeArchived: boolean) {
  return listOwned(collections(db).performers(), accountId, includeArchived);
}

export function listCostumes(db: Firestore, accountId: string, includeArchived: boolean) {
  return listOwned(collections(db).costumes(), accountId, includeArchived);
}

// --- bookings ---------------------------------------------------------------------------------

/** The booking-relevant fields of an event, as stored. */
export type BookingPart = Pick<
  EventDoc,
  'status' | 'start' | 'end' | 'performerIds' | 'costumeIds' | 'depositDueDate' | 'balanceDueDate'
>;

/** Whether an event body touches when or with what a booking happens. */
export function touchesResources(fields: BookingFields): boolean {
  return (
    fields.start !== undefined ||
    fields.end !== undefined ||
    fields.performerIds !== undefined ||
    fields.costumeIds !== undefined
  );
}

/** The stored booking after `fields` are applied over `current` (left out: kept). */
export function mergeBooking(fields: BookingFields, current: BookingPart = {}): BookingPart {
  const merged: BookingPart = { ...current };
  if (fields.status !== undefined) merged.status = fields.status;
  if (fields.start !== undefined) merged.start = instantOf(fields.start);
  if (fields.end !== undefined) merged.end = instantOf(fields.end);
  if (fields.performerIds !== undefined) merged.performerIds = [...new Set(fields.performerIds)];
  if (fields.costumeIds !== undefined) merged.costumeIds = [...new Set(fields.costumeIds)];
  if (fields.depositDueDate !== undefined) merged.depositDueDate = fields.depositDueDate;
  if (fields.balanceDueDate !== undefined) merged.balanceDueDate = fields.balanceDueDate;
  for (const key of Object.keys(merged) as Array<keyof BookingPart>) {
    if (merged[key] === undefined) delete merged[key];
  }
  return merged;
}

/** The legacy fields a booking's times imply, so the seeds' client shows the same party. */
export function legacyTimesOf(booking: BookingPart) {
  if (booking.start === undefined) return {};
  const local = bucharestParts(booking.start);
  const hours =
    booking.end === undefined
      ? undefined
      : Math.round(((booking.end.getTime() - booking.start.getTime()) / 3_600_000) * 100) / 100;
  return {
    date: local.date,
    time: local.time,
    ...(hours !== undefined ? { durationHours: hours } : {}),
  };
}

/** Refuses a booking with half a time, an end before its start, or over 24 hours. */
export function checkBookingShape(booking: BookingPart, accountId: string | null): void {
  const holds = (booking.performerIds?.length ?? 0) + (booking.costumeIds?.length ?? 0) > 0;
  if (booking.start === undefined && (booking.end !== undefined || holds)) {
    throw invalid('a booking with an end, performers or costumes needs a start', 'start');
  }
  if (booking.start !== undefined && booking.end === undefined) {
    throw invalid('a booking with a start needs an end', 'end');
  }
  if (booking.start !== undefined && booking.end !== undefined) {
    const ms = booking.end.getTime() - booking.start.getTime();
    if (ms <= 0) throw invalid('end must be after start', 'end');
    if (ms > BOOKING_MAX_HOURS * 3_600_000) {
      throw invalid(`a booking lasts at most ${BOOKING_MAX_HOURS} hours`, 'end');
    }
  }
  if (holds && accountId === null) {
    throw invalid('performers and costumes belong to an account: give accountId', 'accountId');
  }
}

/** The performers' and costumes' rules, refusing ids unknown, archived or of another account. */
export async function resourceRulesFor(
  db: Firestore,
  accountId: string,
  ids: { performerIds: readonly string[]; costumeIds: readonly string[] },
): Promise<ResourceRules> {
  const performers = new Map<string, PerformerDoc>();
  const costumes = new Map<string, CostumeDoc>();
  for (const id of ids.performerIds) {
    const doc = (await collections(db).performers().doc(id).get()).data();
    if (doc === undefined || doc.accountId !== accountId || doc.isArchived) {
      throw invalid(`no performer ${id} in this account`, 'performerIds');
    }
    performers.set(id, doc);
  }
  for (const id of ids.costumeIds) {
    const doc = (await collections(db).costumes().doc(id).get()).data();
    if (doc === undefined || doc.accountId !== accountId || doc.isArchived) {
      throw invalid(`no costume ${id} in this account`, 'costumeIds');
    }
    costumes.set(id, doc);
  }
  return { performers, costumes };
}

/** The most bookings one window query reads. */
export const BOOKINGS_WINDOW_MAX = 5000;

/**
 * The account's events starting in `[from, to)`, archived ones included (callers filter). One
 * range query on `start` (index accountId + start).
 */
export async function eventsStartingIn(
  db: Firestore,
  accountId: string,
  from: Date,
  to: Date,
): Promise<Array<{ eventId: string; event: EventDoc }>> {
  const snap = await collections(db)
    .evenimente()
    .where('accountId', '==', accountId)
    .where('start', '>=', from)
    .where('start', '<', to)
    .limit(BOOKINGS_WINDOW_MAX)
    .get();
  return snap.docs
    .map((d) => ({ eventId: d.id, event: d.data() }))
    .filter((e) => e.event.start !== undefined && e.event.start >= from && e.event.start < to);
}

/** An event as a span that holds resources, or null when it holds none (cancelled, archived…). */
export function spanOf(
  eventId: string,
  event: BookingPart & Pick<EventDoc, 'isArchived'>,
): BookedSpan | null {
  if (event.isArchived || !holdsResources(bookingStatusOf(event))) return null;
  if (event.start === undefined || event.end === undefined) return null;
  return {
    eventId,
    start: event.start,
    end: event.end,
    performerIds: event.performerIds ?? [],
    costumeIds: event.costumeIds ?? [],
  };
}

const LOOK_BACK_MS = (BOOKING_MAX_HOURS * 60 + TRAVEL_BUFFER_MAX_MINUTES) * 60_000;
const LOOK_AHEAD_MS = TRAVEL_BUFFER_MAX_MINUTES * 60_000;

/** The account's bookings that hold resources and could collide with `[from, to)`. */
export async function spansAround(
  db: Firestore,
  accountId: string,
  from: Date,
  to: Date,
): Promise<BookedSpan[]> {
  const events = await eventsStartingIn(
    db,
    accountId,
    new Date(from.getTime() - LOOK_BACK_MS),
    new Date(to.getTime() + LOOK_AHEAD_MS),
  );
  return events.flatMap(({ eventId, event }) => spanOf(eventId, event) ?? []);
}

/**
 * The conflicts of a booking about to be written (empty when it holds nothing or is cancelled).
 * Call it holding the locks of its resources (underResourceLocks).
 */
export async function conflictsOf(
  db: Firestore,
  accountId: string | null,
  eventId: string,
  booking: BookingPart,
  isArchived: boolean,
): Promise<BookingConflict[]> {
  checkBookingShape(booking, accountId);
  const span = spanOf(eventId, { ...booking, isArchived });
  if (span === null || accountId === null) return [];
  if (span.performerIds.length === 0 && span.costumeIds.length === 0) return [];
  const rules = await resourceRulesFor(db, accountId, span);
  const others = await spansAround(db, accountId, span.start, span.end);
  return bookingConflicts(span, others, rules);
}

// --- availability -------------------------------------------------------------------------------

const SLOT_STEP_MS = 30 * 60_000;
const SLOT_SEARCH_MS = 7 * 86_400_000;
const sameCharacter = (a: string, b: string) =>
  a.localeCompare(b, 'ro', { sensitivity: 'base' }) === 0;

/**
 * Whether some performer who plays `character` (and, when the account tracks costumes for it,
 * a costume) is free for `[start, start + duration)`, and the nearest free starts within a week
 * either side, on the half hour, never in the past.
 */
export async function availability(
  db: Firestore,
  input: {
    accountId: string;
    character: string;
    start: Date;
    durationMinutes: number;
    slots: number;
    now?: Date;
  },
) {
  const duration = input.durationMinutes * 60_000;
  const end = new Date(input.start.getTime() + duration);
  const performers = (await listPerformers(db, input.accountId, false)).items.filter((p) =>
    p.doc.characters.some((c) => sameCharacter(c, input.character)),
  );
  const costumes = (await listCostumes(db, input.accountId, false)).items.filter(
    (c) => c.doc.character !== null && sameCharacter(c.doc.character, input.character),
  );
  const rules: ResourceRules = {
    performers: new Map(performers.map((p) => [p.id, p.doc])),
    costumes: new Map(costumes.map((c) => [c.id, c.doc])),
  };
  const others = await spansAround(
    db,
    input.accountId,
    new Date(input.start.getTime() - SLOT_SEARCH_MS),
    new Date(end.getTime() + SLOT_SEARCH_MS),
  );
  const at = (start: number) => {
    const span = (extra: Partial<BookedSpan>): BookedSpan => ({
      eventId: '',
      start: new Date(start),
      end: new Date(start + duration),
      performerIds: [],
      costumeIds: [],
      ...extra,
    });
    const byPerformer = performers.map((p) => {
      const conflicts = bookingConflicts(span({ performerIds: [p.id] }), others, rules);
      return { performerId: p.id, name: p.doc.name, free: conflicts.length === 0, conflicts };
    });
    const byCostume = costumes.map((c) => ({
      costumeId: c.id,
      name: c.doc.name,
      free: bookingConflicts(span({ costumeIds: [c.id] }), others, rules).length === 0,
    }));
    const costumeFree = costumes.length === 0 || byCostume.some((c) => c.free);
    return { byPerformer, byCostume, free: costumeFree && byPerformer.some((p) => p.free) };
  };
  const asked = at(input.start.getTime());
  const nearest: Array<{ start: string; end: string; performerId: string }> = [];
  const now = (input.now ?? new Date()).getTime();
  const base = Math.ceil(input.start.getTime() / SLOT_STEP_MS) * SLOT_STEP_MS;
  for (let k = 0; nearest.length < input.slots && k * SLOT_STEP_MS <= SLOT_SEARCH_MS; k += 1) {
    for (const start of k === 0 ? [base] : [base + k * SLOT_STEP_MS, base - k * SLOT_STEP_MS]) {
      if (nearest.length >= input.slots || start < now || start === input.start.getTime()) {
        continue;
      }
      const found = at(start);
      const performer = found.byPerformer.find((p) => p.free);
      if (found.free && performer !== undefined) {
        nearest.push({
          start: new Date(start).toISOString(),
          end: new Date(start + duration).toISOString(),
          performerId: performer.performerId,
        });
      }
    }
  }
  return {
    character: input.character,
    start: input.start.toISOString(),
    end: end.toISOString(),
    free: asked.free,
    performers: asked.byPerformer,
    costumes: asked.byCostume,
    nearestFreeSlots: nearest,
  };
}

// --- dues ---------------------------------------------------------------------------------------

/** The most events one dues query reads per kind. */
export const DUES_READ_MAX = 1000;

/**
 * Deposits and balances due up to `to`: those due in `[from, to]` and, flagged overdue, those
 * due before `from` still unpaid (an overdue booking is flagged, never removed).
 */
export async function duesOf(
  db: Firestore,
  accountId: string,
  range: { from: string; to: string },
  today: string = bucharestParts(new Date()).date,
) {
  const items = [];
  let truncated = false;
  for (const kind of ['deposit', 'balance'] as const) {
    const field = kind === 'deposit' ? 'depositDueDate' : 'balanceDueDate';
    const snap = await collections(db)
      .evenimente()
      .where('accountId', '==', accountId)
      .where(field, '<=', range.to)
      .limit(DUES_READ_MAX)
      .get();
    truncated ||= snap.size >= DUES_READ_MAX;
    for (const doc of snap.docs) {
      const event = doc.data();
      const dueDate = event[field];
      if (typeof dueDate !== 'string' || dueDate > range.to) continue;
      const money = bookingMoney(event, today);
      const amountDue = kind === 'deposit' ? money.depositOutstanding : money.outstanding;
      const overdue = kind === 'deposit' ? money.depositOverdue : money.balanceOverdue;
      if (amountDue <= 0 || (dueDate < range.from && !overdue)) continue;
      items.push({
        eventId: doc.id,
        eventShortId: event.eventShortId,
        phoneE164: event.phoneE164,
        kind,
        dueDate,
        amountDue,
        overdue,
        status: bookingStatusOf(event),
        start: event.start?.toISOString() ?? null,
      });
    }
  }
  items.sort((a, b) => a.dueDate.localeCompare(b.dueDate) || a.eventId.localeCompare(b.eventId));
  return { from: range.from, to: range.to, items, truncated };
}
