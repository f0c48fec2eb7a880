import { isLidUser, jidNormalizedUser, proto } from '@whiskeysockets/baileys';
import type { Firestore } from 'firebase-admin/firestore';
import { Collections, type MessageDoc } from '@wacrm/contracts';
import { threadIdFor } from '@wacrm/firestore';

/** Only messages sent this recently are ever sent again: an old message is never rebroadcast. */
export const RESEND_WINDOW_MS = 24 * 60 * 60 * 1000;

/**
 * What Baileys' `getMessage` needs to answer a contact's retry receipt after its in-memory cache
 * (5 minutes, one socket) is gone: the text of a message this account sent recently, read from
 * the thread of each address the chat may go by. Media and older messages are not answered.
 */
export function sentMessageReader(db: Firestore, windowMs = RESEND_WINDOW_MS) {
  return async (
    accountId: string,
    messageId: string,
    chatJids: readonly string[],
  ): Promise<proto.IMessage | undefined> => {
    const jids = [...new Set(chatJids.map((j) => jidNormalizedUser(j) || j).filter((j) => j))];
    const refs = jids.map((jid) =>
      db
        .collection(Collections.threads)
        .doc(threadIdFor(accountId, jid))
        .collection(Collections.messages)
        .doc(messageId),
    );
    if (refs.length === 0) return undefined;
    for (const snapshot of await db.getAll(...refs)) {
      if (!snapshot.exists) continue;
      const doc = snapshot.data() as Omit<Partial<MessageDoc>, 'tsClient'> & {
        tsClient?: Date | { toDate(): Date };
      };
      const sentAt = doc.tsClient instanceof Date ? doc.tsClient : doc.tsClient?.toDate();
      if (doc.accountId !== accountId || doc.direction !== 'outbound' || doc.deleted === true) {
        continue;
      }
      if (!sentAt || Date.now() - sentAt.getTime() > windowMs) continue;
      if (doc.type !== 'text' || typeof doc.body !== 'string' || doc.body === '') continue;
      return proto.Message.fromObject({ conversation: doc.body });
    }
    return undefined;
  };
}

/** A LID user's `_reverse` entry in Baileys' `lid-mapping` keys names its phone-number user. */
export function lidReverseKey(jid: string): string | null {
  if (!isLidUser(jid)) return null;
  const user = jidNormalizedUser(jid).split('@')[0];
  return user ? `${user}_reverse` : null;
}
