import { describe, expect, it } from 'vitest';
import type { InboxSettings, NoteView, ThreadView } from '../api.js';
import { matchesFilter, mergeNotes } from './inbox-tools.js';

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
const thread = (extra: Partial<ThreadView>): ThreadView => ({
  id: 'a__40722000001@s.whatsapp.net',
  accountId: 'a',
  clientJid: '40722000001@s.whatsapp.net',
  phoneE164: '+40722000001',
  displayName: 'Ioana',
  isGroup: false,
  lastMessageAt: minutesAgo(30),
  lastMessageText: 'Bună',
  lastMessageDirection: 'inbound',
  unreadCount: 0,
  messageCount: 1,
  assigneeUid: null,
  stage: null,
  labels: [],
  waitingSince: minutesAgo(30),
  updatedAt: minutesAgo(30),
  ...extra,
});
const settings = { waitingAfterMinutes: 15 } as InboxSettings;

describe('a live thread against the inbox filter', () => {
  it('when a thread is taken by someone else, then it leaves "mine" and "unassigned"; handed to me, it joins "mine"', () => {
    const taken = thread({ assigneeUid: 'ana' });
    expect(matchesFilter(taken, { assigned: 'mine' }, 'ion', settings)).toBe(false);
    expect(matchesFilter(taken, { assigned: 'unassigned' }, 'ion', settings)).toBe(false);
    expect(matchesFilter(taken, { assigned: 'all' }, 'ion', settings)).toBe(true);
    expect(
      matchesFilter(thread({ assigneeUid: 'ion' }), { assigned: 'mine' }, 'ion', settings),
    ).toBe(true);
    expect(matchesFilter(thread({}), { assigned: 'unassigned' }, 'ion', settings)).toBe(true);
  });

  it('when stage, label and waiting are asked for, then all must hold', () => {
    const t = thread({ stage: 'quoted', labels: ['vip'] });
    expect(
      matchesFilter(t, { stage: 'quoted', label: 'vip', waiting: 'true' }, 'ion', settings),
    ).toBe(true);
    expect(matchesFilter(t, { stage: 'lead' }, 'ion', settings)).toBe(false);
    expect(matchesFilter(t, { label: 'firma' }, 'ion', settings)).toBe(false);
    expect(matchesFilter(t, { waiting: 'false' }, 'ion', settings)).toBe(false);
    const answered = thread({ lastMessageDirection: 'outbound', waitingSince: null });
    expect(matchesFilter(answered, { waiting: 'false' }, 'ion', settings)).toBe(true);
  });
});

describe("a thread's notes as the chat holds them", () => {
  const note = (id: string, createdAt: string): NoteView => ({
    id,
    threadId: 't',
    body: `note ${id}`,
    authorId: 'ion',
    createdAt,
  });
  const a = note('a', '2026-12-07T10:00:00.000Z');
  const b = note('b', '2026-12-07T10:05:00.000Z');

  it("when the reload started by the note's own thread.updated answers before the form does, then the note shows once", () => {
    // CI saw this: the same note id rendered twice in the chat (e2e inbox-ui, strict mode).
    const reloaded = mergeNotes([a], [a, b]);
    expect(mergeNotes(reloaded, [b]).map((n) => n.id)).toEqual(['a', 'b']);
  });

  it('when a load that left before a note was added answers after it, then the note stays, and the list is oldest first', () => {
    const added = mergeNotes([a], [b]);
    expect(mergeNotes(added, [a]).map((n) => n.id)).toEqual(['a', 'b']);
    expect(mergeNotes([b], [a]).map((n) => n.id)).toEqual(['a', 'b']);
  });
});
