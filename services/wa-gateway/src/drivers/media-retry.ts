import type makeWASocket from '@whiskeysockets/baileys';
import {
  decryptMediaRetryData,
  encryptMediaRetryRequest,
  proto,
  type BaileysEventMap,
  type WAMessageKey,
} from '@whiskeysockets/baileys';
import { MediaReuploadRefused } from './driver.port.js';

type MediaUpdate = BaileysEventMap['messages.media-update'][number];

/**
 * Baileys' media retry flow (what `updateMediaMessage` does, without the `messages.update` it
 * emits, which would reach ingest as an edit): the request encrypted under the media key, the
 * phone's `mediaretry` notification (`messages.media-update`), its answer decrypted. Resolves
 * with the file's new direct path; `MediaReuploadRefused` when the phone cannot upload it.
 */
export async function askPhoneToReupload(
  socket: ReturnType<typeof makeWASocket>,
  key: WAMessageKey,
  mediaKey: Buffer,
  timeoutMs: number,
): Promise<{ directPath: string }> {
  const me = socket.authState.creds.me?.id;
  if (!key.id || me === undefined) throw new Error('not logged in, or a message without an id');
  const id = key.id;
  let stop = (): void => undefined;
  const answered = new Promise<MediaUpdate>((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`the phone did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (updates: MediaUpdate[]): void => {
      const update = updates.find((u) => u.key.id === id);
      if (update === undefined) return;
      stop();
      resolve(update);
    };
    stop = () => {
      clearTimeout(timer);
      socket.ev.off('messages.media-update', listener);
    };
    socket.ev.on('messages.media-update', listener);
  });
  try {
    await socket.sendNode(encryptMediaRetryRequest(key, mediaKey, me));
  } catch (error) {
    stop();
    throw error;
  }
  const update = await answered;
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
