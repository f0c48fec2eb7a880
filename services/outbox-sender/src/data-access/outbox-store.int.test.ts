import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { waMessageIdFor, type OutboxDoc } from '@wacrm/contracts';
import { collections } from '@wacrm/firestore';
import { useTestFirestore, useTestRedis, type TestFirestore, type TestRedis } from '@wacrm/testing';
import { OutboxStore } from './outbox-store.js';

let fs: TestFirestore;
let redis: TestRedis;

beforeEach(async () => {
  redis = await useTestRedis();
  fs = useTestFirestore();
});
afterEach(async () => {
  await redis.cleanup();
  await fs.close();
});

function sending(requestId: string): OutboxDoc {
  const at = new Date('2026-12-07T10:00:00Z');
  return {
    requestId,
    accountId: 'wa-01',
    threadId: 'wa-01_40700000001',
    to: '40700000001@s.whatsapp.net',
    body: 'Confirmare',
    media: null,
    replyTo: null,
    waMessageId: waMessageIdFor(requestId),
    status: 'sending',
    attempts: 1,
    lastError: null,
    bodyHash: 'h',
    createdBy: 'admin',
    createdAt: at,
    updatedAt: at,
    sentAt: null,
  };
}

const fact = (status: 'sent' | 'delivered' | 'read') =>
  ({ kind: 'status', status, error: null }) as const;

describe('OutboxStore', () => {
  it("when a send's facts come one after another, then only the first reads the document; the next ones move it from what this store wrote", async () => {
    await collections(fs.db).outbox().doc('req-facts-01').set(sending('req-facts-01'));
    const store = new OutboxStore(fs.db, redis.connection, redis.prefix);
    const reads = vi.spyOn(store, 'get');
    expect(await store.apply('req-facts-01', fact('sent'))).toBe('sent');
    expect(await store.apply('req-facts-01', fact('delivered'))).toBe('delivered');
    expect(await store.apply('req-facts-01', fact('read'))).toBe('read');
    expect(reads).toHaveBeenCalledTimes(1);
    expect((await collections(fs.db).outbox().doc('req-facts-01').get()).data()).toMatchObject({
      status: 'read',
    });
  });

  it('when another replica moved the document since this store wrote it, then this store reads it again and a late fact does not move it back', async () => {
    await collections(fs.db).outbox().doc('req-facts-02').set(sending('req-facts-02'));
    const one = new OutboxStore(fs.db, redis.connection, redis.prefix);
    const other = new OutboxStore(fs.db, redis.connection, redis.prefix);
    expect(await one.apply('req-facts-02', fact('sent'))).toBe('sent');
    expect(await other.apply('req-facts-02', fact('read'))).toBe('read');
    // From what `one` remembers (sent), delivered would be a step forward; it is one back.
    expect(await one.apply('req-facts-02', fact('delivered'))).toBe('read');
    expect((await collections(fs.db).outbox().doc('req-facts-02').get()).data()).toMatchObject({
      status: 'read',
    });
  });
});
