import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { initFirebase, type Firebase } from '@wacrm/firestore';
import './provided-context.js';

export interface TestFirestore extends Firebase {
  projectId: string;
  /** Environment a child process needs to reach the same emulator and project. */
  env: Record<string, string>;
}

/**
 * A Firestore of this test's own: the shared emulator with a fresh project id, so no test sees
 * another's documents.
 */
export function useTestFirestore(): TestFirestore {
  const deps = inject('deps');
  const projectId = `test-${randomUUID().slice(0, 12)}`;
  const firebase = initFirebase({
    projectId,
    firestoreEmulatorHost: deps.firestoreEmulatorHost,
    ...(deps.authEmulatorHost !== '' ? { authEmulatorHost: deps.authEmulatorHost } : {}),
  });
  return {
    ...firebase,
    projectId,
    env: {
      FIREBASE_PROJECT_ID: projectId,
      FIRESTORE_EMULATOR_HOST: deps.firestoreEmulatorHost,
      ...(deps.authEmulatorHost !== ''
        ? { FIREBASE_AUTH_EMULATOR_HOST: deps.authEmulatorHost }
        : {}),
      METADATA_SERVER_DETECTION: 'none',
    },
  };
}

/** Clears every document of every project in the shared emulator. */
export async function clearFirestoreEmulator(): Promise<void> {
  const { firestoreControlUrl } = inject('deps');
  const response = await fetch(`${firestoreControlUrl}/clear`, { method: 'POST' });
  if (!response.ok) throw new Error(`emulator clear failed: HTTP ${response.status}`);
}
