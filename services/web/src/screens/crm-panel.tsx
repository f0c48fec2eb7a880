import { useEffect, useRef, useState, type FormEvent } from 'react';
import {
  ApiError,
  type Availability,
  type Event,
  type Extraction,
  type NewEvent,
  type Performer,
  type ThreadView,
} from '../api.js';
import { ErrorNote, Link } from '../components.js';
import { useApp } from '../context.js';
import type { MessageKey } from '../i18n.js';
import { paths } from '../router.js';

/** The editable draft: every field as the text in its input. */
interface DraftForm {
  date: string;
  time: string;
  end: string;
  performerId: string;
  address: string;
  characters: string;
  amount: string;
  advance: string;
  paid: string;
  childName: string;
  childAge: string;
  guests: string;
  notes: string;
}

const EMPTY: DraftForm = {
  date: '',
  time: '',
  end: '',
  performerId: '',
  address: '',
  characters: '',
  amount: '',
  advance: '',
  paid: '',
  childName: '',
  childAge: '',
  guests: '',
  notes: '',
};

const str = (v: string | number | null | undefined) =>
  v === null || v === undefined ? '' : String(v);

function formFrom(extraction: Extraction): DraftForm {
  const d = extraction.draftEvent;
  if (d === null) return EMPTY;
  return {
    date: str(d.date),
    time: str(d.time),
    end: '',
    performerId: '',
    address: str(d.address),
    characters: d.characters.join(', '),
    amount: str(d.amount),
    advance: str(d.advance),
    paid: '',
    childName: str(d.childName),
    childAge: str(d.childAge),
    guests: str(d.guests),
    notes: str(d.notes),
  };
}

const textOrNull = (v: string) => (v.trim() === '' ? null : v.trim());
const numberOrNull = (v: string) => (v.trim() === '' ? null : Number(v));

function eventFrom(form: DraftForm, thread: ThreadView, extractionId: string | null): NewEvent {
  const paid = numberOrNull(form.paid);
  // With a performer, end time and start time, the event is a booking that holds the performer.
  const booking =
    form.performerId !== '' && form.time !== '' && form.end !== ''
      ? {
          start: `${form.date}T${form.time}`,
          end: `${form.date}T${form.end}`,
          performerIds: [form.performerId],
        }
      : {};
  return {
    ...booking,
    threadId: thread.id,
    accountId: thread.accountId,
    date: form.date,
    time: textOrNull(form.time),
    address: textOrNull(form.address),
    characters: form.characters
      .split(',')
      .map((c) => c.trim())
      .filter((c) => c.length > 0),
    amount: numberOrNull(form.amount),
    advance: numberOrNull(form.advance),
    ...(paid !== null ? { paid } : {}),
    childName: textOrNull(form.childName),
    childAge: numberOrNull(form.childAge),
    guests: numberOrNull(form.guests),
    notes: textOrNull(form.notes),
    sourceExtractionId: extractionId,
  };
}

const slotTime = new Intl.DateTimeFormat('ro-RO', {
  timeZone: 'Europe/Bucharest',
  weekday: 'short',
  day: 'numeric',
  month: 'short',
  hour: '2-digit',
  minute: '2-digit',
});

/**
 * Issue 19: whether each character of the draft is free at its date and time (Europe/Bucharest),
 * and if not the nearest free slots, from GET /api/crm/availability.
 */
function DraftAvailability(props: {
  accountId: string;
  date: string;
  time: string;
  characters: string[];
}) {
  const { api, t } = useApp();
  const { accountId, date, time } = props;
  const characters = props.characters.slice(0, 5).join('\n');
  const [answers, setAnswers] = useState<Availability[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    setAnswers(null);
    setError(null);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || !/^\d{2}:\d{2}$/.test(time) || characters === '')
      return;
    let live = true;
    Promise.all(
      characters.split('\n').map((c) => api.availability(accountId, c, `${date}T${time}`)),
    )
      .then((list) => live && setAnswers(list))
      .catch((err: unknown) => live && setError(err));
    return () => {
      live = false;
    };
  }, [api, accountId, date, time, characters]);
  if (error !== null) return <ErrorNote error={error} />;
  if (answers === null) return null;
  return (
    <ul className="availability" data-testid="availability" aria-label={t('availabilityTitle')}>
      {answers.map((a) => {
        const free = a.performers.filter((p) => p.free).map((p) => p.name);
        const slots = a.nearestFreeSlots.map((s) => slotTime.format(new Date(s.start))).join(', ');
        const text =
          a.performers.length === 0
            ? t('availabilityNobody', { character: a.character })
            : a.free
              ? t('availabilityFree', { character: a.character, performers: free.join(', ') })
              : slots !== ''
                ? t('availabilityBusy', { character: a.character, slots })
                : t('availabilityBusyNoSlot', { character: a.character });
        return (
          <li key={a.character} className={a.free ? 'free' : 'busy'}>
            {text}
          </li>
        );
      })}
    </ul>
  );
}

/** Extract a draft from the chat, edit it, save it as a new event (each save is a new event). */
export function CrmPanel(props: { thread: ThreadView }) {
  const { api, t } = useApp();
  const { thread } = props;
  const [extraction, setExtraction] = useState<Extraction | null>(null);
  const [form, setForm] = useState<DraftForm | null>(null);
  // One key per booking being saved: a save retried after a lost answer is not a second event.
  const saveKey = useRef(crypto.randomUUID());
  const [busy, setBusy] = useState<'extract' | 'save' | null>(null);
  const [saved, setSaved] = useState<Event[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [performers, setPerformers] = useState<Performer[]>([]);
  useEffect(() => {
    let live = true;
    api
      .performers(thread.accountId)
      .then((list) => live && setPerformers(list.items))
      .catch((err: unknown) => live && setError(err));
    return () => {
      live = false;
    };
  }, [api, thread.accountId]);
  const conflicts =
    error instanceof ApiError && error.status === 409 ? (error.problem?.conflicts ?? []) : [];

  async function extract() {
    setBusy('extract');
    setError(null);
    try {
      const result = await api.extractEvent(thread.accountId, thread.id);
      setExtraction(result);
      setForm(formFrom(result));
      saveKey.current = crypto.randomUUID();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  }

  async function save(e: FormEvent) {
    e.preventDefault();
    if (form === null) return;
    setBusy('save');
    setError(null);
    try {
      const event = await api.saveEvent(
        eventFrom(form, thread, extraction?.extractionId ?? null),
        saveKey.current,
      );
      saveKey.current = crypto.randomUUID();
      setSaved((old) => [event, ...old]);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  }

  const field = (
    key: keyof DraftForm,
    label: MessageKey,
    type: 'text' | 'number' | 'date' | 'time' = 'text',
    extra: { min?: number; step?: string; required?: boolean } = {},
  ) => (
    <label className={`field field-${key}`}>
      {t(label)}
      <input
        type={type}
        name={key}
        value={form?.[key] ?? ''}
        onChange={(e) => {
          // Another booking now: a retry of the earlier one must not carry this one's key.
          saveKey.current = crypto.randomUUID();
          setForm((f) => ({ ...(f ?? EMPTY), [key]: e.target.value }));
        }}
        {...(extra.min !== undefined ? { min: extra.min } : {})}
        {...(extra.step !== undefined ? { step: extra.step } : {})}
        {...(extra.required === true ? { required: true } : {})}
      />
    </label>
  );

  return (
    <aside className="crm" aria-labelledby="crm-title">
      <h2 id="crm-title">{t('crmTitle')}</h2>
      <div className="actions">
        <button type="button" onClick={() => void extract()} disabled={busy !== null}>
          {busy === 'extract' ? t('extracting') : t('extractEvent')}
        </button>
        {thread.phoneE164 !== null && (
          <Link to={paths.client(thread.phoneE164)} className="button secondary">
            {t('clientProfile')}
          </Link>
        )}
      </div>
      <ErrorNote error={error} />
      {extraction !== null && (
        <div className="extraction" aria-live="polite">
          <p data-testid="confidence">
            {t('confidence', { percent: Math.round(extraction.confidence * 100) })}{' '}
            <meter min={0} max={1} value={extraction.confidence} aria-hidden="true" />
          </p>
          {extraction.draftEvent === null && <p>{t('nothingExtracted')}</p>}
          {extraction.reasons.length > 0 && (
            <details open>
              <summary>{t('reasons')}</summary>
              <ul className="reasons">
                {extraction.reasons.map((r, i) => (
                  <li key={i}>{r}</li>
                ))}
              </ul>
            </details>
          )}
        </div>
      )}
      {form !== null && (
        <form className="draft" onSubmit={(e) => void save(e)} aria-labelledby="draft-title">
          <h3 id="draft-title">{t('draftTitle')}</h3>
          <div className="grid">
            {field('date', 'date', 'date', { required: true })}
            {field('time', 'time', 'time')}
            {field('end', 'draftEnd', 'time')}
            <label className="field field-performerId">
              {t('draftPerformer')}
              <select
                name="performerId"
                value={form.performerId}
                onChange={(e) => {
                  saveKey.current = crypto.randomUUID();
                  setForm((f) => ({ ...(f ?? EMPTY), performerId: e.target.value }));
                }}
              >
                <option value="">{t('draftNoPerformer')}</option>
                {performers.map((p) => (
                  <option key={p.id} value={p.id}>
                    {p.name}
                  </option>
                ))}
              </select>
            </label>
            {field('characters', 'characters')}
            {field('address', 'address')}
            {field('amount', 'amount', 'number', { min: 0, step: '0.01' })}
            {field('advance', 'advance', 'number', { min: 0, step: '0.01' })}
            {field('paid', 'paid', 'number', { min: 0, step: '0.01' })}
            {field('childName', 'childName')}
            {field('childAge', 'childAge', 'number', { min: 0, step: '1' })}
            {field('guests', 'guests', 'number', { min: 0, step: '1' })}
            {field('notes', 'notes')}
          </div>
          <DraftAvailability
            accountId={thread.accountId}
            date={form.date}
            time={form.time}
            characters={eventFrom(form, thread, null).characters ?? []}
          />
          {conflicts.length > 0 && (
            <div className="conflicts" role="alert" data-testid="conflicts">
              <p>{t('conflictTitle')}</p>
              <ul>
                {conflicts.map((c, i) => {
                  const who =
                    performers.find((p) => p.id === c.performerId)?.name ??
                    c.performerId ??
                    c.costumeId ??
                    '';
                  const span = {
                    who,
                    start: slotTime.format(new Date(c.start)),
                    end: slotTime.format(new Date(c.end)),
                  };
                  return (
                    <li key={i} data-event-id={c.eventId ?? ''}>
                      {c.eventId === null
                        ? t('conflictDayOff', span)
                        : t('conflictItem', { ...span, event: c.eventId })}
                    </li>
                  );
                })}
              </ul>
            </div>
          )}
          <button type="submit" disabled={busy !== null}>
            {busy === 'save' ? t('saving') : t('saveEvent')}
          </button>
        </form>
      )}
      {saved.length > 0 && (
        <ul className="saved" aria-label={t('events')}>
          {saved.map((ev) => (
            <li key={ev.id} role="status" data-testid="saved-event">
              {t('savedEvent', { id: ev.eventShortId })}
            </li>
          ))}
        </ul>
      )}
    </aside>
  );
}
