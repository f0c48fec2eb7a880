import type { Firestore } from 'firebase-admin/firestore';
import { searchPeriodOf, type MessageDoc, type ThreadDoc } from '@wacrm/contracts';
// Ingest's own planner and writer, so tests and the bench read the index ingest writes.
import { applySearchPlan } from '../../ingest/src/data-access/search-index.js';
import { emptySearchPlan, planMessage, planThread } from '../../ingest/src/domain/search-plan.js';

/** Weeks of messages planned and written per turn: one index document is written once. */
const PERIODS_PER_TURN = 4;

/**
 * Writes the search index of stored data through ingest's planner and writer
 * (`planMessage`, `planThread`, `applySearchPlan`), in bulk: the messages are grouped by index
 * period, so each (word, week) document is read and written once however many messages it
 * holds; the writer bounds each commit by writes and bytes. Returns the number of batch commits.
 */
export async function writeSearchIndex(
  db: Firestore,
  accountId: string,
  threads: Array<[string, ThreadDoc]>,
  messages: MessageDoc[],
  onProgress?: (messagesDone: number) => void,
): Promise<number> {
  const now = new Date();
  const byPeriod = new Map<number, MessageDoc[]>();
  for (const m of messages) {
    const period = searchPeriodOf(m.tsClient);
    const list = byPeriod.get(period) ?? [];
    list.push(m);
    byPeriod.set(period, list);
  }
  const periods = [...byPeriod.keys()].sort((a, b) => a - b);
  let commits = 0;
  let done = 0;
  for (let i = 0; i < periods.length; i += PERIODS_PER_TURN) {
    const plan = emptySearchPlan();
    for (const period of periods.slice(i, i + PERIODS_PER_TURN)) {
      for (const m of byPeriod.get(period)!) {
        planMessage(plan, m);
        done += 1;
      }
    }
    commits += (await applySearchPlan(db, accountId, plan, now)).commits;
    onProgress?.(done);
  }
  const plan = emptySearchPlan();
  for (const [id, t] of threads) planThread(plan, id, null, t);
  commits += (await applySearchPlan(db, accountId, plan, now)).commits;
  return commits;
}
