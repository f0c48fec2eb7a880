import type { Firestore } from 'firebase-admin/firestore';
import {
  encodeSearchEntry,
  messageSearchTerms,
  SEARCH_ENTRIES_PER_PART,
  searchPeriodOf,
  searchEntryOf,
  searchPartId,
  threadSearchTerms,
  type MessageDoc,
  type ThreadDoc,
} from '@wacrm/contracts';
import { searchPeriods, searchThreads } from '@wacrm/firestore';

/**
 * Writes the search index of stored data in the layout ingest keeps (libs/contracts
 * search.schema.ts), in bulk: tests of the read side and the bench seed with it.
 */
export async function writeSearchIndex(
  db: Firestore,
  accountId: string,
  threads: Array<[string, ThreadDoc]>,
  messages: MessageDoc[],
): Promise<number> {
  const now = new Date();
  const periods = new Map<string, { term: string; period: number; entries: string[] }>();
  for (const m of messages) {
    const period = searchPeriodOf(m.tsClient);
    const entry = encodeSearchEntry(searchEntryOf(m));
    for (const term of messageSearchTerms(m)) {
      const key = `${term}\u0000${period}`;
      let slot = periods.get(key);
      if (slot === undefined) periods.set(key, (slot = { term, period, entries: [] }));
      slot.entries.push(entry);
    }
  }
  const writes: Array<(b: ReturnType<Firestore['batch']>) => void> = [];
  for (const { term, period, entries } of periods.values()) {
    const parts = Math.max(1, Math.ceil(entries.length / SEARCH_ENTRIES_PER_PART));
    for (let part = 0; part < parts; part++) {
      const slice = entries.slice(
        part * SEARCH_ENTRIES_PER_PART,
        (part + 1) * SEARCH_ENTRIES_PER_PART,
      );
      writes.push((b) =>
        b.set(searchPeriods(db, accountId, term).doc(searchPartId(period, part)), {
          term,
          period,
          part,
          parts,
          entries: slice,
          updatedAt: now,
        }),
      );
    }
  }
  for (const [threadId, t] of threads) {
    writes.push((b) =>
      b.set(searchThreads(db, accountId).doc(threadId), {
        threadId,
        terms: threadSearchTerms(t),
        updatedAt: now,
      }),
    );
  }
  for (let i = 0; i < writes.length; i += 400) {
    const batch = db.batch();
    for (const w of writes.slice(i, i + 400)) w(batch);
    await batch.commit();
  }
  return writes.length;
}
