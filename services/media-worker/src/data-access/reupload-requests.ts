import {
  MediaQueue,
  waCommandsQueue,
  type ReuploadDeadlineJob,
  type ReuploadMediaCommand,
} from '@wacrm/contracts';
import { enqueue, jobIdFrom, openQueue, type ContractQueue } from '@wacrm/queue';
import type { Redis } from 'ioredis';

/** Asks the account's phone, through its owning wa-gateway, to upload an expired file again. */
export type RequestReupload = (command: ReuploadMediaCommand) => Promise<void>;

/** Schedules the bound on one re-upload request: a `reupload-deadline` job after its timeout. */
export type ScheduleReuploadDeadline = (job: ReuploadDeadlineJob) => Promise<void>;

/**
 * A `reupload-media` command on the account's `wa-commands.{accountId}` queue, keyed by the
 * message: a retried media job asks once. Its deadline is a delayed job on `media`, keyed by the
 * message and the request's time: one per request.
 */
export function reuploadRequests(deps: { connection: Redis; prefix: string }): {
  request: RequestReupload;
  deadline: ScheduleReuploadDeadline;
  close(): Promise<void>;
} {
  const queues = new Map<string, ContractQueue<ReturnType<typeof waCommandsQueue>>>();
  let media: ContractQueue<typeof MediaQueue> | undefined;
  return {
    async request(command) {
      let queue = queues.get(command.accountId);
      if (queue === undefined) {
        queue = openQueue(waCommandsQueue(command.accountId), deps);
        queues.set(command.accountId, queue);
      }
      await enqueue(queue, 'reupload-media', command, {
        jobId: jobIdFrom('reupload', command.threadId, command.messageId),
      });
    },
    async deadline(job) {
      media ??= openQueue(MediaQueue, deps);
      await enqueue(media, 'reupload-deadline', job, {
        jobId: jobIdFrom('reupload-deadline', job.threadId, job.messageId, job.requestedAt),
        delay: job.timeoutMs,
      });
    },
    async close() {
      await Promise.all(
        [...queues.values(), ...(media ? [media] : [])].map((q) => q.queue.close()),
      );
    },
  };
}
