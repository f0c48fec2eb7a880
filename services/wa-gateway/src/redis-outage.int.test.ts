import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WaInboundQueue } from '@wacrm/contracts';
import { startRedisServer, type RedisServerHandle } from '@wacrm/emulators';
import { expectEventually, useTestFirestore } from '@wacrm/testing';
import {
  buildGateway,
  createAccounts,
  newAuthStateKey,
  scanAllShown,
  post,
  sessionsOf,
  startGateway,
  startEmulator,
  waitEmulatorConnected,
  type Emulator,
  type Proc,
} from '../test/harness.js';

const ACCOUNTS = ['ro-0', 'ro-1'];
const MESSAGES = 1_000;
const OUTAGE_MS = 30_000;
const prefix = '{ro}';
const firestore = useTestFirestore();
let redisServer: RedisServerHandle;
let emulator: Emulator;
let gateway: Proc | undefined;

beforeAll(async () => {
  buildGateway();
  redisServer = await startRedisServer({
    appendOnly: true,
    dir: await mkdtemp(join(tmpdir(), 'wa-redis-outage-')),
  });
  emulator = await startEmulator();
  await createAccounts(firestore.db, ACCOUNTS);
}, 300_000);

afterAll(async () => {
  await gateway?.stop('SIGKILL');
  await emulator?.proc.stop();
  await redisServer?.stop();
  await firestore.close();
});

describe('wa-gateway when Redis goes away', () => {
  it(`when Redis is stopped for 30 s while ${MESSAGES} messages arrive, then all reach wa-inbound once each`, async () => {
    gateway = await startGateway({
      instanceId: 'gw-outage',
      redisUrl: redisServer.url,
      prefix,
      firestoreEnv: firestore.env,
      emulator,
      authStateKey: newAuthStateKey(),
    });
    await scanAllShown(emulator, firestore.db, ACCOUNTS);
    await waitEmulatorConnected(emulator, firestore.db, ACCOUNTS);
    const tokensBefore = (await sessionsOf(gateway)).sessions.map((s) => s.token);

    await redisServer.stop();
    const stoppedAt = Date.now();
    const ids: string[] = [];
    // Spread over the outage, like live traffic.
    for (let i = 0; i < MESSAGES; i++) {
      const due = stoppedAt + Math.floor((i / MESSAGES) * (OUTAGE_MS - 2_000));
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const r = await post(emulator.proc, `/accounts/${ACCOUNTS[i % 2]}/inbound`, {
        from: `+4072${String(i % 50).padStart(7, '0')}`,
        text: `mesaj ${i}`,
      });
      expect(r.status).toBe(202);
      ids.push((r.body.messageIds as string[])[0]!);
    }
    // The last message may still be on its way from the network to the spool.
    await expectEventually(async () => {
      const health = await fetch(`${gateway!.url}/health`);
      expect(health.status).toBe(503);
      const backlog = ((await health.json()) as { spoolBacklog: number }).spoolBacklog;
      expect(backlog).toBeGreaterThanOrEqual(MESSAGES);
    });
    const wait = stoppedAt + OUTAGE_MS - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    await redisServer.restart();

    const connection = new Redis(redisServer.url, { maxRetriesPerRequest: null });
    const inbound = new Queue(WaInboundQueue.name, { connection, prefix });
    try {
      await expectEventually(
        async () => {
          const jobs = await inbound.getJobs([
            'waiting',
            'completed',
            'failed',
            'active',
            'delayed',
          ]);
          const seen = jobs
            .filter((j) => j.name === 'ingest-messages')
            .flatMap((j) => (j.data as { messages: Array<{ key: { id: string } }> }).messages)
            .map((m) => m.key.id);
          const wanted = new Set(ids);
          const got = seen.filter((id) => wanted.has(id));
          expect(new Set(got).size).toBe(MESSAGES);
          expect(got).toHaveLength(MESSAGES);
        },
        { timeoutMs: 60_000, intervalMs: 500 },
      );
      // The sessions kept their sockets and re-took their expired leases with newer tokens.
      await expectEventually(
        async () => {
          const after = await sessionsOf(gateway!);
          expect(after.sessions).toHaveLength(2);
          expect(Math.min(...after.sessions.map((s) => s.token))).toBeGreaterThan(
            Math.max(...tokensBefore),
          );
          expect((await fetch(`${gateway!.url}/health`)).status).toBe(200);
        },
        { timeoutMs: 20_000 },
      );
      expect(gateway.lines.some((l) => l.msg === 'spool replayed to wa-inbound')).toBe(true);
    } finally {
      await inbound.close();
      connection.disconnect();
    }
  }, 240_000);
});
