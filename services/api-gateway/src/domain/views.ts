import type { z } from 'zod';
import type {
  AccountDoc,
  AccountView,
  HistoryMediaProgress,
  ClientDoc,
  ClientView,
  CostumeDoc,
  CostumeView,
  EventDoc,
  EventView,
  MessageDoc,
  MessageView,
  NoteDoc,
  NoteView,
  PerformerDoc,
  PerformerView,
  ThreadDoc,
  ThreadView,
} from '@wacrm/contracts';
import { waitingSince } from '@wacrm/contracts';
import { bookingMoney } from '@wacrm/firestore';

const iso = (d: Date) => d.toISOString();
const isoOrNull = (d: Date | null) => (d === null ? null : d.toISOString());

export function toAccountView(
  id: string,
  doc: AccountDoc,
  historyMedia: HistoryMediaProgress,
): AccountView {
  return {
    id,
    name: doc.name,
    phone: doc.phone,
    status: doc.status,
    ownerInstanceId: doc.ownerInstanceId,
    lastError: doc.lastError,
    lastConnectedAt: isoOrNull(doc.lastConnectedAt),
    history: {
      ...doc.history,
      startedAt: isoOrNull(doc.history.startedAt),
      completedAt: isoOrNull(doc.history.completedAt),
    },
    historyMedia,
    createdAt: iso(doc.createdAt),
    updatedAt: iso(doc.updatedAt),
  };
}

export function toThreadView(id: string, doc: ThreadDoc): ThreadView {
  return {
    id,
    accountId: doc.accountId,
    clientJid: doc.clientJid,
    phoneE164: doc.phoneE164,
    displayName: doc.displayName,
    isGroup: doc.isGroup,
    lastMessageAt: isoOrNull(doc.lastMessageAt),
    lastMessageText: doc.lastMessageText,
    lastMessageDirection: doc.lastMessageDirection,
    unreadCount: doc.unreadCount,
    messageCount: doc.messageCount,
    assigneeUid: doc.assigneeUid ?? null,
    stage: doc.stage ?? null,
    labels: doc.labels ?? [],
    waitingSince: isoOrNull(waitingSince(doc)),
    updatedAt: iso(doc.updatedAt),
  };
}

export function toNoteView(id: string, doc: NoteDoc): NoteView {
  return {
    id,
    threadId: doc.threadId,
    body: doc.body,
    authorId: doc.authorId,
    createdAt: iso(doc.createdAt),
  };
}

/** Media keys and direct paths stay server-side: they decrypt the media. */
export function toMessageView(id: string, doc: MessageDoc): MessageView {
  const media = doc.media;
  return {
    id,
    threadId: doc.threadId,
    accountId: doc.accountId,
    direction: doc.direction,
    body: doc.body,
    type: doc.type,
    media:
      media === null
        ? null
        : {
            kind: media.kind,
            mimetype: media.mimetype,
            size: media.size,
            fileName: media.fileName,
            caption: media.caption,
            seconds: media.seconds,
            width: media.width,
            height: media.height,
            status: media.status ?? null,
            reason: media.reason ?? null,
            sha256: media.sha256 ?? null,
            mime: media.mime ?? null,
            thumbnail:
              media.thumbnail != null
                ? { width: media.thumbnail.width, height: media.thumbnail.height }
                : null,
          },
    tsClient: iso(doc.tsClient),
    tsServer: isoOrNull(doc.tsServer),
    status: doc.status,
    source: doc.source,
    requestId: doc.requestId,
    participant: doc.participant,
    senderName: doc.senderName,
    quotedMessageId: doc.quotedMessageId,
    deleted: doc.deleted,
    editedBody: doc.editedBody,
    reactions: doc.reactions,
    location: doc.location,
  };
}

export function toEventView(id: string, doc: EventDoc): z.infer<typeof EventView> {
  const {
    bodyHash: _requestFingerprint,
    writeFence: _lockToken,
    start,
    end,
    payments,
    ...fields
  } = doc;
  return {
    ...fields,
    id,
    version: doc.version ?? 1,
    createdAt: iso(doc.createdAt),
    updatedAt: iso(doc.updatedAt),
    archivedAt: isoOrNull(doc.archivedAt),
    ...(start !== undefined ? { start: iso(start) } : {}),
    ...(end !== undefined ? { end: iso(end) } : {}),
    ...(payments !== undefined
      ? { payments: payments.map((p) => ({ ...p, recordedAt: iso(p.recordedAt) })) }
      : {}),
    money: bookingMoney(doc),
  };
}

export function toPerformerView(id: string, doc: PerformerDoc): z.infer<typeof PerformerView> {
  return { ...doc, id, createdAt: iso(doc.createdAt), updatedAt: iso(doc.updatedAt) };
}

export function toCostumeView(id: string, doc: CostumeDoc): z.infer<typeof CostumeView> {
  return { ...doc, id, createdAt: iso(doc.createdAt), updatedAt: iso(doc.updatedAt) };
}

export function toClientView(
  doc: ClientDoc,
  threads?: ReadonlyArray<{ threadId: string; thread: ThreadDoc }>,
): z.infer<typeof ClientView> {
  return {
    ...doc,
    lastContactAt: isoOrNull(doc.lastContactAt),
    updatedAt: iso(doc.updatedAt),
    ...(threads !== undefined
      ? {
          threads: threads.map(({ threadId, thread }) => ({
            threadId,
            accountId: thread.accountId,
            displayName: thread.displayName,
            lastMessageAt: isoOrNull(thread.lastMessageAt),
          })),
        }
      : {}),
  };
}
