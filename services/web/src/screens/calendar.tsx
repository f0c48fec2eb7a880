import { useCallback, useEffect, useMemo, useState } from 'react';
import type { Event, Performer } from '../api.js';
import { AccountPicker, useChosenAccount } from './account-picker.js';
import { ErrorNote, Link } from '../components.js';
import { useApp } from '../context.js';
import type { Lang } from '../i18n.js';
import { paths } from '../router.js';

/** The business's time zone: the calendar's days and hours are Bucharest's. */
const ZONE = 'Europe/Bucharest';
const DAY = 86_400_000;
export type CalendarView = 'day' | 'week' | 'month';
const VIEWS: readonly CalendarView[] = ['day', 'week', 'month'];
const STATUSES = ['lead', 'quoted', 'awaiting_deposit', 'confirmed', 'done', 'cancelled'] as const;

const locale = (lang: Lang) => (lang === 'ro' ? 'ro-RO' : 'en-GB');

/** A Bucharest calendar date (YYYY-MM-DD) of an instant. */
function bucharestDate(instant: Date): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: ZONE }).format(instant);
}

/** Midnight of a Bucharest date as an ISO wall time the API reads in Bucharest. */
const wall = (date: string) => `${date}T00:00`;
const addDays = (date: string, n: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + n * DAY).toISOString().slice(0, 10);
const weekdayOf = (date: string) => ((new Date(`${date}T00:00:00Z`).getUTCDay() + 6) % 7) + 1;

/** The dates a view shows around `anchor`: one day, Monday–Sunday, or the month's weeks. */
export function visibleDates(view: CalendarView, anchor: string): string[] {
  if (view === 'day') return [anchor];
  if (view === 'week') {
    const monday = addDays(anchor, 1 - weekdayOf(anchor));
    return Array.from({ length: 7 }, (_, i) => addDays(monday, i));
  }
  const first = `${anchor.slice(0, 8)}01`;
  const start = addDays(first, 1 - weekdayOf(first));
  const dates: string[] = [];
  for (let d = start; dates.length < 42; d = addDays(d, 1)) {
    dates.push(d);
    if (dates.length % 7 === 0 && addDays(d, 1).slice(0, 7) > anchor.slice(0, 7)) break;
  }
  return dates;
}

function step(view: CalendarView, anchor: string, direction: 1 | -1): string {
  if (view === 'day') return addDays(anchor, direction);
  if (view === 'week') return addDays(anchor, 7 * direction);
  const [y, m] = anchor.split('-').map(Number) as [number, number];
  const month = new Date(Date.UTC(y, m - 1 + direction, 1));
  return month.toISOString().slice(0, 10);
}

export function CalendarScreen(props: { accountId: string | null }) {
  const { api, t, lang } = useApp();
  const [view, setView] = useState<CalendarView>('week');
  const [anchor, setAnchor] = useState(() => bucharestDate(new Date()));
  const [performerId, setPerformerId] = useState('');
  const [character, setCharacter] = useState('');
  const [performers, setPerformers] = useState<Performer[]>([]);
  const [events, setEvents] = useState<Event[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  /** The secret ICS URL just made for the selected performer (the API shows it once). */
  const [feed, setFeed] = useState<{ performerId: string; url: string | null } | null>(null);

  const { accounts, accountId } = useChosenAccount(props.accountId, setError);
  useEffect(() => {
    if (accountId === null) return;
    api
      .performers(accountId)
      .then((list) => setPerformers(list.items))
      .catch(setError);
  }, [api, accountId]);

  const dates = useMemo(() => visibleDates(view, anchor), [view, anchor]);
  const load = useCallback(() => {
    if (accountId === null) return;
    setError(null);
    api
      .calendar(accountId, wall(dates[0]!), wall(addDays(dates.at(-1)!, 1)), {
        ...(performerId !== '' ? { performerId } : {}),
        ...(character !== '' ? { character } : {}),
      })
      .then((list) => setEvents(list.items))
      .catch(setError);
  }, [api, accountId, dates, performerId, character]);
  useEffect(load, [load]);

  const characters = useMemo(
    () => [...new Set(performers.flatMap((p) => p.characters))].sort((a, b) => a.localeCompare(b)),
    [performers],
  );
  const byDate = useMemo(() => {
    const map = new Map<string, Event[]>();
    for (const ev of events ?? []) {
      if (ev.start === undefined) continue;
      const date = bucharestDate(new Date(ev.start));
      map.set(date, [...(map.get(date) ?? []), ev]);
    }
    return map;
  }, [events]);

  const time = new Intl.DateTimeFormat(locale(lang), {
    timeZone: ZONE,
    hour: '2-digit',
    minute: '2-digit',
  });
  const dayName = new Intl.DateTimeFormat(locale(lang), {
    timeZone: 'UTC',
    weekday: 'short',
    day: 'numeric',
    month: 'short',
  });
  const title = new Intl.DateTimeFormat(locale(lang), {
    timeZone: 'UTC',
    ...(view === 'month' ? { month: 'long', year: 'numeric' } : { dateStyle: 'long' }),
  }).format(new Date(`${view === 'week' ? dates[0] : anchor}T00:00:00Z`));
  const performerName = (id: string) => performers.find((p) => p.id === id)?.name ?? id;

  return (
    <section className="calendar" aria-labelledby="calendar-title">
      <h1 id="calendar-title">{t('calendarTitle')}</h1>
      <div className="calendar-controls">
        <AccountPicker accounts={accounts} accountId={accountId} pathFor={paths.calendar} />
        <div role="group" aria-label={t('calendarViewLabel')}>
          {VIEWS.map((v) => (
            <button
              key={v}
              type="button"
              className={v === view ? '' : 'secondary'}
              aria-pressed={v === view}
              onClick={() => setView(v)}
            >
              {t(`calendarView_${v}`)}
            </button>
          ))}
        </div>
        <div role="group" aria-label={t('calendarNavLabel')}>
          <button
            type="button"
            className="secondary"
            onClick={() => setAnchor(step(view, anchor, -1))}
          >
            {t('calendarPrevious')}
          </button>
          <button
            type="button"
            className="secondary"
            onClick={() => setAnchor(bucharestDate(new Date()))}
          >
            {t('calendarToday')}
          </button>
          <button
            type="button"
            className="secondary"
            onClick={() => setAnchor(step(view, anchor, 1))}
          >
            {t('calendarNext')}
          </button>
        </div>
        <label>
          {t('calendarPerformer')}{' '}
          <select value={performerId} onChange={(e) => setPerformerId(e.target.value)}>
            <option value="">{t('calendarAll')}</option>
            {performers.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('calendarCharacter')}{' '}
          <select value={character} onChange={(e) => setCharacter(e.target.value)}>
            <option value="">{t('calendarAll')}</option>
            {characters.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </label>
      </div>
      {performerId !== '' && (
        <PerformerFeed
          performerId={performerId}
          feed={feed?.performerId === performerId ? feed : null}
          onChange={setFeed}
          onError={setError}
        />
      )}
      <h2 aria-live="polite">{title}</h2>
      <ul className="calendar-legend" aria-label={t('calendarLegend')}>
        {STATUSES.map((s) => (
          <li key={s} className={`booking status-${s}`}>
            {t(`booking_${s}`)}
          </li>
        ))}
      </ul>
      <ErrorNote error={error} onRetry={load} />
      {accountId === null && accounts !== null && <p>{t('noAccounts')}</p>}
      {events === null && error === null && accountId !== null && (
        <p role="status">{t('loading')}</p>
      )}
      <ol className={`calendar-grid calendar-${view}`} data-testid="calendar-grid">
        {dates.map((date) => (
          <li
            key={date}
            className={`calendar-day${date.slice(0, 7) !== anchor.slice(0, 7) && view === 'month' ? ' outside' : ''}`}
            data-date={date}
          >
            <h3>{dayName.format(new Date(`${date}T00:00:00Z`))}</h3>
            <ul>
              {(byDate.get(date) ?? []).map((ev) => {
                const status = ev.status ?? 'confirmed';
                const who = (ev.performerIds ?? []).map(performerName).join(', ');
                return (
                  <li key={ev.id}>
                    <Link
                      to={`${paths.client(ev.phoneE164)}#event-${ev.id}`}
                      className={`booking status-${status}`}
                    >
                      <span className="booking-time">{time.format(new Date(ev.start!))}</span>{' '}
                      <span>{ev.characters.join(', ') || ev.eventShortId}</span>
                      <span className="visually-hidden">, {t(`booking_${status}`)}</span>
                      {who !== '' && <span className="booking-who"> · {who}</span>}
                    </Link>
                  </li>
                );
              })}
            </ul>
          </li>
        ))}
      </ol>
    </section>
  );
}

/**
 * A performer's calendar feed: make (or replace) the secret ICS URL a phone calendar subscribes
 * to — shown once, as the API answers it once — or revoke it.
 */
function PerformerFeed(props: {
  performerId: string;
  feed: { performerId: string; url: string | null } | null;
  onChange: (feed: { performerId: string; url: string | null }) => void;
  onError: (error: unknown) => void;
}) {
  const { api, t } = useApp();
  const [busy, setBusy] = useState(false);
  const act = (work: () => Promise<string | null>) => {
    setBusy(true);
    work()
      .then((url) => props.onChange({ performerId: props.performerId, url }))
      .catch(props.onError)
      .finally(() => setBusy(false));
  };
  const url = props.feed?.url ?? null;
  return (
    <div className="performer-feed" data-testid="performer-feed">
      <button
        type="button"
        className="secondary"
        disabled={busy}
        onClick={() => act(async () => (await api.rotatePerformerFeed(props.performerId)).url)}
      >
        {url === null ? t('feedMake') : t('feedRotate')}
      </button>{' '}
      <button
        type="button"
        className="secondary"
        disabled={busy}
        onClick={() =>
          act(async () => {
            await api.revokePerformerFeed(props.performerId);
            return null;
          })
        }
      >
        {t('feedRevoke')}
      </button>
      {url !== null && (
        <p>
          <label>
            {t('feedUrl')}{' '}
            <input type="text" readOnly value={url} size={60} onFocus={(e) => e.target.select()} />
          </label>
          <br />
          <small>{t('feedShownOnce')}</small>
        </p>
      )}
      {props.feed !== null && url === null && <p role="status">{t('feedRevoked')}</p>}
    </div>
  );
}
