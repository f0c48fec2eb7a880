import { MediaQueue, type MessageDoc, type MessageSource } from '@wacrm/contracts';
import { jobIdFrom, type ContractQueue } from '@wacrm/queue';
import type { ChangeSet } from '../domain/change-set.js';

export type MediaJobs = ContractQueue<typeof MediaQueue>;

/** A message whose file the media worker is to keep: it gets a `store-media` job. */
export const hasMediaToKeep = (m: MessageDoc): boolean =>
  m.media !== null && m.media.status === 'pending';

/**
 * One `store-media` job per new message whose media can be downloaded (issue 17). Added before
 * the messages are committed, keyed by the message, so a crash in between loses no file and a
 * replay adds nothing; the media worker retries until the message is there. Live media goes
 * ahead of history (BullMQ priority: lower first).
 */
export async function enqueueMediaJobs(
  media: MediaJobs,
  accountId: string,
  source: MessageSource,
  changes: ChangeSet,
): Promise<void> {
  const jobs = changes.threads.flatMap((t) =>
    t.newMessages
      .filter(hasMediaToKeep)
      .map((m) => ({ threadId: t.threadId, messageId: m.waKey.id })),
  );
  if (jobs.length === 0) return;
  await media.queue.addBulk(
    jobs.map(({ threadId, messageId }) => ({
      name: 'store-media',
      data: MediaQueue.jobs['store-media'].parse({ accountId, threadId, messageId, source }),
      opts: {
        jobId: jobIdFrom('media', threadId, messageId),
        priority: source === 'live' ? 1 : 10,
      },
    })),
  );
}
