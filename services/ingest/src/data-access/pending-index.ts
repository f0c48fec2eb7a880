import type { Redis } from 'ioredis';

/**
 * Which message ids have a pending update in Firestore, so a message that lands looks one up
 * only when there is one. Added before the Firestore write, removed after the message commits:
 * a stale entry costs one read, a missing one cannot happen.
 */
export class PendingIndex {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(accountId: string): string {
    return `${this.prefix}:ingest:pending:${accountId}`;
  }

  async add(accountId: string, messageIds: string[]): Promise<void> {
    if (messageIds.length > 0) await this.redis.sadd(this.key(accountId), ...messageIds);
  }

  async remove(accountId: string, messageIds: string[]): Promise<void> {
    if (messageIds.length > 0) await this.redis.srem(this.key(accountId), ...messageIds);
  }

  async which(accountId: string, messageIds: string[]): Promise<string[]> {
    if (messageIds.length === 0) return [];
    const flags = await this.redis.smismember(this.key(accountId), ...messageIds);
    return messageIds.filter((_, i) => flags[i] === 1);
  }
}
