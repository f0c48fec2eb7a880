import type { Firestore } from 'firebase-admin/firestore';
import type { Redis } from 'ioredis';
import type { DependencyProbe } from '../domain/health.js';

export function redisProbe(redis: Redis): DependencyProbe {
  return {
    name: 'redis',
    async check() {
      await redis.ping();
    },
  };
}

/** A real read (of a document that need not exist) proves credentials, network and the emulator. */
export function firestoreProbe(db: Firestore): DependencyProbe {
  return {
    name: 'firestore',
    async check() {
      await db.collection('_health').doc('probe').get();
    },
  };
}
