import type { MessageStatus, OutboxStatus } from '@wacrm/contracts';

// `failed` sits between sending and sent: it ends a send that never reached the server, and an
// ack or receipt that arrives anyway (proof it went out) moves past it.
const RANK: Record<MessageStatus, number> = {
  received: 0,
  queued: 1,
  sending: 2,
  failed: 2.5,
  sent: 3,
  delivered: 4,
  read: 5,
};

/** The status after `incoming` arrives: statuses only move forward, replays change nothing. */
export function advanceStatus(current: MessageStatus, incoming: MessageStatus): MessageStatus {
  return RANK[incoming] > RANK[current] ? incoming : current;
}

/** Folds an optional status into another, keeping the furthest. */
export function furthestStatus(
  a: MessageStatus | null,
  b: MessageStatus | null,
): MessageStatus | null {
  if (a === null) return b;
  if (b === null) return a;
  return advanceStatus(a, b);
}

const OUTBOX_RANK: Record<OutboxStatus, number> = {
  queued: 1,
  paused: 1,
  sending: 2,
  failed: 2.5,
  sent: 3,
  delivered: 4,
  read: 5,
};

/** The outbox mirror of a message status, or null when the outbox must not move. */
export function advanceOutbox(current: OutboxStatus, incoming: MessageStatus): OutboxStatus | null {
  if (incoming === 'received') return null;
  return OUTBOX_RANK[incoming] > OUTBOX_RANK[current] ? incoming : null;
}
