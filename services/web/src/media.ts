import type { MessageView } from './api.js';
import type { MessageKey } from './i18n.js';

export type MessageMedia = NonNullable<MessageView['media']>;

/**
 * The largest file the chat loads by itself once it is near the screen. The download route needs
 * the Bearer token, which an <img>/<audio>/<video> src cannot carry, so a file is fetched whole
 * into a Blob (seeking in it is then local and instant). Voice notes and photos are far below
 * this; a bigger video or audio loads when asked, so scrolling a chat never pulls megabytes.
 */
export const AUTO_LOAD_MAX_BYTES = 8 * 1024 * 1024;

/** How a message's media is shown in the chat. */
export type MediaShow =
  /** Stored before media were kept (issue 17): a label only. */
  | { view: 'label' }
  | { view: 'pending' }
  | { view: 'unavailable'; status: 'failed' | 'expired'; reason: string | null }
  | { view: 'image'; thumbnail: boolean }
  | { view: 'sticker' }
  | { view: 'audio' }
  | { view: 'video'; poster: boolean }
  | { view: 'document' };

/**
 * The view for a message's media: by its state, then its kind. Audio or video the browser cannot
 * play (`canPlay` says no to the sniffed and the declared type, e.g. AMR) is a file to download.
 */
export function mediaShow(media: MessageMedia, canPlay: (mime: string) => boolean): MediaShow {
  switch (media.status) {
    case null:
      return { view: 'label' };
    case 'pending':
      return { view: 'pending' };
    case 'failed':
    case 'expired':
      return { view: 'unavailable', status: media.status, reason: media.reason };
    case 'stored':
      break;
  }
  // The sniffed type first; a container it names more loosely than the sender did may still play.
  const playable = [media.mime, media.mimetype].some((m) => m !== null && canPlay(m));
  switch (media.kind) {
    case 'image':
      return { view: 'image', thumbnail: media.thumbnail !== null };
    case 'sticker':
      return { view: 'sticker' };
    case 'audio':
      return playable ? { view: 'audio' } : { view: 'document' };
    case 'video':
      return playable ? { view: 'video', poster: media.thumbnail !== null } : { view: 'document' };
    case 'document':
      return { view: 'document' };
  }
}

/** Whether a file of this size is fetched as soon as it is near the screen. */
export function loadsByItself(size: number | null): boolean {
  return size !== null && size <= AUTO_LOAD_MAX_BYTES;
}

/** What the picture is, for a screen reader: its caption, else its file name, else its kind. */
export function mediaAlt(media: MessageMedia, t: (key: MessageKey) => string): string {
  return media.caption ?? media.fileName ?? t(`media_${media.kind}`);
}

/** The message for a refused upload the composer can say plainly (too large, wrong type). */
export function uploadProblemKey(status: number): MessageKey | null {
  if (status === 413) return 'uploadTooLarge';
  if (status === 415) return 'uploadWrongType';
  return null;
}

/** The name a download is saved under: the sender's file name, else one made from the type. */
export function downloadName(media: MessageMedia, messageId: string): string {
  if (media.fileName !== null && media.fileName.trim() !== '') return media.fileName;
  const mime = media.mime ?? media.mimetype ?? '';
  // A plain subtype is the usual extension (pdf, ogg, mp4, jpeg); a vendor type gets none.
  const sub = /^[a-z]+\/(?:x-)?([a-z0-9]{1,12})(?:;|$)/i.exec(mime)?.[1];
  return `${media.kind}-${messageId.slice(0, 12)}${sub === undefined ? '' : `.${sub}`}`;
}
