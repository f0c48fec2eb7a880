import { describe, expect, it } from 'vitest';
import { formatBytes } from './format.js';
import { translate } from './i18n.js';
import {
  AUTO_LOAD_MAX_BYTES,
  downloadName,
  loadsByItself,
  mediaAlt,
  mediaShow,
  uploadProblemKey,
  type MessageMedia,
} from './media.js';

const media = (over: Partial<MessageMedia> = {}): MessageMedia => ({
  kind: 'image',
  mimetype: 'image/jpeg',
  size: 34_000,
  fileName: null,
  caption: null,
  seconds: null,
  width: 800,
  height: 600,
  status: 'stored',
  reason: null,
  sha256: 'ab'.repeat(32),
  mime: 'image/jpeg',
  thumbnail: { width: 320, height: 240 },
  ...over,
});
const playsAll = () => true;
const playsOpusOnly = (mime: string) => mime === 'audio/ogg';

describe('mediaShow', () => {
  it('when the file is not stored, then its state is shown whatever its kind', () => {
    expect(mediaShow(media({ status: null }), playsAll)).toEqual({ view: 'label' });
    expect(mediaShow(media({ kind: 'audio', status: 'pending' }), playsAll)).toEqual({
      view: 'pending',
    });
    expect(mediaShow(media({ status: 'failed', reason: 'larger than 100 MiB' }), playsAll)).toEqual(
      { view: 'unavailable', status: 'failed', reason: 'larger than 100 MiB' },
    );
    expect(mediaShow(media({ kind: 'document', status: 'expired' }), playsAll)).toEqual({
      view: 'unavailable',
      status: 'expired',
      reason: null,
    });
  });

  it('when the file is stored, then each kind has its view; images and video know of a thumbnail', () => {
    expect(mediaShow(media(), playsAll)).toEqual({ view: 'image', thumbnail: true });
    expect(mediaShow(media({ thumbnail: null }), playsAll)).toEqual({
      view: 'image',
      thumbnail: false,
    });
    expect(mediaShow(media({ kind: 'sticker', mime: 'image/webp' }), playsAll)).toEqual({
      view: 'sticker',
    });
    expect(mediaShow(media({ kind: 'video', mime: 'video/mp4' }), playsAll)).toEqual({
      view: 'video',
      poster: true,
    });
    expect(mediaShow(media({ kind: 'document', mime: 'application/pdf' }), playsAll)).toEqual({
      view: 'document',
    });
  });

  it('when the browser cannot play the sniffed type, then audio or video is a file to download', () => {
    const voice = media({ kind: 'audio', mime: 'audio/ogg', mimetype: 'audio/ogg; codecs=opus' });
    expect(mediaShow(voice, playsOpusOnly)).toEqual({ view: 'audio' });
    expect(mediaShow(media({ kind: 'audio', mime: 'audio/amr' }), playsOpusOnly)).toEqual({
      view: 'document',
    });
    expect(mediaShow(media({ kind: 'video', mime: 'video/3gpp' }), playsOpusOnly)).toEqual({
      view: 'document',
    });
    // The sniffed type named loosely (no codec) while the sender's type plays.
    expect(
      mediaShow(media({ kind: 'audio', mime: 'audio/opus', mimetype: 'audio/ogg' }), playsOpusOnly),
    ).toEqual({ view: 'audio' });
    // No sniffed type yet: the declared one decides.
    expect(
      mediaShow(media({ kind: 'audio', mime: null, mimetype: 'audio/ogg' }), playsOpusOnly),
    ).toEqual({ view: 'audio' });
  });
});

describe('loadsByItself', () => {
  it('when a file is up to the cap, then it loads near the screen; bigger or unknown sizes wait for a click', () => {
    expect(loadsByItself(12_000)).toBe(true);
    expect(loadsByItself(AUTO_LOAD_MAX_BYTES)).toBe(true);
    expect(loadsByItself(AUTO_LOAD_MAX_BYTES + 1)).toBe(false);
    expect(loadsByItself(null)).toBe(false);
  });
});

describe('mediaAlt', () => {
  it('when a picture has a caption, then that is its text; else its file name; else its kind', () => {
    const t = (key: Parameters<typeof translate>[1]) => translate('ro', key);
    expect(mediaAlt(media({ caption: 'Sala', fileName: 'IMG_1.jpg' }), t)).toBe('Sala');
    expect(mediaAlt(media({ fileName: 'IMG_1.jpg' }), t)).toBe('IMG_1.jpg');
    expect(mediaAlt(media({ kind: 'sticker' }), t)).toBe('Autocolant');
  });
});

describe('uploadProblemKey', () => {
  it('when the server refuses a file as too large or of the wrong type, then the composer says so plainly', () => {
    expect(uploadProblemKey(413)).toBe('uploadTooLarge');
    expect(uploadProblemKey(415)).toBe('uploadWrongType');
    expect(uploadProblemKey(400)).toBeNull();
    expect(translate('ro', 'uploadTooLarge', { detail: '' }).trim()).toBe(
      'Fișierul este prea mare pentru a fi trimis.',
    );
  });
});

describe('downloadName', () => {
  it('when the sender named the file, then it is saved under that name; else one made from its kind and type', () => {
    expect(downloadName(media({ kind: 'document', fileName: 'Oferta.pdf' }), 'ABC')).toBe(
      'Oferta.pdf',
    );
    expect(
      downloadName(
        media({ kind: 'audio', mime: null, mimetype: 'audio/ogg; codecs=opus' }),
        '3EB0123456789ABCDEF',
      ),
    ).toBe('audio-3EB012345678.ogg');
    expect(
      downloadName(
        media({
          kind: 'document',
          fileName: '  ',
          mime: 'application/vnd.oasis.opendocument.text',
        }),
        'X',
      ),
    ).toBe('document-X');
    expect(downloadName(media({ kind: 'document', mime: null, mimetype: null }), 'X')).toBe(
      'document-X',
    );
  });
});

describe('formatBytes', () => {
  it('when sizes grow, then the unit follows', () => {
    expect(formatBytes(900)).toBe('900 B');
    expect(formatBytes(34_000)).toBe('33 KB');
    expect(formatBytes(5 * 1024 * 1024 + 300_000)).toBe('5.3 MB');
  });
});
