import type { WAMessageKey } from '@whiskeysockets/baileys';
import type { Firestore } from 'firebase-admin/firestore';
import type { Redis } from 'ioredis';
import { MediaQueue, ReuploadMediaCommand, type MediaReuploadedJob } from '@wacrm/contracts';
import { collections } from '@wacrm/firestore';
import { enqueue, jobIdFrom, openQueue } from '@wacrm/queue';

/** What asking the phone to re-upload a message's media needs, and where its answer goes. */
export interface MediaReuploadDeps {
  /**
   * The message's key and media key, as stored; null when the message or its key is not.
   * `pending` is false once the media is settled (stored, or `expired` past the media worker's
   * bound on the request): the phone is no longer asked.
   */
  load(
    accountId: string,
    threadId: string,
    messageId: string,
  ): Promise<{ key: WAMessageKey; mediaKey: Buffer; pending: boolean } | null>;
  /** The phone's answer, to the media worker (`media-reuploaded` on `media`). */
  answer(job: MediaReuploadedJob): Promise<void>;
  /**
   * Records a request before it goes to the phone, by the WhatsApp message id its answer names:
   * the answer may come after this gateway restarted, or to the account's next gateway.
   */
  asked(accountId: string, waMessageId: string, command: ReuploadMediaCommand): Promise<void>;
  /** The recorded request an answer belongs to; null when none is (or it was answered). */
  askedFor(accountId: string, waMessageId: string): Promise<ReuploadMediaCommand | null>;
  /** The answer reached the media worker: the record goes. */
  answered(accountId: string, waMessageId: string): Promise<void>;
  close(): Promise<void>;
}

/** As long as the media worker may wait for an answer (`MEDIA_REUPLOAD_TIMEOUT_MS` at most). */
const ASKED_TTL_SECONDS = 30 * 24 * 60 * 60;

export function mediaReupload(deps: {
  db: Firestore;
  connection: Redis;
  prefix: string;
}): MediaReuploadDeps {
  const media = openQueue(MediaQueue, { connection: deps.connection, prefix: deps.prefix });
  const askedKey = (accountId: string, waMessageId: string) =>
    `${deps.prefix}:reupload-asked:${accountId}:${waMessageId}`;
  return {
    async load(accountId, threadId, messageId) {
      const snap = await collections(deps.db).messages(threadId).doc(messageId).get();
      const doc = snap.exists ? snap.data() : undefined;
      // Another account's message is never asked for through this account's phone.
      if (doc === undefined || doc.accountId !== accountId || !doc.media?.mediaKeyBase64) {
        return null;
      }
      return {
        key: {
          id: doc.waKey.id,
          remoteJid: doc.waKey.remoteJid,
          fromMe: doc.waKey.fromMe,
          ...(doc.waKey.participant !== null ? { participant: doc.waKey.participant } : {}),
        },
        mediaKey: Buffer.from(doc.media.mediaKeyBase64, 'base64'),
        pending: (doc.media.status ?? 'pending') === 'pending',
      };
    },
    async answer(job) {
      await enqueue(media, 'media-reuploaded', job, {
        jobId: jobIdFrom('reuploaded', job.threadId, job.messageId),
        priority: 1,
      });
    },
    async asked(accountId, waMessageId, command) {
      await deps.connection.set(
        askedKey(accountId, waMessageId),
        JSON.stringify(command),
        'EX',
        ASKED_TTL_SECONDS,
      );
    },
    async askedFor(accountId, waMessageId) {
      const raw = await deps.connection.get(askedKey(accountId, waMessageId));
      if (raw === null) return null;
      const parsed = ReuploadMediaCommand.safeParse(JSON.parse(raw));
      return parsed.success && parsed.data.accountId === accountId ? parsed.data : null;
    },
    async answered(accountId, waMessageId) {
      await deps.connection.del(askedKey(accountId, waMessageId));
    },
    close: () => media.queue.close(),
  };
}
