import type { OutboxDoc } from '@wacrm/contracts';
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

/** What the conversation's copy of a send is made from: fixed when the send is accepted. */
export type SendContent = Pick<OutboxDoc, 'threadId' | 'to' | 'body' | 'media' | 'replyTo'>;

/**
 * The content of sends this process recorded as accepted (record-outbound carries it), by
 * requestId, so WhatsApp's ack of the send (record-send-result) need not read the outbox
 * document back. The content never changes after the accept, so an entry is never stale; a miss
 * (another ingest replica, a restart) reads the outbox. Bounded, oldest dropped first.
 */
export class AcceptedSends {
  private readonly byRequest = new Map<string, SendContent>();

  constructor(private readonly max = 20_000) {}

  remember(requestId: string, content: SendContent): void {
    this.byRequest.delete(requestId);
    this.byRequest.set(requestId, content);
    if (this.byRequest.size > this.max) this.byRequest.delete(this.byRequest.keys().next().value!);
  }

  /** The content, once: an ack comes once per send (a replay reads the outbox). */
  take(requestId: string): SendContent | undefined {
    const content = this.byRequest.get(requestId);
    this.byRequest.delete(requestId);
    return content;
  }
}

export interface IngestDeps {
  store: FirestoreStore;
  fence: AccountFence;
  lock: AccountLock;
  pendingIndex: PendingIndex;
  publisher: RealtimePublisher;
  identities: IdentityCache;
  accepted: AcceptedSends;
  /** Firestore writes per commit (≤ 500). */
  maxWrites: number;
  logger: Logger;
  /** Send facts (acked, receipts, failed) for outbox-sender, the outbox's owner. */
  sendStatus: SendStatusQueue;
  /** The media worker's queue (issue 17); unset, media are not kept. */
  media?: MediaJobs;
}
