import { Timestamp } from 'firebase-admin/firestore';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError, type ThreadDoc } from '@wacrm/contracts';
import { useTestFirestore, type TestFirestore } from '@wacrm/testing';
import { collections, threadIdFor } from './index.js';

let fs: TestFirestore | undefined;
afterEach(async () => {
  await fs?.close();
});

const thread = (): ThreadDoc => ({
  accountId: 'wa-01',
  clientJid: '40712345678@s.whatsapp.net',
  phoneE164: '+40712345678',
  displayName: 'Ana',
  isGroup: false,
  lastMessageAt: new Date('2026-01-07T10:00:00.000Z'),
  lastMessageText: 'Bună',
  lastMessageDirection: 'inbound',
  unreadCount: 1,
  messageCount: 1,
  createdAt: new Date('2026-01-07T10:00:00.000Z'),
  updatedAt: new Date('2026-01-07T10:00:00.000Z'),
});

describe('typed collections on the Firestore emulator', () => {
  it('when a valid document is written and read back, then Dates survive as Dates', async () => {
    fs = useTestFirestore();
    const c = collections(fs.db);
    const id = threadIdFor('wa-01', '40712345678@s.whatsapp.net');
    await c.threads().doc(id).set(thread());
    const raw = await fs.db.collection('threads').doc(id).get();
    expect(raw.get('lastMessageAt')).toBeInstanceOf(Timestamp);
    const read = (await c.threads().doc(id).get()).data();
    expect(read).toEqual(thread());
  });

  it('when an invalid document is written, then the write is refused before it leaves', async () => {
    fs = useTestFirestore();
    const c = collections(fs.db);
    const bad = { ...thread(), unreadCount: -1 };
    // The converter throws synchronously inside set(): nothing is sent.
    await expect((async () => c.threads().doc('x').set(bad))()).rejects.toBeInstanceOf(AppError);
    expect((await fs.db.collection('threads').doc('x').get()).exists).toBe(false);
  });

  it('when a stored document breaks its contract, then reading it fails loudly with the path', async () => {
    fs = useTestFirestore();
    await fs.db.collection('threads').doc('broken').set({ accountId: 'wa-01' });
    await expect(
      collections(fs.db)
        .threads()
        .doc('broken')
        .get()
        .then((s) => s.data()),
    ).rejects.toThrow(/threads\/broken does not match/);
  });

  it('when the accounts query of the inbox runs, then threads come newest first', async () => {
    fs = useTestFirestore();
    const c = collections(fs.db);
    for (const [jid, iso] of [
      ['1@s.whatsapp.net', '2026-01-01T00:00:00Z'],
      ['2@s.whatsapp.net', '2026-01-03T00:00:00Z'],
      ['3@s.whatsapp.net', '2026-01-02T00:00:00Z'],
    ] as const) {
      await c
        .threads()
        .doc(threadIdFor('wa-01', jid))
        .set({ ...thread(), clientJid: jid, phoneE164: null, lastMessageAt: new Date(iso) });
    }
    const snap = await c
      .threads()
      .where('accountId', '==', 'wa-01')
      .orderBy('lastMessageAt', 'desc')
      .get();
    expect(snap.docs.map((d) => d.data().clientJid)).toEqual([
      '2@s.whatsapp.net',
      '3@s.whatsapp.net',
      '1@s.whatsapp.net',
    ]);
  });
});
