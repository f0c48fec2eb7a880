import type { ReindexSearchJob, SearchBackfillDoc } from '@wacrm/contracts';
import type { Logger } from '@wacrm/observability';
import { loadSearchBackfill, saveSearchBackfill } from '../data-access/document-writes.js';
import { applySearchPlan } from '../data-access/search-index.js';
import { inAccountTurn } from './account-turn.js';
import type { IngestDeps } from './ingest-deps.js';
import { emptySearchPlan, planMessage, planThread } from './search-plan.js';

/** Threads indexed per turn of the account lock, so live messages are not held up long. */
export const BACKFILL_THREADS_PER_SLICE = 25;

/**
 * `reindex-search`: indexes an account's stored threads and messages, in thread id order, a
 * slice per turn of the account lock, recording after each slice where it got to
 * (`searchIndexState/backfill`). A job that dies resumes from there; indexing is idempotent,
 * so a slice done twice changes nothing.
 */
export async function reindexSearch(
  job: ReindexSearchJob,
  deps: IngestDeps,
  logger: Logger,
): Promise<{ threads: number; messages: number }> {
  const stored = await loadSearchBackfill(deps.store, job.accountId);
  const startedAt = new Date();
  let state: SearchBackfillDoc =
    job.afterThreadId === null && stored !== undefined && stored.status === 'running'
      ? stored
      : {
          status: 'running',
          afterThreadId: job.afterThreadId,
          threads: 0,
          messages: 0,
          startedAt,
          updatedAt: startedAt,
          completedAt: null,
        };
  const threads = (await deps.store.accountThreads(job.accountId)).sort((a, b) =>
    a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
  );
  let next = threads.findIndex((t) => state.afterThreadId === null || t.id > state.afterThreadId);
  if (next < 0) next = threads.length;
  while (next < threads.length) {
    const slice = threads.slice(next, next + BACKFILL_THREADS_PER_SLICE);
    state = await inAccountTurn(deps, job.accountId, async () => {
      const plan = emptySearchPlan();
      let messages = 0;
      for (const t of slice) {
        planThread(plan, t.id, null, t.doc);
        for (const m of await deps.store.threadMessages(t.id)) {
          planMessage(plan, m);
          messages += 1;
        }
      }
      const now = new Date();
      await applySearchPlan(deps.store.db, job.accountId, plan, now, deps.maxWrites);
      const progressed: SearchBackfillDoc = {
        ...state,
        afterThreadId: slice[slice.length - 1]!.id,
        threads: state.threads + slice.length,
        messages: state.messages + messages,
        updatedAt: now,
      };
      await saveSearchBackfill(deps.store, job.accountId, progressed);
      return progressed;
    });
    next += slice.length;
  }
  const now = new Date();
  await saveSearchBackfill(deps.store, job.accountId, {
    ...state,
    status: 'completed',
    updatedAt: now,
    completedAt: now,
  });
  logger.info(
    { accountId: job.accountId, threads: state.threads, messages: state.messages },
    `search backfill of ${job.accountId} done`,
  );
  return { threads: state.threads, messages: state.messages };
}
