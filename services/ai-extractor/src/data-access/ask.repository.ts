import type { Firestore } from 'firebase-admin/firestore';
import { collections } from '@wacrm/firestore';
import type { AskRepository } from '../domain/ask/ask-client.handler.js';

export function firestoreAskRepository(db: Firestore): AskRepository {
  const c = collections(db);
  return {
    async client(phoneE164) {
      return (await c.clients().doc(phoneE164).get()).data();
    },
    async events(phoneE164) {
      const snapshot = await c.evenimente().where('phoneE164', '==', phoneE164).get();
      return snapshot.docs.map((doc) => ({ eventId: doc.id, event: doc.data() }));
    },
  };
}
