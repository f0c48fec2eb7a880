import {
  AiRequestsQueue,
  CrmEventsQueue,
  OutboxQueue,
  WaInboundQueue,
  Queues,
  WebhooksQueue,
  waCommandsQueue,
  type AccountId,
  type QueueContract,
} from '@wacrm/contracts';
import { openQueue, type ContractQueue } from '@wacrm/queue';
import type { Redis } from 'ioredis';

export type CommandsQueue = ContractQueue<ReturnType<typeof waCommandsQueue>>;

/** The producer side of every queue the gateway writes to, opened once and shared. */
export interface QueueRegistry {
  readonly prefix: string;
  readonly aiRequests: ContractQueue<typeof AiRequestsQueue>;
  readonly webhooks: ContractQueue<typeof WebhooksQueue>;
  readonly crmEvents: ContractQueue<typeof CrmEventsQueue>;
  readonly outbox: ContractQueue<typeof OutboxQueue>;
  readonly waInbound: ContractQueue<typeof WaInboundQueue>;
  /** Every fixed queue, for the dashboard, metrics and bull-board. */
  readonly fixed: ReadonlyArray<ContractQueue<QueueContract>>;
  commands(accountId: AccountId): CommandsQueue;
  /** The per-account command queues opened so far. */
  openedCommands(): CommandsQueue[];
  close(): Promise<void>;
}

export function createQueueRegistry(connection: Redis, prefix: string): QueueRegistry {
  const deps = { connection, prefix, tracerName: 'api-gateway' };
  const fixed = Object.values(Queues).map((contract) => openQueue(contract as QueueContract, deps));
  const byName = new Map(fixed.map((q) => [q.contract.name, q]));
  const commands = new Map<string, CommandsQueue>();
  return {
    prefix,
    aiRequests: byName.get(AiRequestsQueue.name) as ContractQueue<typeof AiRequestsQueue>,
    webhooks: byName.get(WebhooksQueue.name) as ContractQueue<typeof WebhooksQueue>,
    crmEvents: byName.get(CrmEventsQueue.name) as ContractQueue<typeof CrmEventsQueue>,
    outbox: byName.get(OutboxQueue.name) as ContractQueue<typeof OutboxQueue>,
    waInbound: byName.get(WaInboundQueue.name) as ContractQueue<typeof WaInboundQueue>,
    fixed,
    commands(accountId) {
      let queue = commands.get(accountId);
      if (queue === undefined) {
        queue = openQueue(waCommandsQueue(accountId), deps);
        commands.set(accountId, queue);
      }
      return queue;
    },
    openedCommands: () => [...commands.values()],
    async close() {
      await Promise.all([...fixed, ...commands.values()].map((q) => q.queue.close()));
    },
  };
}
