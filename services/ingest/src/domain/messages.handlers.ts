import type { IngestMessagesJob, MessageUpdatesJob, ReceiptsJob } from '@wacrm/contracts';
import type { Logger } from '@wacrm/observability';
import { inGatewayTurn } from './account-turn.js';
import type { Mutation } from './change-set.js';
import { syncMessageChanges, syncMessages, type AddressedMutation } from './conversation-sync.js';
import type { IngestDeps } from './ingest-deps.js';
import { classify, statusFromWa } from './wa-message.js';

/** `ingest-messages`: messages the socket received or sent. */
export async function ingestMessages(
  job: IngestMessagesJob,
  deps: IngestDeps,
  logger: Logger,
): Promise<unknown> {
  return inGatewayTurn(deps, job, logger, async () => {
    const result = await syncMessages(
      deps,
      { accountId: job.accountId, source: job.source, raw: job.messages },
      logger,
    );
    logger.info({ accountId: job.accountId, ...result }, 'messages ingested');
    return result;
  });
}

/** The changes one Baileys message update carries: a status, and an edit, revoke or reaction. */
export function mutationsOfUpdate(
  update: MessageUpdatesJob['updates'][number],
): AddressedMutation[] {
  const mutations: AddressedMutation[] = [];
  const chatJid = update.key.remoteJid;
  const status = statusFromWa(update.status);
  if (status !== null) {
    // Our own messages move along sent → delivered → read; an inbound one can only be read.
    const mutation: Mutation = { status: update.key.fromMe ? status : 'read' };
    if (update.key.fromMe || status === 'read') {
      mutations.push({ chatJid, messageId: update.key.id, mutation });
    }
  }
  if (update.message === null) return mutations;
  const item = classify({
    key: update.key,
    message: update.message,
    messageTimestamp: 0,
    pushName: null,
    status: null,
    messageStubType: null,
    messageStubParameters: null,
    undecryptable: false,
  });
  if (item.kind === 'edit') {
    mutations.push({ chatJid, messageId: item.targetId, mutation: { editedBody: item.body } });
  } else if (item.kind === 'revoke') {
    mutations.push({ chatJid, messageId: item.targetId, mutation: { deleted: true } });
  } else if (item.kind === 'reaction') {
    mutations.push({
      chatJid,
      messageId: item.targetId,
      mutation: { reaction: { reactor: item.reactor, emoji: item.emoji } },
    });
  } else if (item.kind === 'content') {
    // Baileys reports an edit as the new content of the original key.
    mutations.push({
      chatJid,
      messageId: update.key.id,
      mutation: { editedBody: item.content.body },
    });
  }
  return mutations;
}

/** `update-messages`: statuses, edits, revokes and reactions of stored messages. */
export async function updateMessages(
  job: MessageUpdatesJob,
  deps: IngestDeps,
  logger: Logger,
): Promise<unknown> {
  return inGatewayTurn(deps, job, logger, async () => {
    const mutations = job.updates.flatMap(mutationsOfUpdate);
    const result = await syncMessageChanges(deps, job.accountId, mutations, logger);
    logger.info(
      { accountId: job.accountId, updates: job.updates.length, ...result },
      'message updates applied',
    );
    return result;
  });
}

/** `apply-receipts`: delivery and read receipts. */
export async function applyReceipts(
  job: ReceiptsJob,
  deps: IngestDeps,
  logger: Logger,
): Promise<unknown> {
  return inGatewayTurn(deps, job, logger, async () => {
    const mutations: AddressedMutation[] = job.receipts.flatMap((r) => {
      const status =
        r.readTimestamp !== null ? 'read' : r.receiptTimestamp !== null ? 'delivered' : null;
      if (status === null) return [];
      return [{ chatJid: r.key.remoteJid, messageId: r.key.id, mutation: { status } }];
    });
    const result = await syncMessageChanges(deps, job.accountId, mutations, logger);
    logger.info(
      { accountId: job.accountId, receipts: job.receipts.length, ...result },
      'receipts applied',
    );
    return result;
  });
}
