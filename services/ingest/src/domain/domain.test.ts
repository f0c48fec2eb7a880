import { describe, expect, it } from 'vitest';
import { advanceStatus, type MessageDoc } from '@wacrm/contracts';
import { planBatches } from './batch-plan.js';
import { canonicalChatJid, normalizeJid, phoneE164FromJid } from './jid.js';
import { foldNewMessages, type ThreadCounters } from './thread-fold.js';

const zero: ThreadCounters = {
  lastMessageAt: null,
  lastMessageId: null,
  lastMessageText: null,
  lastMessageDirection: null,
  unreadCount: 0,
  messageCount: 0,
};

const msg = (
  id: string,
  ts: number,
  direction: 'inbound' | 'outbound',
  source: 'live' | 'history' = 'live',
) =>
  ({
    waKey: {
      id,
      remoteJid: 'x@s.whatsapp.net',
      fromMe: direction === 'outbound',
      participant: null,
    },
    tsClient: new Date(ts),
    direction,
    source,
    body: id,
    editedBody: null,
    type: 'text',
  }) as unknown as MessageDoc;

describe('thread counters', () => {
  it('when the same messages arrive in any order or split, then the counters are the same', () => {
    const all = [
      msg('a', 1, 'inbound'),
      msg('b', 3, 'outbound'),
      msg('c', 3, 'inbound'),
      msg('d', 2, 'inbound', 'history'),
    ];
    const once = foldNewMessages(zero, all);
    const reversed = foldNewMessages(zero, [...all].reverse());
    const split = foldNewMessages(foldNewMessages(zero, all.slice(2)), all.slice(0, 2));
    expect(once).toEqual(reversed);
    expect(once).toEqual(split);
    expect(once).toMatchObject({
      messageCount: 4,
      unreadCount: 2,
      lastMessageId: 'c',
      lastMessageText: 'c',
    });
  });
});

describe('statuses', () => {
  it('when statuses arrive out of order, then they only move forward', () => {
    expect(advanceStatus('read', 'delivered')).toBe('read');
    expect(advanceStatus('sent', 'read')).toBe('read');
    expect(advanceStatus('sending', 'failed')).toBe('failed');
    expect(advanceStatus('delivered', 'failed')).toBe('delivered');
    expect(advanceStatus('failed', 'delivered')).toBe('delivered');
  });
});

describe('JIDs', () => {
  it('when a JID has a device suffix or the c.us server, then it is normalised', () => {
    expect(normalizeJid('40712345678:12@s.whatsapp.net')).toBe('40712345678@s.whatsapp.net');
    expect(normalizeJid('40712345678@c.us')).toBe('40712345678@s.whatsapp.net');
  });

  it('when a LID has a known phone, then the phone JID is the conversation', () => {
    const map = new Map([['123@lid', '40712345678@s.whatsapp.net']]);
    expect(canonicalChatJid('123:4@lid', map)).toBe('40712345678@s.whatsapp.net');
    expect(canonicalChatJid('999@lid', map)).toBe('999@lid');
  });

  it('when the phone is derived, then groups and LIDs have none and numbers are E.164', () => {
    expect(phoneE164FromJid('40712345678@s.whatsapp.net')).toBe('+40712345678');
    expect(phoneE164FromJid('120363001234567890@g.us')).toBeNull();
    expect(phoneE164FromJid('123@lid')).toBeNull();
  });
});

describe('planBatches', () => {
  it('when threads are packed, then no commit exceeds the limit and each piece has its thread', () => {
    const plan = planBatches({
      newMessages: [700, 3, 0, 250],
      mustWrite: [true, false, true, false],
      loose: 30,
      capacity: 498,
    });
    for (const b of plan) {
      const writes =
        b.pieces.reduce((n, p) => n + (p.to - p.from) + 1, 0) + (b.loose.to - b.loose.from);
      expect(writes).toBeLessThanOrEqual(498);
    }
    const covered = new Map<number, number>();
    for (const b of plan)
      for (const p of b.pieces) covered.set(p.thread, (covered.get(p.thread) ?? 0) + p.to - p.from);
    expect(Object.fromEntries(covered)).toEqual({ 0: 700, 1: 3, 2: 0, 3: 250 });
    expect(plan.reduce((n, b) => n + b.loose.to - b.loose.from, 0)).toBe(30);
    // 953 messages, 5 thread writes and 30 loose writes: the minimum, two commits.
    expect(plan).toHaveLength(2);
  });
});
