import type { IdentityDoc } from '@wacrm/contracts';
import { newAccountDoc, threadIdFor } from '@wacrm/firestore';
import type { Logger } from '@wacrm/observability';
import {
  writeChangeSet,
  type BatchProgress,
  type LooseWrite,
} from '../data-access/change-writer.js';
import { accountWrite, identityWrite } from '../data-access/document-writes.js';
import { enqueueMediaJobs, hasHistoryMediaToKeep } from '../data-access/media-jobs.js';
import { ChangeSetBuilder, threadSeedOf } from './change-set.js';
import { seedFor } from './conversation-sync.js';
import type { IngestDeps } from './ingest-deps.js';
import { isLidJid, isPhoneJid, normalizeJid } from './jid.js';

/** Baileys gives LIDs and phone numbers as JIDs, sometimes as bare users. */
export function normalizeMapping(lid: string, pn: string): { lid: string; pn: string } | null {
  const l = normalizeJid(lid.includes('@') ? lid : `${lid}@lid`);
  const p = normalizeJid(pn.includes('@') ? pn : `${pn.replace(/^\+/, '')}@s.whatsapp.net`);
  return isLidJid(l) && isPhoneJid(p) ? { lid: l, pn: p } : null;
}

/**
 * Records LID ↔ phone mappings and folds each LID thread into its phone thread: the LID
 * thread's messages are copied there (new ones only, so counters stay right on replay), the
 * LID thread is kept and marked `mergedInto`, and from then on everything is filed under the
 * phone JID. Nothing is deleted. A copy whose file is still pending gets its own `store-media`
 * job, like any new message, so the phone thread keeps the file too; a history one also joins
 * the account's history media total, as the media worker counts its outcome.
 */
export async function applyIdentityMappings(
  deps: IngestDeps,
  accountId: string,
  raw: ReadonlyArray<{ lid: string; pn: string }>,
  logger: Logger,
): Promise<{ mapped: number; merged: number }> {
  const now = new Date();
  const mappings = new Map<string, string>();
  for (const m of raw) {
    const n = normalizeMapping(m.lid, m.pn);
    if (n === null) logger.warn({ lid: m.lid }, 'identity mapping ignored: not a LID and a phone');
    else mappings.set(n.lid, n.pn);
  }
  if (mappings.size === 0) return { mapped: 0, merged: 0 };

  const stored = await deps.store.loadIdentities(accountId, mappings.keys());
  const lidThreads = await deps.store.loadThreads(
    [...mappings.keys()].map((lid) => threadIdFor(accountId, lid)),
  );
  const toMerge = [...mappings].filter(([lid]) => {
    const t = lidThreads.get(threadIdFor(accountId, lid));
    return t !== undefined && (t.mergedInto ?? null) === null;
  });
  const copies = await Promise.all(
    toMerge.map(async ([lid, pn]) => ({
      lid,
      pn,
      lidThreadId: threadIdFor(accountId, lid),
      pnThreadId: threadIdFor(accountId, pn),
      messages: await deps.store.threadMessages(threadIdFor(accountId, lid)),
    })),
  );
  const [threads, messages] = await Promise.all([
    deps.store.loadThreads([
      ...copies.map((c) => c.pnThreadId),
      ...copies.map((c) => c.lidThreadId),
    ]),
    deps.store.loadMessages(
      copies.flatMap((c) =>
        c.messages.map((m) => ({ threadId: c.pnThreadId, messageId: m.waKey.id })),
      ),
    ),
  ]);
  const builder = new ChangeSetBuilder({ accountId, now, threads, messages, pending: new Map() });
  for (const c of copies) {
    const lidThread = threads.get(c.lidThreadId)!;
    const seed = seedFor(c.pn, lidThread.displayName);
    builder.ensureThread(c.pnThreadId, seed);
    for (const m of c.messages) builder.addMessage(seed, { ...m, threadId: c.pnThreadId });
    // After the phone thread in write order: marked merged only once every copy is committed.
    builder.patchThread(c.lidThreadId, threadSeedOf(lidThread), { mergedInto: c.pnThreadId });
  }
  const identityWrites: LooseWrite[] = [...mappings]
    .filter(([lid, pn]) => stored.get(lid) !== pn)
    .map(([lid, pn]) => {
      const doc: IdentityDoc = { accountId, lid, pn, createdAt: now };
      return identityWrite(deps.store, doc);
    });
  const changes = builder.build();
  if (deps.media !== undefined) await enqueueMediaJobs(deps.media, accountId, changes);
  const historyMedia = changes.threads.some((t) => t.newMessages.some(hasHistoryMediaToKeep));
  const account = historyMedia ? await deps.store.loadAccount(accountId) : undefined;
  const mediaBase = account?.historyMediaTotal ?? 0;
  // Counted in the commit that creates the copies, as history.handlers does for a chunk.
  const progressWrites = ({ newHistoryMedia }: BatchProgress): LooseWrite[] =>
    newHistoryMedia === 0
      ? []
      : [
          accountWrite(
            deps.store,
            accountId,
            account === undefined ? newAccountDoc(accountId, null, now) : null,
            {
              historyMediaTotal: mediaBase + newHistoryMedia,
              ...(account === undefined ? {} : { updatedAt: now }),
            },
          ),
        ];
  await writeChangeSet(deps.store, changes, {
    accountId,
    now,
    maxWrites: deps.maxWrites,
    loose: identityWrites,
    ...(historyMedia ? { reservePerBatch: 1, perBatch: progressWrites } : {}),
    onCommitted: (events) => deps.publisher.publish(events),
  });
  const cache = deps.identities.get(accountId);
  for (const [lid, pn] of mappings) cache.set(lid, pn);
  for (const c of copies) {
    logger.info(
      { lidThreadId: c.lidThreadId, threadId: c.pnThreadId, messages: c.messages.length },
      'LID thread merged into the phone thread',
    );
  }
  return { mapped: mappings.size, merged: copies.length };
}
