import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { ApiError, type Answer, type Client, type Event } from '../api.js';
import { ErrorNote, Link } from '../components.js';
import { useApp, useRealtime } from '../context.js';
import { formatCalendarDate, formatDateTime, formatMoney } from '../format.js';
import { paths } from '../router.js';
import { EventReminders } from './scheduling.js';

export function ClientScreen(props: { phoneE164: string }) {
  const { api, t, lang } = useApp();
  const { phoneE164 } = props;
  const [client, setClient] = useState<Client | null>(null);
  const [events, setEvents] = useState<Event[] | null>(null);
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [accountNames, setAccountNames] = useState<ReadonlyMap<string, string>>(new Map());
  useEffect(() => {
    api
      .accounts()
      .then((list) => setAccountNames(new Map(list.map((a) => [a.id, a.name]))))
      .catch(() => undefined); // the ids stand in for the names
  }, [api]);
  // Loads may overlap (an announcement while one is in flight): only the latest one shows.
  const latestLoad = useRef(0);

  const load = useCallback(() => {
    const seq = ++latestLoad.current;
    Promise.all([api.client(phoneE164), api.clientEvents(phoneE164)])
      .then(([c, list]) => {
        if (seq !== latestLoad.current) return;
        setClient(c);
        setEvents(list);
        setMissing(false);
        setError(null);
      })
      .catch((err: unknown) => {
        if (seq !== latestLoad.current) return;
        if (err instanceof ApiError && err.status === 404) {
          setMissing(true);
          setEvents([]);
        } else setError(err);
      });
  }, [api, phoneE164]);

  // Opened from the calendar at one booking (#event-<id>): show it once the events are in.
  useEffect(() => {
    if (events === null || !window.location.hash.startsWith('#event-')) return;
    const target = document.getElementById(window.location.hash.slice(1));
    target?.scrollIntoView({ block: 'center' });
    target?.focus();
  }, [events]);

  // The CRM aggregator writes the aggregates shortly after a save and announces each change
  // (client.updated); subscribed before the first load, so no change falls in between.
  useRealtime({
    event: (e) => {
      if (e.type === 'client.updated' && e.phoneE164 === phoneE164) load();
    },
    resync: load,
  });
  useEffect(load, [load]);

  return (
    <div className="profile">
      <section aria-labelledby="profile-title">
        <h1 id="profile-title">{t('profileTitle', { phone: client?.displayName ?? phoneE164 })}</h1>
        {client?.displayName != null && <p className="muted">{phoneE164}</p>}
        <ErrorNote error={error} onRetry={load} />
        <dl className="kpis">
          <div className="kpi" data-testid="kpi-total">
            <dt>{t('totalSpent')}</dt>
            <dd>
              {client !== null
                ? formatMoney(lang, client.lifetimeSpendPaid)
                : missing
                  ? formatMoney(lang, 0)
                  : '…'}
            </dd>
          </div>
          <div className="kpi" data-testid="kpi-events">
            <dt>{t('eventsCount')}</dt>
            <dd>{client !== null ? client.eventsCount : missing ? 0 : '…'}</dd>
          </div>
          <div className="kpi" data-testid="kpi-outstanding">
            <dt>{t('outstandingBalance')}</dt>
            <dd>
              {client !== null
                ? formatMoney(lang, client.outstandingBalance ?? 0)
                : missing
                  ? formatMoney(lang, 0)
                  : '…'}
            </dd>
          </div>
          <div className="kpi" data-testid="kpi-last">
            <dt>{t('lastEvent')}</dt>
            <dd>
              {client?.lastEventAt != null
                ? formatCalendarDate(lang, client.lastEventAt)
                : t('none')}
            </dd>
          </div>
        </dl>
        {client?.threads !== undefined && client.threads.length > 0 && (
          <nav aria-labelledby="conversations-title" className="conversations">
            <h2 id="conversations-title">{t('conversations')}</h2>
            <ul data-testid="client-threads">
              {client.threads.map((th) => (
                <li key={th.threadId}>
                  <Link to={paths.chat(th.threadId)}>
                    {t('openConversation', {
                      account: accountNames.get(th.accountId) ?? th.accountId,
                    })}
                  </Link>
                  {th.lastMessageAt !== null && (
                    <span className="muted"> · {formatDateTime(lang, th.lastMessageAt)}</span>
                  )}
                </li>
              ))}
            </ul>
          </nav>
        )}
      </section>

      <section aria-labelledby="events-title">
        <h2 id="events-title">{t('events')}</h2>
        {events === null && error === null && <p role="status">{t('loading')}</p>}
        {events?.length === 0 && <p>{t('noEvents')}</p>}
        <ol className="events">
          {events?.map((ev) => (
            <li
              key={ev.id}
              id={`event-${ev.id}`}
              className={`event${window.location.hash === `#event-${ev.id}` ? ' selected' : ''}`}
              data-testid="event"
              data-event-id={ev.id}
              tabIndex={-1}
            >
              <div className="event-head">
                <strong>{ev.eventShortId}</strong>
                <span>
                  {formatCalendarDate(lang, ev.date)}
                  {ev.time !== null && ` · ${ev.time}`}
                </span>
                {ev.isArchived && <span className="badge">{t('archived')}</span>}
              </div>
              {ev.characters.length > 0 && <p>{ev.characters.join(', ')}</p>}
              {ev.address !== null && <p className="muted">{ev.address}</p>}
              <p>
                {t('eventPaid', {
                  paid: formatMoney(lang, ev.payment.paid),
                  amount:
                    ev.payment.amount !== null ? formatMoney(lang, ev.payment.amount) : t('none'),
                })}
              </p>
              {!ev.isArchived && ev.accountId !== null && <EventReminders eventId={ev.id} />}
            </li>
          ))}
        </ol>
      </section>

      <AskPanel phoneE164={phoneE164} />
    </div>
  );
}

function AskPanel(props: { phoneE164: string }) {
  const { api, t, lang } = useApp();
  const [question, setQuestion] = useState('');
  const [answer, setAnswer] = useState<Answer | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function ask(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      setAnswer(await api.ask(props.phoneE164, question.trim() || t('questionPlaceholder')));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="ask-title" className="ask">
      <h2 id="ask-title">{t('askTitle')}</h2>
      <form className="inline-form" onSubmit={(e) => void ask(e)}>
        <label>
          {t('question')}
          <input
            value={question}
            placeholder={t('questionPlaceholder')}
            maxLength={2000}
            onChange={(e) => setQuestion(e.target.value)}
          />
        </label>
        <button type="submit" disabled={busy}>
          {busy ? t('asking') : t('ask')}
        </button>
      </form>
      <ErrorNote error={error} />
      {answer !== null && (
        <div className="answer" aria-live="polite" data-testid="answer">
          <h3>{t('answer')}</h3>
          <p>{answer.answer}</p>
          {answer.sources.length > 0 && (
            <>
              <h3>{t('sources')}</h3>
              <ul className="sources" data-testid="sources">
                {answer.sources.map((s) => (
                  <li key={s.eventId}>
                    <strong>{s.eventShortId}</strong> · {formatCalendarDate(lang, s.date)} ·{' '}
                    {t('eventPaid', {
                      paid: formatMoney(lang, s.paid),
                      amount: s.amount !== null ? formatMoney(lang, s.amount) : t('none'),
                    })}
                  </li>
                ))}
              </ul>
            </>
          )}
        </div>
      )}
    </section>
  );
}
