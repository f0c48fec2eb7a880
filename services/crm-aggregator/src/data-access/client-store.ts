import type { Firestore } from 'firebase-admin/firestore';
import type { ClientDoc } from '@wacrm/contracts';
import { collections } from '@wacrm/firestore';
import type { AggregateEvent, AggregateThread } from '@wacrm/firestore';

/** What a recompute reads and writes; Firestore in production, the emulator in tests. */
export interface ClientStore {
  /** Every event of the phone, archived ones included (the aggregate skips them). */
  events(phoneE164: string): Promise<AggregateEvent[]>;
  threads(phoneE164: string): Promise<AggregateThread[]>;
  client(phoneE164: string): Promise<ClientDoc | undefined>;
  saveClient(client: ClientDoc): Promise<void>;
}

export function firestoreClientStore(db: Firestore): ClientStore {
  const c = collections(db);
  return {
    async events(phoneE164) {
      const snapshot = await c.evenimente().where('phoneE164', '==', phoneE164).get();
      return snapshot.docs.map((d) => d.data());
    },
    async threads(phoneE164) {
      const snapshot = await c.threads().where('phoneE164', '==', phoneE164).get();
      return snapshot.docs.map((d) => d.data());
    },
    async client(phoneE164) {
      return (await c.clients().doc(phoneE164).get()).data();
    },
    async saveClient(client) {
      // A whole-document set: the aggregate is a function of the events, nothing else to keep.
      await c.clients().doc(client.phoneE164).set(client);
    },
  };
}
