import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { DEFAULT_WAITING_AFTER_MINUTES, THREAD_STAGES } from '@wacrm/contracts/inbox';
import {
  ApiError,
  type InboxSettings,
  type NoteView,
  type ThreadFilter,
  type ThreadView,
} from '../api.js';
import { ErrorNote } from '../components.js';
import { useApp, useRealtime } from '../context.js';
import { formatDateTime } from '../format.js';

/** The operator inbox's tools (issue 20): notes, assignment, stage and labels, waiting clients. */

const TEXT = {
  ro: {
    notes: 'Note interne',
    note: 'Notă internă',
    notePlaceholder: 'Notă pentru colegi (nu se trimite clientului)',
    addNote: 'Adaugă nota',
    assignedTo: 'Responsabil',
    nobody: 'nimeni',
    you: 'tu',
    take: 'Preiau',
    release: 'Eliberez',
    takeFrom: (holder: string) => `Conversația e preluată de ${holder}. O preiei tu?`,
    stage: 'Etapă',
    noStage: '—',
    labels: 'Etichete',
    waiting: 'Așteaptă răspuns',
    waitingCount: (n: number) => `${n} clienți așteaptă răspuns`,
    filterAssigned: 'Conversații',
    all: 'Toate',
    mine: 'Ale mele',
    unassigned: 'Nepreluate',
    onlyWaiting: 'Doar cei care așteaptă',
    stages: {
      lead: 'Lead',
      quoted: 'Ofertat',
      confirmed: 'Confirmat',
      done: 'Finalizat',
      lost: 'Pierdut',
    },
  },
  en: {
    notes: 'Internal notes',
    note: 'Internal note',
    notePlaceholder: 'Note for colleagues (never sent to the client)',
    addNote: 'Add note',
    assignedTo: 'Assignee',
    nobody: 'nobody',
    you: 'you',
    take: 'Take',
    release: 'Release',
    takeFrom: (holder: string) => `${holder} holds this conversation. Take it over?`,
    stage: 'Stage',
    noStage: '—',
    labels: 'Labels',
    waiting: 'Waiting for a reply',
    waitingCount: (n: number) => `${n} clients waiting for a reply`,
    filterAssigned: 'Conversations',
    all: 'All',
    mine: 'Mine',
    unassigned: 'Unassigned',
    onlyWaiting: 'Only waiting',
    stages: {
      lead: 'Lead',
      quoted: 'Quoted',
      confirmed: 'Confirmed',
      done: 'Done',
      lost: 'Lost',
    },
  },
} as const;

export function useInboxText() {
  return TEXT[useApp().lang];
}

/** The account's labels and waiting limit (one read per account and screen). */
export function useInboxSettings(accountId: string | undefined): InboxSettings | null {
  const { api } = useApp();
  const [settings, setSettings] = useState<InboxSettings | null>(null);
  useEffect(() => {
    if (accountId === undefined) return;
    api
      .inboxSettings(accountId)
      .then(setSettings)
      .catch(() => setSettings(null));
  }, [api, accountId]);
  return settings;
}

export function isWaitingNow(thread: ThreadView, settings: InboxSettings | null): boolean {
  if (thread.waitingSince === null) return false;
  const limit = (settings?.waitingAfterMinutes ?? DEFAULT_WAITING_AFTER_MINUTES) * 60_000;
  return Date.now() - Date.parse(thread.waitingSince) > limit;
}

/**
 * Whether a thread belongs in a list filtered as the server filters `GET /api/threads`
 * (assigned mine/unassigned, stage, label, waiting), so a live change can add a thread to the
 * list or take it out without reloading it.
 */
export function matchesFilter(
  thread: ThreadView,
  filter: ThreadFilter,
  meId: string,
  settings: InboxSettings | null,
): boolean {
  if (filter.assigned === 'mine' && thread.assigneeUid !== meId) return false;
  if (filter.assigned === 'unassigned' && thread.assigneeUid !== null) return false;
  if (filter.stage !== undefined && thread.stage !== filter.stage) return false;
  if (filter.label !== undefined && !thread.labels.includes(filter.label)) return false;
  if (
    filter.waiting !== undefined &&
    isWaitingNow(thread, settings) !== (filter.waiting === 'true')
  ) {
    return false;
  }
  return true;
}

/** The stages in their order, as options of a select. */
function StageOptions() {
  const x = useInboxText();
  return (
    <>
      {THREAD_STAGES.map((s) => (
        <option key={s} value={s}>
          {x.stages[s]}
        </option>
      ))}
    </>
  );
}

/** Assignee, stage and labels of the open chat; taking a thread someone holds asks first. */
export function ThreadTools(props: { thread: ThreadView; onChange: (t: ThreadView) => void }) {
  const { api, me } = useApp();
  const x = useInboxText();
  const settings = useInboxSettings(props.thread.accountId);
  const [error, setError] = useState<unknown>(null);
  const { thread } = props;
  const assign = async (uid: string | null) => {
    try {
      props.onChange(await api.assign(thread.id, uid));
      setError(null);
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) {
        const holder = thread.assigneeUid ?? '?';
        if (window.confirm(x.takeFrom(holder))) {
          props.onChange(
            await api.assign(thread.id, uid, true).catch((e: unknown) => {
              setError(e);
              return thread;
            }),
          );
        }
        return;
      }
      setError(err);
    }
  };
  const tag = (body: Parameters<typeof api.tagThread>[1]) =>
    api
      .tagThread(thread.id, body)
      .then((t) => (props.onChange(t), setError(null)))
      .catch(setError);
  const holder =
    thread.assigneeUid === null
      ? x.nobody
      : thread.assigneeUid === me.id
        ? x.you
        : thread.assigneeUid;
  return (
    <div className="thread-tools" data-testid="thread-tools">
      <span className="assignee" data-testid="assignee">
        {x.assignedTo}: <strong>{holder}</strong>
      </span>
      {thread.assigneeUid !== me.id && (
        <button type="button" className="secondary" onClick={() => void assign(me.id)}>
          {x.take}
        </button>
      )}
      {thread.assigneeUid !== null && (
        <button type="button" className="secondary" onClick={() => void assign(null)}>
          {x.release}
        </button>
      )}
      <label>
        {x.stage}{' '}
        <select
          value={thread.stage ?? ''}
          data-testid="stage"
          onChange={(e) =>
            void tag({
              stage:
                e.target.value === '' ? null : (e.target.value as (typeof THREAD_STAGES)[number]),
            })
          }
        >
          <option value="">{x.noStage}</option>
          <StageOptions />
        </select>
      </label>
      {settings !== null && settings.labels.length > 0 && (
        <span className="labels" aria-label={x.labels}>
          {settings.labels.map((l) => {
            const on = thread.labels.includes(l.id);
            return (
              <button
                key={l.id}
                type="button"
                className={on ? 'label on' : 'label'}
                style={{ borderColor: l.color, background: on ? l.color : 'transparent' }}
                aria-pressed={on}
                onClick={() =>
                  void tag({
                    labels: on ? thread.labels.filter((x) => x !== l.id) : [...thread.labels, l.id],
                  })
                }
              >
                {l.name}
              </button>
            );
          })}
        </span>
      )}
      {isWaitingNow(thread, settings) && (
        <span className="waiting-badge" data-testid="waiting">
          {x.waiting}
        </span>
      )}
      <ErrorNote error={error} />
    </div>
  );
}

/** A thread's notes, live (a note announces thread.updated), with a form to add one. */
export function useNotes(threadId: string) {
  const { api } = useApp();
  const [notes, setNotes] = useState<NoteView[]>([]);
  const load = useCallback(() => {
    api
      .notes(threadId)
      .then((fresh) => setNotes((old) => mergeNotes(old, fresh)))
      .catch(() => undefined);
  }, [api, threadId]);
  useEffect(load, [load]);
  useRealtime({
    event: (e) => {
      if (e.type === 'thread.updated' && e.threadId === threadId) load();
    },
    resync: load,
  });
  return { notes, add: (n: NoteView) => setNotes((old) => mergeNotes(old, [n])) };
}

/**
 * Notes once each, oldest first. The form's answer and the reload its `thread.updated` starts
 * both bring the new note, in either order; a load that left before a note was added answers
 * without it. Notes are never deleted, so keeping every note seen is the thread's list.
 */
export function mergeNotes(old: readonly NoteView[], fresh: readonly NoteView[]): NoteView[] {
  const byId = new Map(old.map((n) => [n.id, n]));
  for (const n of fresh) byId.set(n.id, n);
  return [...byId.values()].sort(
    (a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id),
  );
}

export function NoteBubble(props: { note: NoteView }) {
  const { lang } = useApp();
  const x = useInboxText();
  const n = props.note;
  return (
    <li className="note" data-note-id={n.id}>
      <span className="note-tag">{x.note}</span>
      <p className="text">{n.body}</p>
      <span className="meta">
        {n.authorId} · <time dateTime={n.createdAt}>{formatDateTime(lang, n.createdAt)}</time>
      </span>
    </li>
  );
}

export function NoteForm(props: { threadId: string; onAdded: (n: NoteView) => void }) {
  const { api } = useApp();
  const x = useInboxText();
  const [text, setText] = useState('');
  const [error, setError] = useState<unknown>(null);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (text.trim() === '') return;
    api
      .addNote(props.threadId, text)
      .then((n) => {
        props.onAdded(n);
        setText('');
        setError(null);
      })
      .catch(setError);
  };
  return (
    <form className="note-form" onSubmit={submit}>
      <label className="visually-hidden" htmlFor="note-text">
        {x.note}
      </label>
      <input
        id="note-text"
        value={text}
        maxLength={4000}
        placeholder={x.notePlaceholder}
        onChange={(e) => setText(e.target.value)}
      />
      <button type="submit" className="secondary">
        {x.addNote}
      </button>
      <ErrorNote error={error} />
    </form>
  );
}

/** The inbox list's filters and the account's count of waiting clients. */
export function InboxFilters(props: {
  accountId: string;
  filter: ThreadFilter;
  onFilter: (f: ThreadFilter) => void;
}) {
  const { api } = useApp();
  const x = useInboxText();
  const [waiting, setWaiting] = useState<number | null>(null);
  useEffect(() => {
    api
      .waiting(props.accountId)
      .then((w) => setWaiting(w.count))
      .catch(() => setWaiting(null));
  }, [api, props.accountId, props.filter]);
  const f = props.filter;
  return (
    <div className="inbox-filters">
      <label>
        {x.filterAssigned}{' '}
        <select
          data-testid="filter-assigned"
          value={f.assigned ?? 'all'}
          onChange={(e) =>
            props.onFilter({ ...f, assigned: e.target.value as 'all' | 'mine' | 'unassigned' })
          }
        >
          <option value="all">{x.all}</option>
          <option value="mine">{x.mine}</option>
          <option value="unassigned">{x.unassigned}</option>
        </select>
      </label>
      <label>
        {x.stage}{' '}
        <select
          value={f.stage ?? ''}
          onChange={(e) => {
            const { stage: _drop, ...rest } = f;
            props.onFilter(
              e.target.value === ''
                ? rest
                : { ...rest, stage: e.target.value as (typeof THREAD_STAGES)[number] },
            );
          }}
        >
          <option value="">{x.all}</option>
          <StageOptions />
        </select>
      </label>
      <label>
        <input
          type="checkbox"
          checked={f.waiting === 'true'}
          onChange={(e) => {
            const { waiting: _drop, ...rest } = f;
            props.onFilter(e.target.checked ? { ...rest, waiting: 'true' } : rest);
          }}
        />{' '}
        {x.onlyWaiting}
      </label>
      {waiting !== null && waiting > 0 && (
        <span className="waiting-badge" data-testid="waiting-count">
          {x.waitingCount(waiting)}
        </span>
      )}
    </div>
  );
}
