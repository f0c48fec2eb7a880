import { describe, expect, it } from 'vitest';
import type { MessageDoc } from '@wacrm/contracts';
import { isAfterMark, unreadAfterMark } from './read-mark.js';

const msg = (
  id: string,
  ts: number,
  direction: 'inbound' | 'outbound' = 'inbound',
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
  }) as MessageDoc;

describe('read marks', () => {
  it('when a message has the mark’s time, then only a greater id of a message mark is after it', () => {
    expect(isAfterMark(msg('B', 1000), { at: new Date(1000), messageId: 'A' })).toBe(true);
    expect(isAfterMark(msg('A', 1000), { at: new Date(1000), messageId: 'A' })).toBe(false);
    expect(isAfterMark(msg('B', 1000), { at: new Date(1000), messageId: null })).toBe(false);
    expect(isAfterMark(msg('A', 1001), { at: new Date(1000), messageId: 'Z' })).toBe(true);
  });

  it('when later messages are ours, history or inbound, then only live inbound ones stay unread', () => {
    const tail = [
      msg('A', 1000),
      msg('B', 2000),
      msg('C', 2000, 'outbound'),
      msg('D', 3000, 'inbound', 'history'),
    ];
    expect(unreadAfterMark(4, tail, { at: new Date(1000), messageId: 'A' }, false)).toBe(1);
    expect(unreadAfterMark(4, tail, { at: new Date(2000), messageId: 'B' }, false)).toBe(0);
  });

  it('when the mark is older than the count or the tail was cut, then the count is not raised or guessed', () => {
    const tail = [msg('A', 1000), msg('B', 2000), msg('C', 3000)];
    expect(unreadAfterMark(1, tail, { at: new Date(0), messageId: null }, false)).toBe(1);
    expect(unreadAfterMark(3, tail, { at: new Date(2500), messageId: null }, true)).toBe(3);
  });
});
