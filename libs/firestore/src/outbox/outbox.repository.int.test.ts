import { afterEach, describe, expect, it } from 'vitest';
import { AppError, waMessageIdFor } from '@wacrm/contracts';
import { useTestFirestore, type TestFirestore } from '@wacrm/testing';
import { createOutboxEntry, type NewOutboxEntry } from './outbox.repository.js';

let fs: TestFirestore | undefined;
afterEach(async () => {
  await fs?.close();
});

const entry = (overrides: Partial<NewOutboxEntry> = {}): NewOutboxEntry => ({
  requestId: 'req-same-key-1',
  accountId: 'wa-01',
  threadId: 'wa-01__40712345678@s.whatsapp.net',
  to: '40712345678@s.whatsapp.net',
  text: 'Vă confirmăm rezervarea pentru sâmbătă.',
  media: null,
  replyTo: null,
  createdBy: 'uid-1',
  ...overrides,
});

describe('createOutboxEntry on the emulator', () => {
  it('when 20 identical requests race, then exactly one creates the outbox document', async () => {
    fs = useTestFirestore();
    const results = await Promise.all(
      Array.from({ length: 20 }, () => createOutboxEntry(fs!.db, entry())),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.doc.waMessageId))).toEqual(
      new Set([waMessageIdFor('req-same-key-1')]),
    );
    const stored = await fs.db.collection('outbox').doc('req-same-key-1').get();
    expect(stored.get('status')).toBe('queued');
  });

  it('when the same key comes with another body, then it is a conflict and the first stays', async () => {
    fs = useTestFirestore();
    await createOutboxEntry(fs.db, entry());
    const error = await createOutboxEntry(fs.db, entry({ text: 'Alt text' })).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('CONFLICT');
    expect((await fs.db.collection('outbox').doc('req-same-key-1').get()).get('body')).toBe(
      entry().text,
    );
  });
});
