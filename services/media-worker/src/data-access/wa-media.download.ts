import type { Readable } from 'node:stream';
import { downloadContentFromMessage, type MediaType } from '@whiskeysockets/baileys';
import { WaDirectPath, type MediaRef } from '@wacrm/contracts';

/** Opens the decrypted bytes of a WhatsApp media file; rejects with `MediaGoneError` on 404/410. */
export type DownloadMedia = (media: MediaRef) => Promise<Readable>;

/** The media server no longer has the file: the phone must upload it again. */
export class MediaGoneError extends Error {
  constructor(readonly httpStatus: number) {
    super(`media server answered ${httpStatus}`);
    this.name = 'MediaGoneError';
  }
}

const MEDIA_TYPES: Record<MediaRef['kind'], MediaType> = {
  image: 'image',
  video: 'video',
  audio: 'audio',
  document: 'document',
  sticker: 'sticker',
};

export interface WaMediaDownloadOptions {
  /**
   * The media host every download goes to (`mmg.whatsapp.net`). The `url` in a message is
   * written by its sender, so its host is never trusted: only the direct path is used.
   */
  host: string;
  /** An undici dispatcher (tests: the emulator's CA and address). */
  dispatcher?: unknown;
}

/**
 * Baileys' stateless media helper (`downloadContentFromMessage`: one HTTPS GET, HKDF of the media
 * key, AES-256-CBC). No socket and no session: those stay in wa-gateway.
 */
export function waMediaDownloader(options: WaMediaDownloadOptions): DownloadMedia {
  return async (media) => {
    if (media.mediaKeyBase64 === null || media.directPath === null) {
      throw new Error('the message carries no media key or direct path');
    }
    // Appended to `https://<host>`: a path only, so "@other.host/…" cannot change the host.
    if (!WaDirectPath.safeParse(media.directPath).success)
      throw new Error('the direct path is not a path');
    try {
      return await downloadContentFromMessage(
        { mediaKey: Buffer.from(media.mediaKeyBase64, 'base64'), directPath: media.directPath },
        MEDIA_TYPES[media.kind],
        {
          host: options.host,
          ...(options.dispatcher !== undefined
            ? { options: { dispatcher: options.dispatcher } as RequestInit }
            : {}),
        },
      );
    } catch (error) {
      const status = (error as { output?: { statusCode?: number } }).output?.statusCode;
      if (status === 404 || status === 410 || status === 403) throw new MediaGoneError(status);
      throw error;
    }
  };
}
