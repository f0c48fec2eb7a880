import { mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectEventually, useTestFirestore, useTestRedis, type TestRedis } from '@wacrm/testing';
import {
  buildGateway,
  createAccounts,
  newAuthStateKey,
  scanAllShown,
  startGateway,
  startEmulator,
  waitEmulatorConnected,
  type Emulator,
  type Proc,
} from '../test/harness.js';

const ACCOUNTS = ['disk-0', 'disk-1'];
const firestore = useTestFirestore();
let redis: TestRedis;
let emulator: Emulator;
let sessionsPath: string;
const started: Proc[] = [];
const authStateKey = newAuthStateKey();

async function gateway() {
  const g = await startGateway({
    instanceId: 'gw-disk',
    redisUrl: redis.url,
    prefix: redis.prefix,
    firestoreEnv: firestore.env,
    emulator,
    authStateKey,
    extra: { AUTH_STATE_STORE: 'disk', SESSIONS_PATH: sessionsPath },
  });
  started.push(g);
  return g;
}

beforeAll(async () => {
  buildGateway();
  redis = await useTestRedis();
  emulator = await startEmulator();
  sessionsPath = await mkdtemp(join(tmpdir(), 'wa-sessions-'));
  await createAccounts(firestore.db, ACCOUNTS);
}, 300_000);

afterAll(async () => {
  await Promise.allSettled(started.map((p) => p.stop('SIGKILL')));
  await emulator?.proc.stop();
  await redis?.cleanup();
  await firestore.close();
});

describe('auth state on disk (AUTH_STATE_STORE=disk)', () => {
  it('when the gateway restarts, then sessions are restored from disk, encrypted, and /health reports the directory', async () => {
    let g = await gateway();
    await scanAllShown(emulator, firestore.db, ACCOUNTS);
    await waitEmulatorConnected(emulator, firestore.db, ACCOUNTS);
    await expectEventually(async () => {
      const creds = await readFile(join(sessionsPath, 'disk-0', 'creds.enc'));
      expect(creds.length).toBeGreaterThan(100);
      const text = creds.toString('utf8');
      expect(text).not.toContain('noiseKey');
      expect(text).not.toContain('"me"');
    });
    await g.stop();
    g = await gateway();
    await waitEmulatorConnected(emulator, firestore.db, ACCOUNTS);
    await expectEventually(() =>
      expect(g.lines.filter((l) => l.msg === 'Session restored from disk')).toHaveLength(2),
    );
    const health = await fetch(`${g.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ sessions_dir_writable: true, connected: 2 });
    expect(await readdir(join(sessionsPath, 'disk-1'))).toContain('creds.enc');
  }, 180_000);

  it('when the sessions directory is not writable, then /health is 503 with sessions_dir_writable false', async () => {
    const g = started.at(-1)!;
    // Tests run as root here, where permissions do not bind: put a file where the directory was.
    await rename(sessionsPath, `${sessionsPath}.moved`);
    await writeFile(sessionsPath, 'not a directory');
    try {
      const health = await fetch(`${g.url}/health`);
      expect(health.status).toBe(503);
      expect(await health.json()).toMatchObject({ sessions_dir_writable: false });
    } finally {
      await rm(sessionsPath);
      await rename(`${sessionsPath}.moved`, sessionsPath);
    }
    expect((await fetch(`${g.url}/health`)).status).toBe(200);
  });
});
