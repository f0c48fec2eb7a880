import type { Firestore } from 'firebase-admin/firestore';
import type { Redis } from 'ioredis';
import type { DependencyProbe } from '../domain/health.js';

/**
 * Redis answers and will not evict: under any other `maxmemory-policy` a full Redis drops queue
 * keys (jobs, locks, leases) silently. INFO, not CONFIG GET, which managed Redis often forbids.
 */
export function redisProbe(redis: Redis): DependencyProbe {
  return {
    name: 'redis',
    async check() {
      const info = await redis.info('memory');
      const policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
      if (policy !== undefined && policy !== 'noeviction') {
        throw new Error(
          `maxmemory-policy is ${policy}; it must be noeviction, or Redis drops queued jobs when full`,
        );
      }
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
