import type makeWASocket from '@whiskeysockets/baileys';
import {
  decryptMediaRetryData,
  encryptMediaRetryRequest,
  proto,
  type BaileysEventMap,
  type WAMessageKey,
} from '@whiskeysockets/baileys';
import { MediaReuploadRefused, type MediaRetryAnswer } from './driver.port.js';

type Socket = ReturnType<typeof makeWASocket>;
type MediaUpdate = BaileysEventMap['messages.media-update'][number];

/**
 * Baileys' media retry flow, split (what `updateMediaMessage` does, without waiting for the answer
 * and without the `messages.update` it emits, which would reach ingest as an edit): the request,
 * encrypted under the media key, goes to the phone; resolves once it is sent.
 */
export async function sendMediaRetryRequest(
  socket: Socket,
  key: WAMessageKey,
  mediaKey: Buffer,
): Promise<void> {
  const me = socket.authState.creds.me?.id;
  if (!key.id || me === undefined) throw new Error('not logged in, or a message without an id');
  await socket.sendNode(encryptMediaRetryRequest(key, mediaKey, me));
}

/**
 * The phone's answers (`mediaretry` notifications, Baileys' `messages.media-update`), for as long
 * as the socket lives: each handed over with how to read it under the message's media key.
 */
export function onMediaRetryAnswers(
  socket: Socket,
  handle: (answer: MediaRetryAnswer) => void,
): void {
  socket.ev.on('messages.media-update', (updates) => {
    for (const update of updates) {
      const id = update.key.id;
      if (id) handle({ messageId: id, read: (mediaKey) => readAnswer(update, id, mediaKey) });
    }
  });
}

/** The new direct path; `MediaReuploadRefused` when the phone cannot upload the file again. */
function readAnswer(update: MediaUpdate, id: string, mediaKey: Buffer): { directPath: string } {
  if (update.error) throw new MediaReuploadRefused(update.error.message);
  if (!update.media) throw new MediaReuploadRefused('the phone answered without the media');
  const answer = decryptMediaRetryData(update.media, mediaKey, id);
  const Result = proto.MediaRetryNotification.ResultType;
  if (answer.result !== Result.SUCCESS || !answer.directPath) {
    const result = Result[answer.result ?? Result.GENERAL_ERROR];
    throw new MediaReuploadRefused(`the phone could not upload it again (${result})`);
  }
  return { directPath: answer.directPath };
}
