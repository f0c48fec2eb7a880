import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WaInboundQueue, type IngestMessagesJob } from '@wacrm/contracts';
import { startRedisServer, type RedisServerHandle } from '@wacrm/emulators';
import { expectEventually, useTestFirestore } from '@wacrm/testing';
import {
  buildGateway,
  createAccounts,
  newAuthStateKey,
  post,
  scanAllShown,
  startEmulator,
  startGateway,
  waitEmulatorConnected,
  type Emulator,
  type Proc,
} from '../test/harness.js';

const ACCOUNTS = ['so-0', 'so-1'];
const MESSAGES = 300;
const prefix = '{so}';
const firestore = useTestFirestore();
let redisServer: RedisServerHandle;
let emulator: Emulator;
const gateways: Proc[] = [];

beforeAll(async () => {
  buildGateway();
  redisServer = await startRedisServer({
    appendOnly: true,
    dir: await mkdtemp(join(tmpdir(), 'wa-spool-orphan-redis-')),
  });
  emulator = await startEmulator();
  await createAccounts(firestore.db, ACCOUNTS);
}, 300_000);

afterAll(async () => {
  for (const g of gateways) await g.stop('SIGKILL');
  await emulator?.proc.stop();
  await redisServer?.stop();
  await firestore.close();
});

async function redisAnswers(url: string): Promise<boolean> {
  const probe = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1_000,
  });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

describe('wa-gateway spool left behind by a dead instance', () => {
  it('when an instance is SIGKILLed with a spool during a Redis outage, then another instance replays it once', async () => {
    const spoolDir = await mkdtemp(join(tmpdir(), 'wa-spool-shared-'));
    const authStateKey = newAuthStateKey();
    const common = {
      redisUrl: redisServer.url,
      prefix,
      firestoreEnv: firestore.env,
      emulator,
      authStateKey,
      spoolDir,
    };
    const first = await startGateway({ ...common, instanceId: 'gw-first' });
    gateways.push(first);
    await scanAllShown(emulator, firestore.db, ACCOUNTS);
    await waitEmulatorConnected(emulator, firestore.db, ACCOUNTS);

    await redisServer.stop();
    // The fault happened: Redis does not answer.
    expect(await redisAnswers(redisServer.url)).toBe(false);
    const ids: string[] = [];
    for (let i = 0; i < MESSAGES; i++) {
      const r = await post(emulator.proc, `/accounts/${ACCOUNTS[i % 2]}/inbound`, {
        from: `+4073${String(i % 30).padStart(7, '0')}`,
        text: `orfan ${i}`,
      });
      expect(r.status).toBe(202);
      ids.push((r.body.messageIds as string[])[0]!);
    }
    await expectEventually(async () => {
      const health = (await (await fetch(`${first.url}/health`)).json()) as {
        spoolBacklog: number;
      };
      expect(health.spoolBacklog).toBeGreaterThanOrEqual(MESSAGES);
    });

    // The instance dies with its spool on disk, and nobody comes back under its name.
    first.child.kill('SIGKILL');
    await first.exited;
    expect(first.child.signalCode).toBe('SIGKILL');
    expect((await readdir(spoolDir)).some((f) => f.includes('gw-first'))).toBe(true);

    await redisServer.restart();
    expect(await redisAnswers(redisServer.url)).toBe(true);
    const second = await startGateway({ ...common, instanceId: 'gw-second' });
    gateways.push(second);

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
          const wanted = new Set(ids);
          const got = jobs
            .filter((j) => j.name === 'ingest-messages')
            .flatMap((j) => (j.data as IngestMessagesJob).messages)
            .filter((m) => wanted.has(m.key.id));
          const decrypted = got.filter((m) => !m.undecryptable).map((m) => m.key.id);
          // One run in two on a loaded box had 301 jobs for the 300 ids: say which, when it happens.
          if (got.length !== decrypted.length || decrypted.length > MESSAGES) {
            console.log(
              'SPOOL-ORPHAN jobs',
              JSON.stringify({
                total: got.length,
                decrypted: decrypted.length,
                extra: got
                  .filter((m) => got.filter((o) => o.key.id === m.key.id).length > 1)
                  .map((m) => ({ key: m.key, undecryptable: m.undecryptable })),
              }),
            );
          }
          expect(new Set(decrypted).size).toBe(MESSAGES);
          // Each message decrypted once, published once (the replay and a redelivery share a job).
          expect(decrypted).toHaveLength(MESSAGES);
        },
        { timeoutMs: 60_000, intervalMs: 500 },
      );
      // Replayed files are gone; only the live instance's own files remain.
      await expectEventually(async () => {
        expect((await readdir(spoolDir)).filter((f) => f.includes('gw-first'))).toEqual([]);
      });
    } finally {
      await inbound.close();
      connection.disconnect();
    }
  }, 240_000);
});
