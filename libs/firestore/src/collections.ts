import type { Firestore } from 'firebase-admin/firestore';
import {
  AccountDoc,
  ApiKeyDoc,
  ClientDoc,
  Collections,
  CostumeDoc,
  EventDoc,
  ExtractionDoc,
  MessageDoc,
  NoteDoc,
  OutboxDoc,
  PerformerDoc,
  PerformerFeedDoc,
  ThreadDoc,
  UserDoc,
} from '@wacrm/contracts';
import { contractConverter } from './converters.js';

const converters = {
  account: contractConverter('account', AccountDoc),
  thread: contractConverter('thread', ThreadDoc),
  message: contractConverter('message', MessageDoc),
  extraction: contractConverter('extraction', ExtractionDoc),
  outbox: contractConverter('outbox', OutboxDoc),
  event: contractConverter('event', EventDoc),
  client: contractConverter('client', ClientDoc),
  user: contractConverter('user', UserDoc),
  apiKey: contractConverter('apiKey', ApiKeyDoc),
  performer: contractConverter('performer', PerformerDoc),
  costume: contractConverter('costume', CostumeDoc),
  note: contractConverter('note', NoteDoc),
  performerFeed: contractConverter('performerFeed', PerformerFeedDoc),
};

/** Typed accessors for every collection of the data model (DESIGN.md). */
export function collections(db: Firestore) {
  return {
    accounts: () => db.collection(Collections.accounts).withConverter(converters.account),
    threads: () => db.collection(Collections.threads).withConverter(converters.thread),
    messages: (threadId: string) =>
      db
        .collection(Collections.threads)
        .doc(threadId)
        .collection(Collections.messages)
        .withConverter(converters.message),
    extractions: (threadId: string) =>
      db
        .collection(Collections.threads)
        .doc(threadId)
        .collection(Collections.extractions)
        .withConverter(converters.extraction),
    /** Internal notes of a thread: append-only, never sent to WhatsApp. */
    notes: (threadId: string) =>
      db
        .collection(Collections.threads)
        .doc(threadId)
        .collection(Collections.notes)
        .withConverter(converters.note),
    outbox: () => db.collection(Collections.outbox).withConverter(converters.outbox),
    evenimente: () => db.collection(Collections.evenimente).withConverter(converters.event),
    clients: () => db.collection(Collections.clients).withConverter(converters.client),
    users: () => db.collection(Collections.users).withConverter(converters.user),
    apiKeys: () => db.collection(Collections.apiKeys).withConverter(converters.apiKey),
    performers: () => db.collection(Collections.performers).withConverter(converters.performer),
    costumes: () => db.collection(Collections.costumes).withConverter(converters.costume),
    /** A performer's calendar feed secret (hash only), by performer id. */
    performerFeeds: () =>
      db.collection(Collections.performerFeeds).withConverter(converters.performerFeed),
  };
}
export type TypedCollections = ReturnType<typeof collections>;
