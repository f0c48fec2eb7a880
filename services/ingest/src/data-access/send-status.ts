import { OutboxQueue, type SendStatusJob } from '@wacrm/contracts';
import { jobIdFrom, type ContractQueue } from '@wacrm/queue';

export type SendStatusQueue = ContractQueue<typeof OutboxQueue>;

/**
 * Reports send facts to the outbox's owner (outbox-sender) as `send-status` jobs. Added before
 * the commit that stores the message's status, keyed by request and status, so a crash in
 * between loses no fact and a replay adds nothing; the facts are WhatsApp's, true either way.
 */
export async function reportSendStatus(
  queue: SendStatusQueue,
  facts: readonly SendStatusJob[],
): Promise<void> {
  if (facts.length === 0) return;
  await queue.queue.addBulk(
    facts.map((fact) => ({
      name: 'send-status',
      data: OutboxQueue.jobs['send-status'].parse(fact),
      opts: { jobId: jobIdFrom('status', fact.requestId, fact.status) },
    })),
  );
}
