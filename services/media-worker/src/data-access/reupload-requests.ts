import { waCommandsQueue, type ReuploadMediaCommand } from '@wacrm/contracts';
import { enqueue, jobIdFrom, openQueue, type ContractQueue } from '@wacrm/queue';
import type { Redis } from 'ioredis';

/** Asks the account's phone, through its owning wa-gateway, to upload an expired file again. */
export type RequestReupload = (command: ReuploadMediaCommand) => Promise<void>;

/**
 * A `reupload-media` command on the account's `wa-commands.{accountId}` queue, keyed by the
 * message: a retried media job asks once.
 */
export function reuploadRequests(deps: { connection: Redis; prefix: string }): {
  request: RequestReupload;
  close(): Promise<void>;
} {
  const queues = new Map<string, ContractQueue<ReturnType<typeof waCommandsQueue>>>();
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
    async close() {
      await Promise.all([...queues.values()].map((q) => q.queue.close()));
    },
  };
}
