import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useRef,
  useState,
  type ReactNode,
  type RefObject,
} from 'react';
import { ApiError, type MediaUploaded, type MessageView } from '../api.js';
import { describeError } from '../components.js';
import { useApp } from '../context.js';
import { formatBytes } from '../format.js';
import type { MessageKey } from '../i18n.js';
import {
  downloadName,
  loadsByItself,
  mediaAlt,
  mediaShow,
  uploadProblemKey,
  type MessageMedia,
} from '../media.js';

/** The chat's scrolling list: media load when they come near its visible part. */
export const ChatScrollRoot = createContext<RefObject<HTMLElement | null> | null>(null);

/** True once the element has come within one screen of the chat's visible part; stays true. */
function useNearScreen(ref: RefObject<Element | null>): boolean {
  const root = useContext(ChatScrollRoot);
  const [near, setNear] = useState(false);
  useEffect(() => {
    const el = ref.current;
    if (el === null || near) return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) setNear(true);
      },
      { root: root?.current ?? null, rootMargin: '100% 0px' },
    );
    observer.observe(el);
    return () => observer.disconnect();
  }, [ref, root, near]);
  return near;
}

type Loaded =
  | { state: 'idle' }
  | { state: 'loading' }
  | { state: 'ready'; url: string }
  | { state: 'error'; error: unknown };

/**
 * A message's file (or thumbnail) as an object URL while `enabled`: fetched with the session's
 * Bearer token, revoked when the component goes or the file changes.
 */
function useMediaUrl(
  message: MessageView,
  thumbnail: boolean,
  enabled: boolean,
): [Loaded, () => void] {
  const { api } = useApp();
  const [loaded, setLoaded] = useState<Loaded>({ state: 'idle' });
  const [attempt, setAttempt] = useState(0);
  const { threadId, id } = message;
  useEffect(() => {
    if (!enabled) return;
    const abort = new AbortController();
    let url: string | null = null;
    setLoaded({ state: 'loading' });
    api.mediaBlob(threadId, id, thumbnail, abort.signal).then(
      (blob) => {
        if (abort.signal.aborted) return;
        url = URL.createObjectURL(blob);
        setLoaded({ state: 'ready', url });
      },
      (error: unknown) => {
        if (!abort.signal.aborted) setLoaded({ state: 'error', error });
      },
    );
    return () => {
      abort.abort();
      if (url !== null) URL.revokeObjectURL(url);
    };
  }, [api, threadId, id, thumbnail, enabled, attempt]);
  return [loaded, useCallback(() => setAttempt((n) => n + 1), [])];
}

function canPlay(mime: string): boolean {
  return mime !== '' && document.createElement('video').canPlayType(mime) !== '';
}

/** A message's media in the chat: the file itself once stored, else its state. */
export function MediaInChat(props: { message: MessageView; media: MessageMedia }) {
  const { t } = useApp();
  const { message, media } = props;
  const ref = useRef<HTMLElement>(null);
  const near = useNearScreen(ref);
  const show = mediaShow(media, canPlay);
  const alt = mediaAlt(media, t);
  // A caption the bubble already shows as the message's text is not repeated.
  const shownText = message.editedBody ?? message.body;
  let body: ReactNode;
  switch (show.view) {
    case 'label':
      body = <MediaFacts media={media} icon />;
      break;
    case 'pending':
      body = (
        <>
          <span className="spinner" aria-hidden="true" />
          <span role="status">{t('mediaPending')}</span>
          <MediaFacts media={media} />
        </>
      );
      break;
    case 'unavailable':
      body = (
        <>
          <p className="media-problem">
            {t(show.status === 'expired' ? 'mediaExpired' : 'mediaFailed', {
              reason: show.reason ?? t('mediaNoReason'),
            })}
          </p>
          <MediaFacts media={media} />
        </>
      );
      break;
    case 'image':
      body = <InlineImage message={message} media={media} near={near} alt={alt} />;
      break;
    case 'sticker':
      body = <Sticker message={message} media={media} near={near} alt={alt} />;
      break;
    case 'audio':
    case 'video':
      body = <Player message={message} media={media} near={near} kind={show.view} />;
      break;
    case 'document':
      body = <DocumentFile message={message} media={media} />;
      break;
  }
  return (
    <figure
      ref={ref}
      className={`media media-${media.kind} media-${show.view}`}
      data-media-status={media.status ?? 'unknown'}
    >
      {body}
      {media.caption !== null && show.view !== 'label' && media.caption !== shownText && (
        <figcaption className="caption">{media.caption}</figcaption>
      )}
    </figure>
  );
}

const MEDIA_ICON: Record<MessageMedia['kind'], string> = {
  image: '🖼',
  video: '🎬',
  audio: '🎵',
  document: '📄',
  sticker: '🏷',
};

/** Kind, file name, length, size (and, for a label only, the caption). */
function MediaFacts(props: { media: MessageMedia; icon?: boolean }) {
  const { t } = useApp();
  const { media } = props;
  return (
    <>
      {props.icon === true && (
        <span className="media-icon" aria-hidden="true">
          {MEDIA_ICON[media.kind]}
        </span>
      )}
      <span className="media-facts">
        <strong>{t(`media_${media.kind}`)}</strong>
        {media.fileName !== null && ` · ${media.fileName}`}
        {media.seconds !== null && ` · ${Math.round(media.seconds)} s`}
        {media.width !== null && media.height !== null && ` · ${media.width}×${media.height}`}
        {media.size !== null && ` · ${formatBytes(media.size)}`}
        {props.icon === true && media.caption !== null && (
          <span className="caption">{media.caption}</span>
        )}
      </span>
    </>
  );
}

/** A file that could not be fetched: why, and a way to try again. */
function LoadProblem(props: { error: unknown; retry: () => void }) {
  const { t } = useApp();
  return (
    <p className="media-problem">
      {t('mediaLoadError', { detail: describeError(props.error) })}{' '}
      <button type="button" className="link" onClick={props.retry}>
        {t('retry')}
      </button>
    </p>
  );
}

/** A file too big to fetch by itself: the reader asks for it. */
function LoadButton(props: { media: MessageMedia; onLoad: () => void }) {
  const { t } = useApp();
  return (
    <button type="button" className="secondary" onClick={props.onLoad}>
      {t('mediaLoad', {
        kind: t(`media_${props.media.kind}`),
        size: props.media.size === null ? '?' : formatBytes(props.media.size),
      })}
    </button>
  );
}

/** The box an image takes before it has loaded, so the chat does not jump when it arrives. */
function boxOf(media: MessageMedia): { width: number; height: number } | undefined {
  const w = media.thumbnail?.width ?? media.width;
  const h = media.thumbnail?.height ?? media.height;
  return w != null && h != null && w > 0 && h > 0 ? { width: w, height: h } : undefined;
}

function InlineImage(props: {
  message: MessageView;
  media: MessageMedia;
  near: boolean;
  alt: string;
}) {
  const { t } = useApp();
  const { media } = props;
  const thumb = media.thumbnail !== null;
  const [asked, setAsked] = useState(false);
  const [loaded, retry] = useMediaUrl(
    props.message,
    thumb,
    props.near && (thumb || loadsByItself(media.size) || asked),
  );
  const [open, setOpen] = useState(false);
  const box = boxOf(media);
  if (!thumb && !loadsByItself(media.size) && !asked) {
    return <LoadButton media={media} onLoad={() => setAsked(true)} />;
  }
  return (
    <>
      {loaded.state === 'error' ? (
        <LoadProblem error={loaded.error} retry={retry} />
      ) : (
        <button
          type="button"
          className="media-open"
          aria-label={t('mediaOpen', { name: props.alt })}
          disabled={loaded.state !== 'ready'}
          onClick={() => setOpen(true)}
        >
          {loaded.state === 'ready' ? (
            <img src={loaded.url} alt={props.alt} {...box} />
          ) : (
            <span
              className="media-placeholder"
              style={box !== undefined ? { aspectRatio: `${box.width} / ${box.height}` } : {}}
            >
              {t('loading')}
            </span>
          )}
        </button>
      )}
      {open && (
        <ImageViewer message={props.message} alt={props.alt} onClose={() => setOpen(false)} />
      )}
    </>
  );
}

/** The full-size image over the page: a modal <dialog> (Esc and the close button shut it). */
function ImageViewer(props: { message: MessageView; alt: string; onClose: () => void }) {
  const { t } = useApp();
  const ref = useRef<HTMLDialogElement>(null);
  const [loaded, retry] = useMediaUrl(props.message, false, true);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog === null) return;
    dialog.showModal();
    return () => dialog.close();
  }, []);
  return (
    <dialog
      ref={ref}
      className="media-viewer"
      aria-label={t('mediaViewer', { name: props.alt })}
      onClose={props.onClose}
      onClick={(e) => {
        // A click on the backdrop (the dialog itself, not its content) closes it.
        if (e.target === e.currentTarget) props.onClose();
      }}
    >
      <button type="button" className="secondary media-close" autoFocus onClick={props.onClose}>
        {t('mediaClose')}
      </button>
      {loaded.state === 'ready' && <img src={loaded.url} alt={props.alt} />}
      {loaded.state === 'loading' && <p role="status">{t('loading')}</p>}
      {loaded.state === 'error' && <LoadProblem error={loaded.error} retry={retry} />}
    </dialog>
  );
}

function Sticker(props: { message: MessageView; media: MessageMedia; near: boolean; alt: string }) {
  const { t } = useApp();
  const [loaded, retry] = useMediaUrl(
    props.message,
    false,
    props.near && loadsByItself(props.media.size),
  );
  if (loaded.state === 'error') return <LoadProblem error={loaded.error} retry={retry} />;
  if (loaded.state !== 'ready') return <span className="media-placeholder">{t('loading')}</span>;
  return <img className="sticker" src={loaded.url} alt={props.alt} />;
}

/** Audio (voice notes) and video: the whole file as a Blob, so seeking is local and instant. */
function Player(props: {
  message: MessageView;
  media: MessageMedia;
  near: boolean;
  kind: 'audio' | 'video';
}) {
  const { t } = useApp();
  const { media } = props;
  const [asked, setAsked] = useState(false);
  const wanted = props.near && (loadsByItself(media.size) || asked);
  const [loaded, retry] = useMediaUrl(props.message, false, wanted);
  const [poster] = useMediaUrl(
    props.message,
    true,
    props.kind === 'video' && media.thumbnail !== null && props.near,
  );
  const named = media.caption ?? media.fileName;
  const kind = t(`media_${media.kind}`);
  const label = named === null ? kind : t('mediaPlayer', { kind, name: named });
  if (!loadsByItself(media.size) && !asked) {
    return <LoadButton media={media} onLoad={() => setAsked(true)} />;
  }
  if (loaded.state === 'error') return <LoadProblem error={loaded.error} retry={retry} />;
  if (loaded.state !== 'ready') return <span className="media-placeholder">{t('loading')}</span>;
  return props.kind === 'audio' ? (
    <audio controls preload="metadata" src={loaded.url} aria-label={label} />
  ) : (
    <video
      controls
      preload="metadata"
      src={loaded.url}
      aria-label={label}
      {...(poster.state === 'ready' ? { poster: poster.url } : {})}
      {...boxOf(media)}
    />
  );
}

/** A document: its name and size, and a button that saves the exact stored bytes. */
function DocumentFile(props: { message: MessageView; media: MessageMedia }) {
  const { api, t } = useApp();
  const { message, media } = props;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const name = downloadName(media, message.id);
  const download = async () => {
    setBusy(true);
    setError(null);
    try {
      const blob = await api.mediaBlob(message.threadId, message.id, false);
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = name;
      a.click();
      // The browser has taken the file once the click is handled; the URL is not needed after.
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <MediaFacts media={media} icon />
      <button
        type="button"
        className="secondary media-download"
        disabled={busy}
        onClick={() => void download()}
      >
        {busy
          ? t('loading')
          : t('mediaDownload', {
              name,
              size: media.size === null ? '?' : formatBytes(media.size),
            })}
      </button>
      {error !== null && <LoadProblem error={error} retry={() => void download()} />}
    </>
  );
}

/** The file being attached in the composer: its upload to POST /api/media and its result. */
export interface Attachment {
  file: File;
  progress: number;
  uploaded: MediaUploaded | null;
  error: unknown;
}

/** One attachment at a time, uploaded as soon as it is chosen, cancelled when replaced. */
export function useAttachment(accountId: string) {
  const { api } = useApp();
  const [attachment, setAttachment] = useState<Attachment | null>(null);
  const abort = useRef<AbortController | null>(null);
  const attach = useCallback(
    (file: File) => {
      abort.current?.abort();
      const controller = new AbortController();
      abort.current = controller;
      setAttachment({ file, progress: 0, uploaded: null, error: null });
      const update = (patch: Partial<Attachment>) =>
        setAttachment((a) => (a?.file === file ? { ...a, ...patch } : a));
      api
        .uploadMedia(accountId, file, (progress) => update({ progress }), controller.signal)
        .then(
          (uploaded) => update({ progress: 1, uploaded }),
          (error: unknown) => {
            if (!controller.signal.aborted) update({ error });
          },
        );
    },
    [api, accountId],
  );
  const clear = useCallback(() => {
    abort.current?.abort();
    abort.current = null;
    setAttachment(null);
  }, []);
  useEffect(() => () => abort.current?.abort(), []);
  return { attachment, attach, clear };
}

/** The first file of a drop or a paste, if it carries any. */
export function firstFile(data: DataTransfer | null): File | null {
  return data?.files[0] ?? null;
}

export function AttachButton(props: { onFile: (file: File) => void; disabled: boolean }) {
  const { t } = useApp();
  return (
    <label className={`button secondary attach${props.disabled ? ' disabled' : ''}`}>
      <span aria-hidden="true">📎 </span>
      {t('attachFile')}
      <input
        type="file"
        className="visually-hidden"
        disabled={props.disabled}
        aria-describedby="attach-hint"
        onChange={(e) => {
          const file = e.currentTarget.files?.[0];
          if (file !== undefined) props.onFile(file);
          // The same file chosen again after removing it is a new choice.
          e.currentTarget.value = '';
        }}
      />
    </label>
  );
}

function uploadError(error: unknown, t: (key: MessageKey, p?: Record<string, string>) => string) {
  const key = error instanceof ApiError ? uploadProblemKey(error.status) : null;
  return key !== null
    ? t(key, { detail: describeError(error) })
    : t('errorGeneric', { detail: describeError(error) });
}

export function AttachmentPreview(props: { attachment: Attachment; onRemove: () => void }) {
  const { t } = useApp();
  const { file, progress, uploaded, error } = props.attachment;
  const percent = String(Math.round(progress * 100));
  return (
    <div className="attachment" data-testid="attachment">
      <span>{t('attachment', { name: file.name, size: formatBytes(file.size) })}</span>
      {error === null && uploaded === null && (
        <>
          <progress value={progress} max={1} aria-label={t('uploading', { percent })} />
          <span role="status">{t('uploading', { percent })}</span>
        </>
      )}
      {uploaded !== null && <span role="status">{t('uploadReady')}</span>}
      {error !== null && (
        <p className="error" role="alert">
          {uploadError(error, t)}
        </p>
      )}
      <button type="button" className="secondary" onClick={props.onRemove}>
        {t('removeAttachment')}
      </button>
    </div>
  );
}
