import type { TestProject } from 'vitest/node';
import {
  freePort,
  startAuthEmulator,
  startFirestoreEmulator,
  startRedisServer,
  type FirestoreEmulatorHandle,
  type RedisServerHandle,
} from '@wacrm/emulators';
import './provided-context.js';

/**
 * Starts the real dependencies once per test run: a redis-server of our own on a free port
 * (or REDIS_URL when given), the Firestore emulator on loopback and the Firebase Auth emulator.
 * Tests isolate themselves with their own queue prefix and Firestore project id.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  process.env.METADATA_SERVER_DETECTION = 'none';
  const started: Array<{ stop(): Promise<void> }> = [];
  try {
    const givenRedis = process.env.REDIS_URL;
    // The Auth emulator costs ~15 CPU-seconds to start; local runs that need no auth may skip it.
    const withAuth = process.env.TEST_AUTH_EMULATOR !== '0';
    const [redis, firestore, auth] = await Promise.all([
      givenRedis === undefined
        ? startRedisServer({})
        : Promise.resolve<RedisServerHandle | undefined>(undefined),
      (async (): Promise<FirestoreEmulatorHandle> =>
        startFirestoreEmulator({
          port: 0,
          controlPort: await freePort(),
          // A few dozen documents stay unpacked: the tests read through the packed path too.
          unpackedBudget: { maxBytes: 256 * 1024, maxDocuments: 48 },
        }))(),
      withAuth ? startAuthEmulator({}) : Promise.resolve(undefined),
    ]);
    if (redis !== undefined) started.push(redis);
    started.push(firestore);
    if (auth !== undefined) started.push(auth);
    project.provide('deps', {
      redisUrl: givenRedis ?? redis!.url,
      firestoreEmulatorHost: firestore.host,
      firestoreControlUrl: firestore.controlUrl ?? '',
      authEmulatorHost: auth?.host ?? '',
    });
  } catch (error) {
    await Promise.allSettled(started.map((s) => s.stop()));
    throw error;
  }
  return async () => {
    await Promise.allSettled(started.reverse().map((s) => s.stop()));
  };
}
