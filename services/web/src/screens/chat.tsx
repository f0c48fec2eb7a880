import {
  useCallback,
  useEffect,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  type FormEvent,
} from 'react';
import { advanceStatus, statusReached } from '@wacrm/contracts/message-status';
import type { Api, MessageView, NoteView, ThreadView } from '../api.js';
import { NoteBubble, NoteForm, ThreadTools, useNotes } from './inbox-tools.js';
import { ErrorNote, Link } from '../components.js';
import { useApp, useRealtime } from '../context.js';
import { formatDateTime, formatTime } from '../format.js';
import type { MessageKey } from '../i18n.js';
import { paths } from '../router.js';
import {
  AttachButton,
  AttachmentPreview,
  ChatScrollRoot,
  firstFile,
  MediaInChat,
  useAttachment,
} from './chat-media.js';
import { CrmPanel } from './crm-panel.js';
import {
  QuickReplyPicker,
  ScheduledSends,
  quickReplyQuery,
  useQuickReplies,
} from './scheduling.js';
import { threadTitle } from './inbox.js';

type Status = MessageView['status'];
type QuickMedia = NonNullable<Awaited<ReturnType<Api['renderTemplate']>>['media']>;

// Statuses only move forward (the one order, shared with ingest): a late "sent" never hides a
// "read" already shown.
const advance = advanceStatus;

function byTime(a: MessageView, b: MessageView): number {
  return a.tsClient.localeCompare(b.tsClient) || a.id.localeCompare(b.id);
}

/** What a quote shows of a message. */
function quoteText(m: MessageView | undefined): string | null {
  if (m === undefined) return null;
  return m.editedBody ?? m.body ?? m.media?.caption ?? null;
}

function mergeMessages(old: MessageView[], fresh: MessageView[]): MessageView[] {
  const byId = new Map(old.map((m) => [m.id, m]));
  for (const m of fresh) {
    const prev = byId.get(m.id);
    byId.set(m.id, prev === undefined ? m : { ...m, status: advance(prev.status, m.status) });
  }
  return [...byId.values()].sort(byTime);
}

/** Notes shown among the messages at their time (the newest 200; older messages only). */
function withNotes(messages: MessageView[], notes: NoteView[]): Array<MessageView | NoteView> {
  const oldest = messages[0]?.tsClient ?? '';
  const shown = notes.filter((n) => n.createdAt >= oldest);
  const time = (i: MessageView | NoteView) => ('authorId' in i ? i.createdAt : i.tsClient);
  return [...messages, ...shown].sort((a, b) => time(a).localeCompare(time(b)));
}

export function ChatScreen(props: { threadId: string }) {
  const { api, t } = useApp();
  const { threadId } = props;
  const [thread, setThread] = useState<ThreadView | null>(null);
  const [messages, setMessages] = useState<MessageView[] | null>(null);
  const [olderCursor, setOlderCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [replyTo, setReplyTo] = useState<MessageView | null>(null);
  const { notes, add: addNote } = useNotes(threadId);
  const listRef = useRef<HTMLOListElement>(null);
  // Opened from a search hit: load the messages around it and show it, not the newest.
  const at = useMemo(() => {
    const params = new URLSearchParams(window.location.search);
    const id = params.get('at');
    const ts = params.get('ts');
    return id !== null && ts !== null && !Number.isNaN(Date.parse(ts)) ? { id, ts } : null;
  }, []);
  const stickToBottom = useRef(at === null);

  const loadThread = useCallback(() => {
    api.thread(threadId).then(setThread).catch(setError);
  }, [api, threadId]);

  const loadLatest = useCallback(
    (limit = 50) => {
      api
        .messages(threadId, undefined, limit)
        .then((page) => {
          setMessages((old) => mergeMessages(old ?? [], page.items));
          // Only the first load decides where "older" starts.
          setOlderCursor((c) => (c === null && limit === 50 ? page.nextCursor : c));
          setError(null);
        })
        .catch(setError);
    },
    [api, threadId],
  );

  useEffect(() => {
    loadThread();
    loadLatest();
  }, [loadThread, loadLatest]);

  useEffect(() => {
    if (at === null) return;
    api
      .messagesAround(threadId, at.ts)
      .then((items) => setMessages((old) => mergeMessages(old ?? [], items)))
      .catch(setError);
  }, [api, threadId, at]);
  const shownAt = useRef(false);
  useLayoutEffect(() => {
    if (at === null || shownAt.current) return;
    const el = listRef.current?.querySelector<HTMLElement>(
      `[data-message-id="${CSS.escape(at.id)}"]`,
    );
    if (el == null) return;
    shownAt.current = true;
    el.scrollIntoView({ block: 'center' });
  }, [messages, at]);

  // Bursts of events for this thread become one refetch of the newest messages and the thread.
  const refetchTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(refetchTimer.current), []);
  const refetchSoon = () => {
    refetchTimer.current ??= setTimeout(() => {
      refetchTimer.current = undefined;
      loadLatest(20);
      loadThread();
    }, 100);
  };
  const known = useRef(new Set<string>());
  known.current = new Set(messages?.map((m) => m.id));

  useRealtime({
    event: (e) => {
      if (e.type === 'account.status' || e.type === 'client.updated') return;
      if (e.threadId !== threadId) return;
      if (e.type === 'message.status' && known.current.has(e.messageId)) {
        setMessages((old) =>
          (old ?? []).map((m) =>
            m.id === e.messageId ? { ...m, status: advance(m.status, e.status) } : m,
          ),
        );
        return;
      }
      refetchSoon();
    },
    resync: () => {
      loadThread();
      loadLatest();
    },
  });

  const loadOlder = () => {
    if (olderCursor === null) return;
    stickToBottom.current = false;
    api
      .messages(threadId, olderCursor)
      .then((page) => {
        setMessages((old) => mergeMessages(old ?? [], page.items));
        setOlderCursor(page.nextCursor);
      })
      .catch(setError);
  };

  useLayoutEffect(() => {
    const list = listRef.current;
    if (list !== null && stickToBottom.current) list.scrollTop = list.scrollHeight;
  }, [messages]);

  // Reading the chat marks it read up to the newest inbound message shown, while the page is
  // visible; a message that arrives later stays unread until it is shown too.
  const newestInbound = useMemo(
    () => messages?.findLast((m) => m.direction === 'inbound')?.id,
    [messages],
  );
  const markedUpTo = useRef<string | null>(null);
  const markRead = useCallback(() => {
    if (thread === null || thread.unreadCount === 0 || newestInbound === undefined) return;
    if (document.visibilityState !== 'visible' || markedUpTo.current === newestInbound) return;
    markedUpTo.current = newestInbound;
    api.markRead(threadId, newestInbound).catch((err: unknown) => {
      // Not worth an error on screen: the next message or visit marks it again.
      markedUpTo.current = null;
      console.warn('mark read failed', err);
    });
  }, [api, thread, threadId, newestInbound]);
  useEffect(markRead, [markRead]);
  useEffect(() => {
    document.addEventListener('visibilitychange', markRead);
    return () => document.removeEventListener('visibilitychange', markRead);
  }, [markRead]);

  const onSent = (message: MessageView) => {
    stickToBottom.current = true;
    setMessages((old) => mergeMessages(old ?? [], [message]));
  };

  const title = thread !== null ? threadTitle(thread) : threadId;
  return (
    <div className="chat-layout">
      <section className="chat" aria-labelledby="chat-title">
        <div className="chat-head">
          <Link to={paths.inbox(thread?.accountId)} className="back">
            <span aria-hidden="true">← </span>
            {t('backToInbox')}
          </Link>
          <h1 id="chat-title">{t('chatTitle', { name: title })}</h1>
          {thread?.phoneE164 != null && (
            <Link to={paths.client(thread.phoneE164)} className="button secondary">
              {t('clientProfile')}
            </Link>
          )}
        </div>
        {thread !== null && <ThreadTools thread={thread} onChange={setThread} />}
        <ErrorNote error={error} />
        {olderCursor !== null && (
          <button type="button" className="secondary" onClick={loadOlder}>
            {t('loadOlder')}
          </button>
        )}
        <ChatScrollRoot.Provider value={listRef}>
          <ol
            className="messages"
            ref={listRef}
            aria-label={t('messages')}
            aria-live="polite"
            aria-relevant="additions"
            tabIndex={0}
            onScroll={(e) => {
              const el = e.currentTarget;
              stickToBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
            }}
          >
            {messages === null && <li role="status">{t('loading')}</li>}
            {messages?.length === 0 && <li>{t('noMessages')}</li>}
            {messages !== null &&
              withNotes(messages, notes).map((item) =>
                'authorId' in item ? (
                  <NoteBubble key={`note-${item.id}`} note={item} />
                ) : (
                  <Bubble
                    key={item.id}
                    message={item}
                    all={messages}
                    onReply={setReplyTo}
                    highlighted={item.id === at?.id}
                  />
                ),
              )}
          </ol>
        </ChatScrollRoot.Provider>
        <ScheduledSends threadId={threadId} refreshKey={messages?.length ?? 0} />
        <NoteForm threadId={threadId} onAdded={addNote} />
        {thread !== null && (
          <Composer
            thread={thread}
            onSent={onSent}
            replyTo={replyTo}
            onCancelReply={() => setReplyTo(null)}
          />
        )}
      </section>
      {thread !== null && <CrmPanel thread={thread} />}
    </div>
  );
}

function Bubble(props: {
  message: MessageView;
  all: MessageView[];
  onReply: (m: MessageView) => void;
  /** The search hit the chat was opened at. */
  highlighted?: boolean;
}) {
  const { t, lang } = useApp();
  const m = props.message;
  const quoted =
    m.quotedMessageId !== null ? props.all.find((o) => o.id === m.quotedMessageId) : undefined;
  const text = m.editedBody ?? m.body;
  // Only a message WhatsApp knows can be quoted: not one still waiting in the outbox.
  const canReply = !m.deleted && !(m.direction === 'outbound' && !statusReached(m.status, 'sent'));
  const excerpt = quoteText(m) ?? t(`media_${m.media?.kind ?? 'document'}` as MessageKey);
  return (
    <li
      className={`bubble ${m.direction}${props.highlighted === true ? ' search-hit' : ''}`}
      data-message-id={m.id}
      data-status={m.status}
    >
      {m.senderName !== null && m.direction === 'inbound' && (
        <span className="sender">{m.senderName}</span>
      )}
      {m.quotedMessageId !== null && (
        <blockquote className="quote">
          {t('replyTo', { text: quoteText(quoted) ?? t('quotedUnknown') })}
        </blockquote>
      )}
      {m.media !== null && <MediaInChat message={m} media={m.media} />}
      {m.location !== null && (
        <p>
          {t('location', {
            name: m.location.name ?? `${m.location.latitude}, ${m.location.longitude}`,
          })}
        </p>
      )}
      {m.deleted ? (
        <p className="muted">{t('deletedMessage')}</p>
      ) : (
        text !== null && <p className="text">{text}</p>
      )}
      <span className="meta">
        {m.editedBody !== null && <span className="muted">{t('edited')} · </span>}
        <time dateTime={m.tsClient} title={formatDateTime(lang, m.tsClient)}>
          {formatTime(lang, m.tsClient)}
        </time>
        {m.direction === 'outbound' && <Ticks status={m.status} />}
        {canReply && (
          <button
            type="button"
            className="link reply"
            aria-label={t('replyToMessage', { text: clipText(excerpt, 80) })}
            onClick={() => props.onReply(m)}
          >
            {t('reply')}
          </button>
        )}
      </span>
      {Object.keys(m.reactions).length > 0 && (
        <span className="reactions">{Object.values(m.reactions).join(' ')}</span>
      )}
    </li>
  );
}

const TICK: Record<Status, string> = {
  received: '',
  queued: '🕓',
  sending: '🕓',
  sent: '✓',
  delivered: '✓✓',
  read: '✓✓',
  failed: '!',
};

export function Ticks(props: { status: Status }) {
  const { t } = useApp();
  return (
    <span
      className={`ticks tick-${props.status}`}
      role="img"
      aria-label={t(`tick_${props.status}`)}
      title={t(`tick_${props.status}`)}
      data-testid="ticks"
    >
      {TICK[props.status]}
    </span>
  );
}

function clipText(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function Composer(props: {
  thread: ThreadView;
  onSent: (m: MessageView) => void;
  replyTo: MessageView | null;
  onCancelReply: () => void;
}) {
  const { api, t } = useApp();
  const { replyTo, onCancelReply } = props;
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const textareaRef = useRef<HTMLTextAreaElement>(null);
  const { attachment, attach, clear: clearAttachment } = useAttachment(props.thread.accountId);
  const [dragging, setDragging] = useState(false);
  // Issue 19 item 6: `/` opens the account's quick replies; one brings its text and maybe a file.
  const slashQuery = quickReplyQuery(text);
  const quickReplies = useQuickReplies(props.thread.accountId, slashQuery);
  const [quickMedia, setQuickMedia] = useState<QuickMedia | null>(null);
  const pickQuickReply = (templateId: string) => {
    api
      .renderTemplate(templateId, props.thread.id)
      .then((rendered) => {
        setText(rendered.text);
        setQuickMedia(rendered.media);
        textareaRef.current?.focus();
      })
      .catch(setError);
  };
  // One key per message typed: a retry after a network error cannot send it twice.
  const idempotencyKey = useRef(crypto.randomUUID());

  // Choosing what to answer is the start of a new message: type it right away.
  const replyId = replyTo?.id ?? null;
  useEffect(() => {
    idempotencyKey.current = crypto.randomUUID();
    if (replyId !== null) textareaRef.current?.focus();
  }, [replyId]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const body = text.trim();
    // With a file, the text is its caption (optional); the file must be uploaded first.
    const uploaded = attachment?.uploaded ?? null;
    if (attachment !== null ? uploaded === null : body === '' && quickMedia === null) return;
    const media =
      uploaded !== null
        ? {
            kind: uploaded.kind,
            mediaId: uploaded.mediaId,
            mimetype: uploaded.mime,
            ...(uploaded.fileName !== null ? { fileName: uploaded.fileName } : {}),
            ...(body !== '' ? { caption: body } : {}),
          }
        : quickMedia !== null
          ? { ...quickMedia, ...(body !== '' ? { caption: body } : {}) }
          : undefined;
    setBusy(true);
    setError(null);
    try {
      const accepted = await api.send(
        props.thread.accountId,
        props.thread.id,
        media !== undefined ? { media } : { text: body },
        idempotencyKey.current,
        replyTo !== null
          ? {
              id: replyTo.id,
              remoteJid: props.thread.clientJid,
              fromMe: replyTo.direction === 'outbound',
              participant: replyTo.participant,
            }
          : undefined,
      );
      const now = new Date().toISOString();
      props.onSent({
        id: accepted.messageId,
        threadId: accepted.threadId,
        accountId: props.thread.accountId,
        direction: 'outbound',
        body: uploaded !== null ? null : body,
        type: uploaded?.kind ?? 'text',
        media:
          uploaded !== null
            ? {
                kind: uploaded.kind,
                mimetype: uploaded.mime,
                size: uploaded.size,
                fileName: uploaded.fileName,
                caption: body !== '' ? body : null,
                seconds: null,
                width: null,
                height: null,
                // Shown as a label until the stored message comes back with its state.
                status: null,
                reason: null,
                sha256: uploaded.sha256,
                mime: uploaded.mime,
                thumbnail: null,
              }
            : null,
        tsClient: now,
        tsServer: null,
        status: 'queued',
        source: 'live',
        requestId: accepted.requestId,
        participant: null,
        senderName: null,
        quotedMessageId: replyTo?.id ?? null,
        deleted: false,
        editedBody: null,
        reactions: {},
        location: null,
      });
      setText('');
      clearAttachment();
      setQuickMedia(null);
      onCancelReply();
      idempotencyKey.current = crypto.randomUUID();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form
      className={`composer${dragging ? ' dragging' : ''}`}
      onSubmit={(e) => void submit(e)}
      onDragOver={(e) => {
        if (!e.dataTransfer.types.includes('Files')) return;
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={(e) => {
        setDragging(false);
        const file = firstFile(e.dataTransfer);
        if (file === null) return;
        e.preventDefault();
        attach(file);
      }}
    >
      {dragging && (
        <p className="drop-hint" role="status">
          {t('dropToAttach')}
        </p>
      )}
      {attachment !== null && (
        <AttachmentPreview attachment={attachment} onRemove={clearAttachment} />
      )}
      {slashQuery !== null && (
        <QuickReplyPicker
          query={slashQuery}
          replies={quickReplies}
          onPick={(q) => pickQuickReply(q.id)}
        />
      )}
      {quickMedia !== null && attachment === null && (
        <p className="quick-media" data-testid="quick-media">
          {t('quickReplyMedia', { name: quickMedia.fileName ?? quickMedia.kind })}{' '}
          <button type="button" className="secondary" onClick={() => setQuickMedia(null)}>
            {t('removeQuickReplyMedia')}
          </button>
        </p>
      )}
      {replyTo !== null && (
        <div className="reply-preview" data-testid="reply-preview">
          <blockquote className="quote" id="compose-reply">
            {t('replyTo', {
              text: clipText(quoteText(replyTo) ?? t('quotedUnknown'), 200),
            })}
          </blockquote>
          <button
            type="button"
            className="secondary"
            onClick={() => {
              onCancelReply();
              textareaRef.current?.focus();
            }}
          >
            {t('cancelReply')}
          </button>
        </div>
      )}
      <label className="visually-hidden" htmlFor="compose">
        {t('composeLabel')}
      </label>
      <textarea
        id="compose"
        ref={textareaRef}
        rows={2}
        {...(replyTo !== null ? { 'aria-describedby': 'compose-reply' } : {})}
        value={text}
        placeholder={attachment !== null ? t('captionPlaceholder') : t('composePlaceholder')}
        onPaste={(e) => {
          const file = firstFile(e.clipboardData);
          if (file === null) return;
          e.preventDefault();
          attach(file);
        }}
        onChange={(e) => {
          setText(e.target.value);
          // Edited after a failure: a different message, so a new key.
          if (error !== null) idempotencyKey.current = crypto.randomUUID();
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && slashQuery !== null) {
            e.preventDefault();
            const first = quickReplies[0];
            if (first !== undefined) pickQuickReply(first.id);
          } else if (e.key === 'Enter' && !e.shiftKey) {
            e.preventDefault();
            e.currentTarget.form?.requestSubmit();
          } else if (e.key === 'Escape' && replyTo !== null) {
            e.preventDefault();
            onCancelReply();
          }
        }}
      />
      <AttachButton onFile={attach} disabled={busy} />
      <button
        type="submit"
        disabled={
          busy ||
          (attachment !== null
            ? attachment.uploaded === null
            : text.trim() === '' && quickMedia === null)
        }
      >
        {busy ? t('sending') : t('send')}
      </button>
      <p id="attach-hint" className="hint">
        {t('attachHint')}
      </p>
      <ErrorNote error={error} />
    </form>
  );
}
