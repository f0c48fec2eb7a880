import { newAccountDoc } from '@wacrm/firestore';
import type { HistoryChunkDoc, IngestHistoryJob } from '@wacrm/contracts';
import type { Logger } from '@wacrm/observability';
import type { BatchProgress, LooseWrite } from '../data-access/change-writer.js';
import { accountWrite, historyChunkWrite } from '../data-access/document-writes.js';
import { inGatewayTurn } from './account-turn.js';
import { syncHistoryChunk, type ThreadHint } from './conversation-sync.js';
import { applyIdentityMappings, normalizeMapping } from './identity-merge.js';
import type { IngestDeps } from './ingest-deps.js';

/** `ingest-history`: one chunk of a history sync or backfill, with its progress. */
export async function ingestHistory(
  job: IngestHistoryJob,
  deps: IngestDeps,
  logger: Logger,
): Promise<unknown> {
  return inGatewayTurn(deps, job, logger, async () => {
    const { accountId } = job;
    const mappings = job.contacts.flatMap((c) => {
      if (c.lid !== null && c.phoneNumber !== null) return [{ lid: c.lid, pn: c.phoneNumber }];
      if (c.phoneNumber !== null && c.id.endsWith('@lid'))
        return [{ lid: c.id, pn: c.phoneNumber }];
      return [];
    });
    if (mappings.some((m) => normalizeMapping(m.lid, m.pn) !== null)) {
      await applyIdentityMappings(deps, accountId, mappings, logger);
    }

    const [account, recorded] = await Promise.all([
      deps.store.loadAccount(accountId),
      deps.store.chunkRecorded(accountId, job.chunkId),
    ]);
    const now = new Date();
    // A chunk counts towards progress once: a replay rewrites nothing it already counted.
    const counting = !recorded;
    const running = account?.history.status === 'running';
    const base = {
      messages: running ? account.history.messages : 0,
      threads: running ? account.history.threads : 0,
      startedAt: running ? account.history.startedAt : now,
    };
    const hints: ThreadHint[] = [
      ...job.chats.map((c) => ({
        chatJid: c.id,
        name: c.name,
        unreadCount: c.unreadCount,
        create: true,
      })),
      ...job.contacts.map((c) => ({
        chatJid: c.id,
        name: c.name ?? c.notify,
        unreadCount: null,
        create: false,
      })),
    ];
    const chunkThreads = new Set([
      ...job.chats.map((c) => c.id),
      ...job.messages.map((m) => m.key.remoteJid),
    ]).size;
    const complete = job.progress === 100;
    let committedMessages = 0;
    // Cumulative, never reset by a new sync: the media worker's outcome counts are too.
    const mediaBase = account?.historyMediaTotal ?? 0;
    const progressWrites = ({ isLast, newMessages, newHistoryMedia }: BatchProgress) => {
      committedMessages = newMessages;
      if (!counting) return [];
      // Counted in the commit that creates the messages: the media worker cannot end one first.
      const historyMediaTotal = mediaBase + newHistoryMedia;
      const history = {
        status: isLast && complete ? ('completed' as const) : ('running' as const),
        messages: base.messages + newMessages,
        threads: base.threads + (isLast ? chunkThreads : 0),
        percent: isLast ? job.progress : running ? account.history.percent : null,
        startedAt: base.startedAt,
        completedAt: isLast && complete ? now : null,
      };
      const writes: LooseWrite[] = [
        account === undefined
          ? accountWrite(deps.store, accountId, newAccountDoc(accountId, null, now), {
              history,
              historyMediaTotal,
            })
          : accountWrite(deps.store, accountId, null, {
              history,
              historyMediaTotal,
              updatedAt: now,
            }),
      ];
      if (isLast) {
        const chunk: HistoryChunkDoc = {
          accountId,
          chunkId: job.chunkId,
          source: job.source,
          messages: newMessages,
          threads: chunkThreads,
          progress: job.progress,
          recordedAt: now,
        };
        writes.push(historyChunkWrite(deps.store, chunk));
      }
      return writes;
    };
    const result = await syncHistoryChunk(
      deps,
      {
        accountId,
        source: job.source,
        raw: job.messages,
        hints,
        perBatch: { reserve: 2, writes: progressWrites },
      },
      logger,
    );
    const total = base.messages + committedMessages;
    logger.info(
      { accountId, chunkId: job.chunkId, progress: job.progress, counted: counting, ...result },
      `${job.source} chunk ingested`,
    );
    if (counting && complete) {
      logger.info(
        { accountId, messages: total, threads: base.threads + chunkThreads },
        `${job.source === 'backfill' ? 'backfill' : 'history sync'} of ${accountId} done: ${total} messages`,
      );
    }
    return result;
  });
}
