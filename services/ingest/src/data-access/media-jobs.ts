import { MediaQueue, type MessageDoc } from '@wacrm/contracts';
import { isHistoryMedia } from '@wacrm/firestore';
import { jobIdFrom, type ContractQueue } from '@wacrm/queue';
import type { ChangeSet } from '../domain/change-set.js';

export type MediaJobs = ContractQueue<typeof MediaQueue>;

/** A message whose file the media worker is to keep: it gets a `store-media` job. */
export const hasMediaToKeep = (m: MessageDoc): boolean =>
  m.media !== null && m.media.status === 'pending';

/** Of those, the ones in the account's history media total (the media worker counts how they end). */
export const hasHistoryMediaToKeep = (m: MessageDoc): boolean =>
  hasMediaToKeep(m) && isHistoryMedia(m.source);

/**
 * One `store-media` job per new message whose media can be downloaded (issue 17). Added before
 * the messages are committed, keyed by the message, so a crash in between loses no file and a
 * replay adds nothing; the media worker retries until the message is there. Each job carries
 * its message's own source (a LID thread's merged copies may mix them); live media goes ahead
 * of history (BullMQ priority: lower first).
 */
export async function enqueueMediaJobs(
  media: MediaJobs,
  accountId: string,
  changes: ChangeSet,
): Promise<void> {
  const jobs = changes.threads.flatMap((t) =>
    t.newMessages
      .filter(hasMediaToKeep)
      .map((m) => ({ threadId: t.threadId, messageId: m.waKey.id, source: m.source })),
  );
  if (jobs.length === 0) return;
  await media.queue.addBulk(
    jobs.map(({ threadId, messageId, source }) => ({
      name: 'store-media',
      data: MediaQueue.jobs['store-media'].parse({ accountId, threadId, messageId, source }),
      opts: {
        jobId: jobIdFrom('media', threadId, messageId),
        priority: source === 'live' ? 1 : 10,
      },
    })),
  );
}
