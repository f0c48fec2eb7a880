import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@wacrm/emulators';
import { initFirebase } from '@wacrm/firestore';
import { startLauncher, type LauncherProcess } from './launcher-process.js';
import { ok, systemApi } from './system-api.js';

// The whole system as `npm start` runs it: the launcher starts its own redis-server and
// Firestore emulator with data under DATA_DIR, then every service as its own process.
let dataDir: string;
let env: Record<string, string>;
let launcher: LauncherProcess | undefined;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'wacrm-e2e-'));
  env = {
    DATA_DIR: dataDir,
    PORT: String(await freePort()),
    REDIS_PORT: String(await freePort()),
    FIRESTORE_EMULATOR_PORT: String(await freePort()),
    FIRESTORE_SNAPSHOT_INTERVAL_MS: '200',
    FIREBASE_PROJECT_ID: 'demo-e2e',
  };
  // The launcher must start its own dependencies, whatever the outer environment says.
  for (const key of ['REDIS_URL', 'FIRESTORE_EMULATOR_HOST', 'ADMIN_TOKEN']) env[key] = '';
});

afterAll(async () => {
  await launcher?.interrupt();
  await rm(dataDir, { recursive: true, force: true });
});

function firestore() {
  return initFirebase({
    projectId: 'demo-e2e',
    firestoreEmulatorHost: `127.0.0.1:${env.FIRESTORE_EMULATOR_PORT}`,
  });
}

describe('npm start (launcher) as a whole system', () => {
  it('when started on embedded defaults, then /health is 200 with Redis and Firestore ok', async () => {
    launcher = startLauncher(env);
    const url = await launcher.ready;
    expect(url).toBe(`http://127.0.0.1:${env.PORT}`);
    const health = await (await systemApi(url)).GET('/health');
    expect(health.response.status).toBe(200);
    expect(health.data).toMatchObject({
      status: 'ok',
      checks: { redis: { ok: true }, firestore: { ok: true } },
    });
    expect(launcher.output()).toMatch(/Admin token: \S{24,}/);
  });

  it('when restarted, then Firestore documents, Redis keys and the admin token survive', async () => {
    const fb = firestore();
    // A collection no service reads: an account document would be claimed by wa-gateway, whose
    // status writes would race the comparison below.
    await fb.db.collection('e2eProbes').doc('survivor').set({ name: 'WA-01', n: 42 });
    await fb.db
      .collection('threads')
      .doc('t1')
      .collection('messages')
      .doc('m1')
      .set({ body: 'Bună ziua' });
    await fb.close();
    const redis = new Redis(Number(env.REDIS_PORT), '127.0.0.1');
    await redis.set('e2e:survives', 'yes');
    redis.disconnect();
    const tokenBefore = await readFile(join(dataDir, 'admin-token'), 'utf8');

    expect(await launcher!.interrupt()).toBe(0);
    expect((await stat(join(dataDir, 'firestore.json'))).size).toBeGreaterThan(0);

    launcher = startLauncher(env);
    await launcher.ready;
    const again = firestore();
    const probe = await again.db.collection('e2eProbes').doc('survivor').get();
    const message = await again.db
      .collection('threads')
      .doc('t1')
      .collection('messages')
      .doc('m1')
      .get();
    await again.close();
    expect(probe.data()).toEqual({ name: 'WA-01', n: 42 });
    expect(message.get('body')).toBe('Bună ziua');
    const redisAgain = new Redis(Number(env.REDIS_PORT), '127.0.0.1');
    expect(await redisAgain.get('e2e:survives')).toBe('yes');
    redisAgain.disconnect();
    expect(await readFile(join(dataDir, 'admin-token'), 'utf8')).toBe(tokenBefore);
  });

  it('when a service process dies, then the launcher restarts it and /health recovers', async () => {
    const api = await systemApi(await launcher!.ready);
    const health = ok(await api.GET('/health'));
    expect(health.uptimeSeconds).toBeGreaterThanOrEqual(0);
    const starts = [...launcher!.output().matchAll(/"process":"api-gateway","pid":(\d+)/g)];
    const pid = Number(starts.at(-1)?.[1] ?? NaN);
    expect(Number.isInteger(pid)).toBe(true);
    process.kill(pid, 'SIGKILL');
    const deadline = Date.now() + 30_000;
    let restarted = false;
    while (Date.now() < deadline && !restarted) {
      restarted = /api-gateway exited unexpectedly; restarting/.test(launcher!.output());
      if (!restarted) await new Promise((r) => setTimeout(r, 100));
    }
    expect(restarted).toBe(true);
    let status = 0;
    while (Date.now() < deadline && status !== 200) {
      status = await api.GET('/health').then(
        (r) => r.response.status,
        () => 0,
      );
      if (status !== 200) await new Promise((r) => setTimeout(r, 200));
    }
    expect(status).toBe(200);
  });
});
