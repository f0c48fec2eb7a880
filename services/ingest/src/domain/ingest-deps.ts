import type { Logger } from '@wacrm/observability';
import type { RealtimePublisher } from '@wacrm/queue';
import type { AccountFence } from '../data-access/account-fence.js';
import type { AccountLock } from '../data-access/account-lock.js';
import type { FirestoreStore } from '../data-access/firestore-store.js';
import type { MediaJobs } from '../data-access/media-jobs.js';
import type { PendingIndex } from '../data-access/pending-index.js';
import type { SendStatusQueue } from '../data-access/send-status.js';

/** Known LID → phone JID per account. Mappings never change, so only hits are cached. */
export class IdentityCache {
  private readonly byAccount = new Map<string, Map<string, string>>();

  get(accountId: string): Map<string, string> {
    let map = this.byAccount.get(accountId);
    if (map === undefined) {
      map = new Map();
      this.byAccount.set(accountId, map);
    }
    return map;
  }
}

export interface IngestDeps {
  store: FirestoreStore;
  fence: AccountFence;
  lock: AccountLock;
  pendingIndex: PendingIndex;
  publisher: RealtimePublisher;
  identities: IdentityCache;
  /** Firestore writes per commit (≤ 500). */
  maxWrites: number;
  logger: Logger;
  /** Send facts (acked, receipts, failed) for outbox-sender, the outbox's owner. */
  sendStatus: SendStatusQueue;
  /** The media worker's queue (issue 17); unset, media are not kept. */
  media?: MediaJobs;
}
