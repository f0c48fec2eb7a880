import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { AccountView, InboxSettings, SearchResult, ThreadFilter, ThreadView } from '../api.js';
import {
  InboxFilters,
  isWaitingNow,
  matchesFilter,
  useInboxSettings,
  useInboxText,
} from './inbox-tools.js';
import { ErrorNote, Link } from '../components.js';
import { useApp, useRealtime } from '../context.js';
import { formatDateTime } from '../format.js';
import { navigate, paths } from '../router.js';

const LAST_ACCOUNT_KEY = 'wacrm.inboxAccount';
/** More changed threads than this in one burst: reload the page instead of each thread. */
const BURST_RELOAD = 20;

function newestFirst(a: ThreadView, b: ThreadView): number {
  return (b.lastMessageAt ?? '').localeCompare(a.lastMessageAt ?? '') || a.id.localeCompare(b.id);
}

/** Typing pauses this long before the server is asked. */
const SEARCH_DEBOUNCE_MS = 250;

export function threadTitle(thread: ThreadView): string {
  return thread.displayName ?? thread.phoneE164 ?? thread.clientJid;
}

export function InboxScreen(props: { accountId: string | null }) {
  const { api, t } = useApp();
  const [accounts, setAccounts] = useState<AccountView[] | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    api.accounts().then(setAccounts).catch(setError);
  }, [api]);

  // No account in the URL: the last one used, else the first.
  useEffect(() => {
    if (props.accountId !== null || accounts === null || accounts.length === 0) return;
    const last = localStorage.getItem(LAST_ACCOUNT_KEY);
    const pick = accounts.find((a) => a.id === last) ?? accounts[0]!;
    navigate(paths.inbox(pick.id), true);
  }, [props.accountId, accounts]);

  useEffect(() => {
    if (props.accountId !== null) localStorage.setItem(LAST_ACCOUNT_KEY, props.accountId);
  }, [props.accountId]);

  return (
    <section aria-labelledby="inbox-title">
      <h1 id="inbox-title">{t('inboxTitle')}</h1>
      <ErrorNote error={error} />
      {accounts !== null && accounts.length === 0 && <p>{t('noAccounts')}</p>}
      {accounts !== null && accounts.length > 0 && (
        <div className="field">
          <label htmlFor="inbox-account">{t('account')}</label>
          <select
            id="inbox-account"
            value={props.accountId ?? ''}
            onChange={(e) => navigate(paths.inbox(e.target.value))}
          >
            {props.accountId === null && <option value="">{t('chooseAccount')}</option>}
            {accounts.map((a) => (
              <option key={a.id} value={a.id}>
                {a.name} ({t(`status_${a.status}`)})
              </option>
            ))}
          </select>
        </div>
      )}
      {props.accountId !== null && <ThreadList key={props.accountId} accountId={props.accountId} />}
    </section>
  );
}

function ThreadList(props: { accountId: string }) {
  const { api, t, me } = useApp();
  const settings = useInboxSettings(props.accountId);
  const [threads, setThreads] = useState<ThreadView[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [query, setQuery] = useState('');
  const [filter, setFilter] = useState<ThreadFilter>({});

  const load = useCallback(() => {
    api
      .threads(props.accountId, undefined, filter)
      .then((page) => {
        setThreads(page.items);
        setCursor(page.nextCursor);
        setError(null);
      })
      .catch(setError);
  }, [api, props.accountId, filter]);
  useEffect(load, [load]);

  const more = () => {
    if (cursor === null) return;
    api
      .threads(props.accountId, cursor, filter)
      .then((page) => {
        setThreads((old) => merge(old ?? [], page.items));
        setCursor(page.nextCursor);
      })
      .catch(setError);
  };

  // Events come in bursts (a history sync touches many threads): gather the thread ids for a
  // moment, then fetch each once, or the whole first page when too many changed. A fetched
  // thread joins the list or leaves it as it now matches the filter (taken by someone else,
  // given to me, restaged), so every operator's "mine" and "unassigned" stay live.
  const latest = useRef({ filter, meId: me.id, settings });
  latest.current = { filter, meId: me.id, settings };
  const changed = useRef(new Set<string>());
  const flushTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(flushTimer.current), []);
  const flush = () => {
    flushTimer.current = undefined;
    const ids = [...changed.current];
    changed.current.clear();
    if (ids.length > BURST_RELOAD) return load();
    const asked = latest.current.filter;
    for (const id of ids) {
      api
        .thread(id)
        .then((thread) => {
          const { filter: now, meId, settings: s } = latest.current;
          if (now !== asked) return; // the list was reloaded for another filter meanwhile
          setThreads((old) =>
            matchesFilter(thread, now, meId, s)
              ? merge(old ?? [], [thread])
              : (old ?? []).filter((th) => th.id !== thread.id),
          );
        })
        .catch(setError);
    }
  };

  useRealtime({
    event: (e) => {
      if (e.type !== 'thread.updated' && e.type !== 'message.created') return;
      if (e.accountId !== props.accountId) return;
      changed.current.add(e.threadId);
      flushTimer.current ??= setTimeout(flush, 150);
    },
    resync: load,
  });

  const shown = useMemo(() => [...(threads ?? [])].sort(newestFirst), [threads]);
  const searching = query.trim() !== '';

  return (
    <>
      <label className="field search">
        {t('search')}
        <input type="search" value={query} onChange={(e) => setQuery(e.target.value)} />
      </label>
      {!searching && (
        <InboxFilters accountId={props.accountId} filter={filter} onFilter={setFilter} />
      )}
      {searching && <SearchResults accountId={props.accountId} query={query.trim()} />}
      {!searching && <ErrorNote error={error} onRetry={load} />}
      {!searching && (
        <ThreadItems
          threads={threads}
          shown={shown}
          error={error}
          cursor={cursor}
          more={more}
          settings={settings}
        />
      )}
    </>
  );
}

/**
 * Server-side search (threads by name or phone, messages by text, caption or file name). A hit
 * opens the chat at its message; showing results marks nothing read.
 */
function SearchResults(props: { accountId: string; query: string }) {
  const { api, t, lang } = useApp();
  const [result, setResult] = useState<SearchResult | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let live = true;
    setResult(null);
    const timer = setTimeout(() => {
      api
        .search(props.accountId, props.query)
        .then((r) => live && (setResult(r), setError(null)))
        .catch((e: unknown) => live && setError(e));
    }, SEARCH_DEBOUNCE_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [api, props.accountId, props.query]);
  const more = () => {
    if (result?.nextCursor == null) return;
    api
      .search(props.accountId, props.query, result.nextCursor)
      .then((r) =>
        setResult((old) => ({
          ...r,
          threads: old?.threads ?? [],
          messages: [...(old?.messages ?? []), ...r.messages],
        })),
      )
      .catch(setError);
  };
  return (
    <section aria-label={t('searchResults')} className="search-results">
      <ErrorNote error={error} />
      {result === null && error === null && <p role="status">{t('searching')}</p>}
      {result !== null && result.threads.length === 0 && result.messages.length === 0 && (
        <p>{t('noMatches')}</p>
      )}
      {result !== null && result.threads.length > 0 && (
        <ul className="threads" aria-label={t('searchThreads')}>
          {result.threads.map((th) => (
            <li key={th.threadId} data-thread-id={th.threadId}>
              <Link to={paths.chat(th.threadId)} className="thread">
                <span className="thread-top">
                  <span className="thread-name">
                    {th.displayName ?? th.phoneE164 ?? th.threadId}
                  </span>
                  <span className="muted small">{th.phoneE164 ?? ''}</span>
                </span>
              </Link>
            </li>
          ))}
        </ul>
      )}
      {result !== null && result.messages.length > 0 && (
        <ul className="threads" aria-label={t('searchMessages')}>
          {result.messages.map((m) => (
            <li key={`${m.threadId}/${m.messageId}`} data-search-hit={m.messageId}>
              <Link to={paths.chatAt(m.threadId, m.messageId, m.tsClient)} className="thread">
                <span className="thread-top">
                  <span className="thread-name">{m.displayName ?? m.phoneE164 ?? m.threadId}</span>
                  <time dateTime={m.tsClient} className="muted small">
                    {formatDateTime(lang, m.tsClient)}
                  </time>
                </span>
                <span className="thread-bottom">
                  <span className="thread-preview">
                    {m.direction === 'outbound' && `${t('you')}: `}
                    {m.snippet}
                  </span>
                </span>
              </Link>
            </li>
          ))}
        </ul>
      )}
      {result?.nextCursor != null && (
        <button type="button" className="secondary" onClick={more}>
          {t('loadMore')}
        </button>
      )}
    </section>
  );
}

function ThreadItems(props: {
  threads: ThreadView[] | null;
  shown: ThreadView[];
  error: unknown;
  cursor: string | null;
  more: () => void;
  settings: InboxSettings | null;
}) {
  const { t, lang, me } = useApp();
  const x = useInboxText();
  const { threads, shown, error, cursor, more, settings } = props;
  return (
    <>
      {threads === null && error === null && <p role="status">{t('loading')}</p>}
      {threads !== null && threads.length === 0 && <p>{t('noThreads')}</p>}
      {threads !== null && threads.length > 0 && shown.length === 0 && <p>{t('noMatches')}</p>}
      <ul className="threads" aria-label={t('threadList')}>
        {shown.map((th) => (
          <li
            key={th.id}
            data-thread-id={th.id}
            data-waiting={isWaitingNow(th, settings) ? 'true' : undefined}
          >
            <Link
              to={paths.chat(th.id)}
              className={isWaitingNow(th, settings) ? 'thread waiting' : 'thread'}
            >
              <span className="thread-top">
                <span className="thread-name">{threadTitle(th)}</span>
                {th.lastMessageAt !== null && (
                  <time dateTime={th.lastMessageAt} className="muted small">
                    {formatDateTime(lang, th.lastMessageAt)}
                  </time>
                )}
              </span>
              <span className="thread-bottom">
                <span className="thread-preview">
                  {th.lastMessageDirection === 'outbound' && `${t('you')}: `}
                  {th.lastMessageText ?? ''}
                </span>
                {th.stage !== null && <span className="stage-chip">{x.stages[th.stage]}</span>}
                {settings?.labels
                  .filter((l) => th.labels.includes(l.id))
                  .map((l) => (
                    <span key={l.id} className="label on" style={{ background: l.color }}>
                      {l.name}
                    </span>
                  ))}
                {th.assigneeUid !== null && (
                  <span className="assignee-chip" data-testid="thread-assignee">
                    {th.assigneeUid === me.id ? x.you : th.assigneeUid}
                  </span>
                )}
                {th.unreadCount > 0 && (
                  <span className="unread" data-testid="unread">
                    <span aria-hidden="true">{th.unreadCount}</span>
                    <span className="visually-hidden">
                      {t('unread', { count: th.unreadCount })}
                    </span>
                  </span>
                )}
              </span>
            </Link>
          </li>
        ))}
      </ul>
      {cursor !== null && (
        <button type="button" className="secondary" onClick={more}>
          {t('loadMore')}
        </button>
      )}
    </>
  );
}

function merge(old: ThreadView[], fresh: ThreadView[]): ThreadView[] {
  const byId = new Map(old.map((th) => [th.id, th]));
  for (const th of fresh) byId.set(th.id, th);
  return [...byId.values()];
}
