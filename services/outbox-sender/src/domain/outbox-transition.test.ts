import { describe, expect, it } from 'vitest';
import type { OutboxDoc } from '@wacrm/contracts';
import { outboxTransition, type OutboxEvent } from './outbox-transition.js';

const at = new Date('2026-12-07T10:00:00Z');
function doc(status: OutboxDoc['status']): OutboxDoc {
  return {
    requestId: 'req-00000001',
    accountId: 'acc',
    threadId: 'acc:40722333444@s.whatsapp.net',
    to: '40722333444@s.whatsapp.net',
    body: 'hi',
    media: null,
    replyTo: null,
    waMessageId: 'WACRM0001',
    status,
    attempts: 0,
    lastError: null,
    bodyHash: 'h',
    createdBy: 'u',
    createdAt: at,
    updatedAt: at,
    sentAt: null,
    sendAt: new Date('2026-12-08T10:00:00Z'),
  };
}

describe('scheduled outbox transitions (issue 19)', () => {
  it('when a scheduled send comes due, then it is queued; any other status does not move', () => {
    expect(outboxTransition(doc('scheduled'), { kind: 'due' }, at)).toEqual({
      status: 'queued',
      updatedAt: at,
    });
    for (const status of ['queued', 'sending', 'sent', 'paused', 'failed'] as const) {
      expect(outboxTransition(doc(status), { kind: 'due' }, at)).toBeNull();
    }
  });

  it('when a scheduled send is cancelled, then it is cancelled with the reason; a send already on its way is not', () => {
    expect(outboxTransition(doc('scheduled'), { kind: 'cancel', reason: 'operator' }, at)).toEqual({
      status: 'cancelled',
      cancelledReason: 'operator',
      updatedAt: at,
    });
    for (const status of ['queued', 'sending', 'sent', 'delivered', 'read', 'failed'] as const) {
      expect(outboxTransition(doc(status), { kind: 'cancel', reason: 'x' }, at)).toBeNull();
    }
  });

  it('when a send is cancelled, then nothing moves it again (no hand-over, fact, failure or resume)', () => {
    const events: OutboxEvent[] = [
      { kind: 'sending' },
      { kind: 'due' },
      { kind: 'resumed' },
      { kind: 'paused', reason: 'x' },
      { kind: 'job-failed', error: 'x' },
      { kind: 'status', status: 'sent', error: null },
      { kind: 'status', status: 'failed', error: 'x' },
      { kind: 'cancel', reason: 'again' },
    ];
    for (const event of events) expect(outboxTransition(doc('cancelled'), event, at)).toBeNull();
  });

  it('when a scheduled send is handed over before it came due, then nothing moves; a job failing for good fails it', () => {
    expect(outboxTransition(doc('scheduled'), { kind: 'sending' }, at)).toBeNull();
    expect(outboxTransition(doc('scheduled'), { kind: 'job-failed', error: 'gone' }, at)).toEqual({
      status: 'failed',
      lastError: 'gone',
      updatedAt: at,
    });
  });
});
