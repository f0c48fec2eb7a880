import type { Firestore } from 'firebase-admin/firestore';
import { Collections } from '@wacrm/contracts';
import type { HistoryAnchor } from '../drivers/driver.port.js';

/**
 * The oldest stored message of the account's most recent threads: where on-demand history
 * continues backwards (Baileys' fetchMessageHistory needs a message key and its timestamp).
 */
export async function historyAnchors(
  db: Firestore,
  accountId: string,
  threads: number,
): Promise<HistoryAnchor[]> {
  const recent = await db
    .collection(Collections.threads)
    .where('accountId', '==', accountId)
    .orderBy('lastMessageAt', 'desc')
    .limit(threads)
    .get();
  const anchors: HistoryAnchor[] = [];
  for (const thread of recent.docs) {
    const oldest = await thread.ref
      .collection(Collections.messages)
      .orderBy('tsClient', 'asc')
      .limit(1)
      .get();
    const doc = oldest.docs[0]?.data() as
      | {
          waKey?: { id: string; remoteJid: string; fromMe: boolean };
          tsClient?: { toMillis(): number };
        }
      | undefined;
    if (doc?.waKey && doc.tsClient) {
      anchors.push({ key: doc.waKey, timestamp: Math.floor(doc.tsClient.toMillis() / 1000) });
    }
  }
  return anchors;
}
