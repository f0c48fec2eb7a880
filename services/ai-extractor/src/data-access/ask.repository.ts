import type { Firestore } from 'firebase-admin/firestore';
import { readClientFor } from '@wacrm/firestore';
import type { AskRepository } from '../domain/ask/ask-client.handler.js';

export function firestoreAskRepository(db: Firestore): AskRepository {
  return {
    async clientFor(phoneE164, scope) {
      // The same visibility the API's client profile uses: one rule for both.
      const found = await readClientFor(db, phoneE164, scope);
      if (found.status !== 'visible') return undefined;
      return { displayName: found.record.client.displayName, events: found.record.events };
    },
  };
}
