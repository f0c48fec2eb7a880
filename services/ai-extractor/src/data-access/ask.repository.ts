import type { Firestore } from 'firebase-admin/firestore';
import { canSeeAccount } from '@wacrm/contracts';
import { collections, readClientFor } from '@wacrm/firestore';
import type { AskRepository } from '../domain/ask/ask-client.handler.js';

/** Bound on the conversations of one phone read for notes. */
const MAX_THREADS = 20;

export function firestoreAskRepository(db: Firestore): AskRepository {
  return {
    async clientFor(phoneE164, scope) {
      // The same visibility the API's client profile uses: one rule for both.
      const found = await readClientFor(db, phoneE164, scope);
      if (found.status !== 'visible') return undefined;
      return { displayName: found.record.client.displayName, events: found.record.events };
    },
    async performerNames(ids) {
      // Only ids named by events the asker may see reach here; a performer belongs to the
      // booking's account, so no other account's names are read.
      const performers = collections(db).performers();
      const docs = await Promise.all(ids.map((id) => performers.doc(id).get()));
      const names = new Map<string, string>();
      for (const doc of docs) {
        const performer = doc.data();
        if (performer !== undefined) names.set(doc.id, performer.name);
      }
      return names;
    },
    async notesFor(phoneE164, scope, limit) {
      // The client's conversations in the accounts the asker may see (bounded), then the newest
      // notes of each.
      const threads = await collections(db)
        .threads()
        .where('phoneE164', '==', phoneE164)
        .limit(MAX_THREADS)
        .get();
      const visible = threads.docs.filter((t) => canSeeAccount(scope, t.data().accountId));
      const perThread = await Promise.all(
        visible.map(async (t) => {
          const snap = await collections(db)
            .notes(t.id)
            .orderBy('createdAt', 'desc')
            .limit(limit)
            .get();
          return snap.docs.map((d) => d.data());
        }),
      );
      return perThread
        .flat()
        .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())
        .slice(0, limit)
        .map((n) => ({ body: n.body, createdAt: n.createdAt }));
    },
  };
}
