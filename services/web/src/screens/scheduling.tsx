import { useCallback, useEffect, useState } from 'react';
import type { QuickReply, Reminder, ScheduledSend } from '../api.js';
import { ErrorNote } from '../components.js';
import { useApp } from '../context.js';
import { formatDateTime } from '../format.js';

/** Reminders and schedules are the business's times: shown in Bucharest, like the calendar. */
const ZONE = 'Europe/Bucharest';
/** How often a chat's scheduled messages are read again (they leave the list when they go out). */
const SCHEDULED_REFRESH_MS = 15_000;

/**
 * Issue 19: a chat's scheduled messages, each with its time and a cancel while it waits; a
 * cancelled one stays listed as cancelled. Once one goes out it is a message of the chat.
 */
export function ScheduledSends(props: { threadId: string; refreshKey: number }) {
  const { api, t, lang } = useApp();
  const [items, setItems] = useState<ScheduledSend[]>([]);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(() => {
    api
      .scheduled(props.threadId)
      .then((list) => {
        setItems(list);
        setError(null);
      })
      // A chat without a thread yet (a new number) has nothing scheduled: not an error here.
      .catch((err: unknown) => setError(err));
  }, [api, props.threadId]);
  useEffect(() => {
    load();
    const timer = setInterval(load, SCHEDULED_REFRESH_MS);
    return () => clearInterval(timer);
  }, [load, props.refreshKey]);

  const pending = items.filter(
    (s) => s.status === 'scheduled' || Date.parse(s.sendAt) > Date.now(),
  );
  if (pending.length === 0 && error === null) return null;
  return (
    <section className="scheduled" aria-labelledby="scheduled-title">
      <h2 id="scheduled-title">{t('scheduledTitle')}</h2>
      <ErrorNote error={error} onRetry={load} />
      <ul>
        {pending.map((s) => (
          <li key={s.requestId} data-testid="scheduled" data-status={s.status}>
            <span className="badge">
              {s.status === 'cancelled'
                ? t('scheduledCancelled')
                : t('scheduledAt', { time: formatDateTime(lang, s.sendAt, ZONE) })}
            </span>{' '}
            <span className={s.status === 'cancelled' ? 'muted struck' : ''}>{s.text ?? '📎'}</span>
            {s.status === 'scheduled' && (
              <button
                type="button"
                className="secondary"
                onClick={() => {
                  api
                    .cancelScheduled(s.requestId)
                    .then(load)
                    .catch((err: unknown) => {
                      setError(err);
                      load();
                    });
                }}
              >
                {t('cancelScheduled')}
              </button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

/** Issue 19: a booking's reminders — drafts approved or cancelled with one click. */
export function EventReminders(props: { eventId: string }) {
  const { api, t, lang } = useApp();
  const [items, setItems] = useState<Reminder[] | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(() => {
    api.reminders(props.eventId).then(setItems).catch(setError);
  }, [api, props.eventId]);
  useEffect(load, [load]);

  const act = (r: Reminder, action: 'approve' | 'cancel') => {
    setBusy(r.id);
    setError(null);
    api
      .reminderAction(props.eventId, r.kind, action)
      .then((next) => setItems((old) => (old ?? []).map((x) => (x.id === next.id ? next : x))))
      .catch(setError)
      .finally(() => setBusy(null));
  };

  if (items === null && error === null) return null;
  return (
    <details className="reminders" data-testid="reminders">
      <summary>
        {t('remindersTitle')} ({items?.filter((r) => r.status === 'draft').length ?? 0})
      </summary>
      <ErrorNote error={error} onRetry={load} />
      <ul>
        {items?.map((r) => (
          <li key={r.id} data-testid="reminder" data-kind={r.kind} data-status={r.status}>
            <div className="event-head">
              <strong>{t(`reminderKind_${r.kind}`)}</strong>
              <span className="badge">{t(`reminderStatus_${r.status}`)}</span>
              <span className="muted">
                {r.sendAt !== null
                  ? t('reminderWhen', { time: formatDateTime(lang, r.sendAt, ZONE) })
                  : t('reminderOnApproval')}
              </span>
            </div>
            <p className="reminder-text">{r.text}</p>
            {r.status === 'draft' && (
              <button type="button" disabled={busy === r.id} onClick={() => act(r, 'approve')}>
                {t('approveReminder')}
              </button>
            )}
            {r.status !== 'cancelled' && (
              <button
                type="button"
                className="secondary"
                disabled={busy === r.id}
                onClick={() => act(r, 'cancel')}
              >
                {t('cancelReminder')}
              </button>
            )}
          </li>
        ))}
      </ul>
    </details>
  );
}

/** The `/shortcut` typed so far, or null when the composer's text is not a quick-reply query. */
export function quickReplyQuery(text: string): string | null {
  const match = /^\/([a-z0-9_-]{0,32})$/.exec(text);
  return match === null ? null : match[1]!;
}

/** The account's quick replies (loaded once per account), filtered by the typed shortcut. */
export function useQuickReplies(accountId: string, query: string | null) {
  const { api } = useApp();
  const [all, setAll] = useState<QuickReply[] | null>(null);
  useEffect(() => {
    if (query === null || all !== null) return;
    api
      .quickReplies(accountId)
      .then(setAll)
      .catch(() => setAll([]));
  }, [api, accountId, query, all]);
  if (query === null) return [];
  return (all ?? []).filter(
    (q) =>
      q.shortcut !== null && (q.shortcut.startsWith(query) || q.name.toLowerCase().includes(query)),
  );
}

/** The `/` picker above the composer: a click (or Enter, for the first) inserts the reply. */
export function QuickReplyPicker(props: {
  query: string;
  replies: QuickReply[];
  onPick: (reply: QuickReply) => void;
}) {
  const { t } = useApp();
  return (
    <div className="quick-replies" role="listbox" aria-label={t('quickRepliesLabel')}>
      {props.replies.length === 0 && (
        <p className="muted">{t('quickRepliesNone', { query: props.query })}</p>
      )}
      {props.replies.map((q, i) => (
        <button
          key={q.id}
          type="button"
          role="option"
          aria-selected={i === 0}
          className="secondary quick-reply"
          onMouseDown={(e) => e.preventDefault()}
          onClick={() => props.onPick(q)}
        >
          <strong>/{q.shortcut}</strong>
          <span>{q.name}</span>
          {q.mediaId !== null && ' 📎'}
        </button>
      ))}
    </div>
  );
}
