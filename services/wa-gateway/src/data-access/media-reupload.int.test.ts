import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestFirestore, useTestRedis, type TestRedis } from '@wacrm/testing';
import { mediaReupload } from './media-reupload.js';

const firestore = useTestFirestore();
let redis: TestRedis;
let store: ReturnType<typeof mediaReupload>;
const COMMAND = {
  accountId: 'wa-rec-01',
  threadId: 'wa-rec-01__4071@s.whatsapp.net',
  messageId: 'M1',
};

beforeAll(async () => {
  redis = await useTestRedis();
  store = mediaReupload({ db: firestore.db, connection: redis.connection, prefix: redis.prefix });
});

afterAll(async () => {
  await store?.close();
  await redis?.cleanup();
  await firestore.close();
});

describe('re-upload requests recorded in Redis', () => {
  it('when a request is recorded, then a new process finds it by the answer’s id until it is answered, and only for its account', async () => {
    await store.asked(COMMAND.accountId, 'WAID-1', COMMAND);
    // Another connection, as a restarted gateway has.
    const connection = redis.connection.duplicate();
    const other = mediaReupload({ db: firestore.db, connection, prefix: redis.prefix });
    expect(await other.askedFor(COMMAND.accountId, 'WAID-1')).toEqual(COMMAND);
    expect(await other.askedFor('wa-rec-02', 'WAID-1')).toBeNull();
    const ttl = await redis.connection.ttl(`${redis.prefix}:reupload-asked:wa-rec-01:WAID-1`);
    expect(ttl).toBeGreaterThan(29 * 24 * 3600);
    await other.answered(COMMAND.accountId, 'WAID-1');
    expect(await store.askedFor(COMMAND.accountId, 'WAID-1')).toBeNull();
    await other.close();
    await connection.quit();
  });
});
