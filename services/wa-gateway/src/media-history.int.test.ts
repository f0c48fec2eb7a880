import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageDoc } from '@wacrm/contracts';
import { collections } from '@wacrm/firestore';
import {
  expectEventually,
  spawnNodeProcess,
  useTestFirestore,
  useTestRedis,
  type TestRedis,
} from '@wacrm/testing';
import {
  buildGateway,
  createAccounts,
  newAuthStateKey,
  post,
  scanShownQr,
  startEmulator,
  startGateway,
  waitEmulatorConnected,
  type Emulator,
  type Proc,
} from '../test/harness.js';

// Issue 13: history chunks and media reach the emulator's CDN through WA_MEDIA_HOST_OVERRIDE, in a
// real wa-gateway process with real Baileys; ingest (its built process) stores what it publishes.
// The emulator always delivers history as downloaded chunks (from https://mmg.whatsapp.net), so
// without the override nothing of the history is stored.

const ACCOUNT = 'acc-media-1';
const repoRoot = join(import.meta.dirname, '../../..');
const firestore = useTestFirestore();
let redis: TestRedis;
let emulator: Emulator;
const started: Proc[] = [];

/** Every message stored for the account, in the threads that receive them (merged ones excluded). */
async function storedMessages(): Promise<MessageDoc[]> {
  const threads = await collections(firestore.db).threads().where('accountId', '==', ACCOUNT).get();
  const live = threads.docs.filter((t) => (t.data().mergedInto ?? null) === null);
  const lists = await Promise.all(
    live.map(async (t) => (await collections(firestore.db).messages(t.id).get()).docs),
  );
  return lists.flat().map((d) => d.data());
}

beforeAll(async () => {
  buildGateway();
  execFileSync('npx', ['tsc', '-p', join(repoRoot, 'services/ingest/tsconfig.build.json')], {
    cwd: repoRoot,
    stdio: 'pipe',
  });
  redis = await useTestRedis();
  emulator = await startEmulator();
  await createAccounts(firestore.db, [ACCOUNT]);
  const gw = await startGateway({
    instanceId: 'gw-media-0',
    redisUrl: redis.url,
    prefix: redis.prefix,
    firestoreEnv: firestore.env,
    emulator,
    authStateKey: newAuthStateKey(),
  });
  started.push(gw);
  started.push(
    spawnNodeProcess({
      name: 'ingest',
      entry: join(repoRoot, 'services/ingest/dist/main.js'),
      cwd: repoRoot,
      env: {
        ...firestore.env,
        INSTANCE_ID: 'ingest-media-0',
        REDIS_URL: redis.url,
        QUEUE_PREFIX: redis.prefix,
        LOG_LEVEL: 'warn',
      },
    }),
  );
  await scanShownQr(emulator, firestore.db, ACCOUNT);
  await waitEmulatorConnected(emulator, firestore.db, [ACCOUNT]);
}, 300_000);

afterAll(async () => {
  await Promise.allSettled(started.map((p) => p.stop('SIGKILL')));
  await emulator?.proc.stop();
  await redis?.cleanup();
  await firestore.close();
});

describe('wa-gateway downloads from the emulator media CDN (WA_MEDIA_HOST_OVERRIDE)', () => {
  it('when the phone syncs 5 chats x 50 messages as downloaded history chunks, then all 250 are stored exactly once', async () => {
    const t0 = Date.now();
    const res = await fetch(`${emulator.url}/accounts/${ACCOUNT}/history`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ threads: 5, messagesPerThread: 50 }),
    });
    expect(res.status).toBe(202);
    const sent = (await res.json()) as { messageIds: string[] };
    expect(sent.messageIds).toHaveLength(250);
    await expectEventually(
      async () => {
        const stored = await storedMessages();
        expect(stored.filter((m) => m.source === 'history')).toHaveLength(250);
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    const stored = (await storedMessages()).filter((m) => m.source === 'history');
    const ids = stored.map((m) => m.waKey.id);
    expect(new Set(ids).size).toBe(250);
    expect([...ids].sort()).toEqual([...sent.messageIds].sort());
    // 5 chats, each under the contact's phone number (the chunks carry the LID mappings).
    const threads = new Set(stored.map((m) => m.threadId));
    expect(threads.size).toBe(5);
    for (const threadId of threads) {
      const thread = (await collections(firestore.db).threads().doc(threadId).get()).data();
      expect(thread?.phoneE164).toMatch(/^\+\d+$/);
      expect(thread?.messageCount).toBe(50);
    }
    console.log(`history 5x50 -> 250 stored: ${Date.now() - t0} ms`);
  }, 120_000);

  it('when a contact sends an image, then the image message is stored with its caption and media metadata', async () => {
    const bytes = Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
      'base64',
    );
    const res = await fetch(`${emulator.url}/accounts/${ACCOUNT}/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        from: '+40722555666',
        name: 'Ioana',
        kind: 'image',
        media: {
          mimetype: 'image/png',
          caption: 'Decorul dorit',
          dataBase64: bytes.toString('base64'),
        },
      }),
    });
    expect(res.status).toBe(202);
    const [id] = ((await res.json()) as { messageIds: string[] }).messageIds;
    await expectEventually(
      async () => {
        const message = (await storedMessages()).find((m) => m.waKey.id === id);
        expect(message).toMatchObject({
          direction: 'inbound',
          type: 'image',
          senderName: 'Ioana',
        });
        expect(message?.media).toMatchObject({
          kind: 'image',
          mimetype: 'image/png',
          caption: 'Decorul dorit',
          size: bytes.length,
        });
        expect(message?.media?.directPath).toMatch(/^\//);
        expect(message?.threadId).toContain('40722555666');
      },
      { timeoutMs: 30_000, intervalMs: 300 },
    );
  }, 60_000);

  it('when a contact writes in a group the account is in, then the message is stored in the group thread with its author', async () => {
    const groupId = '120363000000777';
    const sent = await post(emulator.proc, `/accounts/${ACCOUNT}/inbound`, {
      from: '+40722777888',
      name: 'Mihai',
      groupId,
      text: 'Cine aduce tortul la petrecere?',
    });
    expect(sent.status).toBe(202);
    const [id] = sent.body.messageIds as string[];
    await expectEventually(
      async () => {
        const message = (await storedMessages()).find((m) => m.waKey.id === id);
        expect(message).toMatchObject({
          direction: 'inbound',
          type: 'text',
          body: 'Cine aduce tortul la petrecere?',
          senderName: 'Mihai',
        });
        // Decrypted with the member's sender key; the author is a member, not the chat.
        expect(message?.participant).toMatch(/@(lid|s\.whatsapp\.net)$/);
        const thread = (
          await collections(firestore.db).threads().doc(message!.threadId).get()
        ).data();
        expect(thread).toMatchObject({
          isGroup: true,
          clientJid: `${groupId}@g.us`,
          phoneE164: null,
        });
      },
      { timeoutMs: 30_000, intervalMs: 300 },
    );
    const stored = (await storedMessages()).filter((m) => m.waKey.id === id);
    expect(stored).toHaveLength(1);
  }, 60_000);
});
