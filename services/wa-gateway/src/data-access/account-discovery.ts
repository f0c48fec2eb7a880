import type { Firestore } from 'firebase-admin/firestore';
import type { Redis } from 'ioredis';
import { AccountsChannel, AccountsChannelMessage, Collections } from '@wacrm/contracts';
import type { Logger } from '@wacrm/observability';

/** Every account id in Firestore (the api-gateway creates `accounts/{id}`). */
export async function listAccountIds(db: Firestore): Promise<string[]> {
  const snapshot = await db.collection(Collections.accounts).get();
  return snapshot.docs.map((d) => d.id);
}

/** Calls `onAccount` for each account announced on the accounts channel (immediate pick-up). */
export async function subscribeAccounts(
  subscriber: Redis,
  logger: Logger,
  onAccount: (accountId: string) => void,
): Promise<void> {
  subscriber.on('message', (channel: string, text: string) => {
    if (channel !== AccountsChannel) return;
    try {
      onAccount(AccountsChannelMessage.parse(JSON.parse(text)).accountId);
    } catch (error) {
      logger.warn({ err: error }, 'ignoring an invalid message on the accounts channel');
    }
  });
  await subscriber.subscribe(AccountsChannel);
}
