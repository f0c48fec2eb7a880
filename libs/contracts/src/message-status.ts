/**
 * The one order of message statuses, for ingest, outbox-sender and the web. Zod-free, so a browser
 * imports it (`@wacrm/contracts/message-status`) without the schemas. The zod enums in
 * `common.schema.ts` and `firestore.schema.ts` are built from these lists.
 */
export const MESSAGE_STATUSES = [
  'received',
  'queued',
  'sending',
  'sent',
  'delivered',
  'read',
  'failed',
] as const;
export type MessageStatusName = (typeof MESSAGE_STATUSES)[number];

export const OUTBOX_STATUSES = [
  'queued',
  'sending',
  'sent',
  'delivered',
  'read',
  'failed',
  'paused',
  'scheduled',
  'cancelled',
] as const;
export type OutboxStatusName = (typeof OUTBOX_STATUSES)[number];

// `failed` sits between sending and sent: it ends a send that never reached the server, and an
// ack or receipt that arrives anyway (proof it went out) moves past it. `paused` waits like
// `queued`. `scheduled` waits for its time before `queued`; `cancelled` (only from `scheduled`) is
// final: nothing moves it (outbox-sender's transition refuses every event on it).
const RANK: Readonly<Record<MessageStatusName | OutboxStatusName, number>> = {
  received: 0,
  scheduled: 0.5,
  queued: 1,
  paused: 1,
  sending: 2,
  failed: 2.5,
  sent: 3,
  delivered: 4,
  read: 5,
  cancelled: 6,
};

/** The status after `incoming` arrives: statuses only move forward, replays change nothing. */
export function advanceStatus<S extends MessageStatusName>(current: S, incoming: S): S {
  return RANK[incoming] > RANK[current] ? incoming : current;
}

/** Folds an optional status into another, keeping the furthest. */
export function furthestStatus<S extends MessageStatusName>(a: S | null, b: S | null): S | null {
  if (a === null) return b;
  if (b === null) return a;
  return advanceStatus(a, b);
}

/** Whether `status` has reached `atLeast` (e.g. an outbound message WhatsApp acknowledged). */
export function statusReached(
  status: MessageStatusName | OutboxStatusName,
  atLeast: MessageStatusName | OutboxStatusName,
): boolean {
  return RANK[status] >= RANK[atLeast];
}

/** The outbox status after a message status arrives, or null when the outbox must not move. */
export function advanceOutbox(
  current: OutboxStatusName,
  incoming: MessageStatusName,
): OutboxStatusName | null {
  if (incoming === 'received') return null;
  return RANK[incoming] > RANK[current] ? incoming : null;
}
