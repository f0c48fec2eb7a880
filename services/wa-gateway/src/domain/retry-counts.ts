import type { CacheStore } from '@whiskeysockets/baileys';

const TTL_MS = 60 * 60 * 1000;
const MAX_ENTRIES = 10_000;

/**
 * Baileys' `msgRetryCounterCache`: how often each message was asked for again. Held by the
 * session, not the socket, so a reconnect does not reset the count and lift Baileys' cap.
 * Entries live an hour; the oldest go first past 10,000.
 */
export class RetryCounts implements CacheStore {
  private readonly entries = new Map<string, { value: unknown; expiresAt: number }>();

  get<T>(key: string): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt < Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value as T;
  }

  set<T>(key: string, value: T): void {
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: Date.now() + TTL_MS });
    while (this.entries.size > MAX_ENTRIES) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  del(key: string): void {
    this.entries.delete(key);
  }

  flushAll(): void {
    this.entries.clear();
  }
}
