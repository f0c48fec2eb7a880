import type { Firestore } from 'firebase-admin/firestore';
import type { ExtractionDoc, MessageDoc, ThreadDoc } from '@wacrm/contracts';
import { collections } from '@wacrm/firestore';

export interface ThreadMessage {
  id: string;
  direction: MessageDoc['direction'];
  tsClient: Date;
  /** The text a reader sees: the (edited) body, a media caption, a document's name; or null. */
  text: string | null;
}

export interface ExistingEvent {
  eventId: string;
  eventShortId: string;
}

/**
 * What an extraction reads and the one thing it writes: its audit. There is deliberately no way
 * to write `evenimente` from here; drafts only become events when a person saves them.
 */
export interface ExtractionRepository {
  thread(threadId: string): Promise<ThreadDoc | undefined>;
  /** The last `limit` messages, oldest first. */
  recentMessages(threadId: string, limit: number): Promise<ThreadMessage[]>;
  /** Events of this phone on this date that are not archived. */
  activeEventsOn(phoneE164: string, date: string): Promise<ExistingEvent[]>;
  extraction(threadId: string, extractionId: string): Promise<ExtractionDoc | undefined>;
  saveExtraction(threadId: string, extractionId: string, doc: ExtractionDoc): Promise<void>;
}

/** The most of a caption or file name read: a stranger's megabyte is not a booking. */
const MAX_MEDIA_TEXT = 256;

function bounded(text: string | null | undefined): string | null {
  if (text === null || text === undefined) return null;
  const cut = text.slice(0, MAX_MEDIA_TEXT);
  return cut.trim() === '' ? null : cut;
}

/**
 * What the extractor reads of a message: its (edited) body, the media caption when it says
 * something else, and a document's file name (underscores as spaces: `Oferta_Elsa_15_august.pdf`
 * names a date). Captions and names are bounded here; the handler normalises the whole text
 * (`normalizeForRules`). Null when nothing is written.
 */
export function messageText(message: MessageDoc): string | null {
  if (message.deleted) return null;
  const media = message.media;
  const parts: string[] = [];
  const body = message.editedBody ?? message.body;
  if (body !== null && body.trim() !== '') parts.push(body);
  const caption = bounded(media?.caption);
  if (caption !== null && !parts.includes(caption)) parts.push(caption);
  const name = media?.kind === 'document' ? bounded(media.fileName) : null;
  if (name !== null) parts.push(name.replace(/_+/g, ' '));
  return parts.length > 0 ? parts.join('\n') : null;
}

export function firestoreExtractionRepository(db: Firestore): ExtractionRepository {
  const c = collections(db);
  return {
    async thread(threadId) {
      return (await c.threads().doc(threadId).get()).data();
    },
    async recentMessages(threadId, limit) {
      const snapshot = await c.messages(threadId).orderBy('tsClient', 'desc').limit(limit).get();
      return snapshot.docs
        .map((doc) => {
          const m = doc.data();
          return { id: doc.id, direction: m.direction, tsClient: m.tsClient, text: messageText(m) };
        })
        .reverse();
    },
    async activeEventsOn(phoneE164, date) {
      const snapshot = await c
        .evenimente()
        .where('phoneE164', '==', phoneE164)
        .where('date', '==', date)
        .get();
      return snapshot.docs
        .map((doc) => ({ eventId: doc.id, event: doc.data() }))
        .filter(({ event }) => !event.isArchived)
        .map(({ eventId, event }) => ({ eventId, eventShortId: event.eventShortId }));
    },
    async extraction(threadId, extractionId) {
      return (await c.extractions(threadId).doc(extractionId).get()).data();
    },
    async saveExtraction(threadId, extractionId, doc) {
      await c.extractions(threadId).doc(extractionId).set(doc);
    },
  };
}
