import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import type { Due, Dues, NewPayment } from '../api.js';
import { AccountPicker, useChosenAccount } from './account-picker.js';
import { ErrorNote, Link } from '../components.js';
import { useApp } from '../context.js';
import { formatCalendarDate, formatMoney } from '../format.js';
import { paths } from '../router.js';

const METHODS = ['cash', 'card', 'transfer', 'other'] as const;

/** Today in Europe/Bucharest (YYYY-MM-DD): the day a payment is recorded for by default. */
const bucharestToday = () =>
  new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Bucharest' }).format(new Date());

/**
 * Issue 19 item 4: the deposits and balances due this week, overdue ones flagged (never
 * removed), each with a form that records a payment on its booking.
 */
export function PaymentsScreen(props: { accountId: string | null }) {
  const { api, t, lang } = useApp();
  const [dues, setDues] = useState<Dues | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  const { accounts, accountId } = useChosenAccount(props.accountId, setError);

  const load = useCallback(() => {
    if (accountId === null) return;
    setError(null);
    api.dues(accountId).then(setDues).catch(setError);
  }, [api, accountId]);
  useEffect(load, [load]);

  const rowKey = (d: Due) => `${d.eventId}:${d.kind}`;
  return (
    <section className="payments" aria-labelledby="payments-title">
      <h1 id="payments-title">{t('paymentsTitle')}</h1>
      <AccountPicker accounts={accounts} accountId={accountId} pathFor={paths.payments} />
      {dues !== null && (
        <h2>
          {t('paymentsWeek', {
            from: formatCalendarDate(lang, dues.from),
            to: formatCalendarDate(lang, dues.to),
          })}
        </h2>
      )}
      <ErrorNote error={error} onRetry={load} />
      {notice !== null && (
        <p role="status" className="notice" data-testid="payment-notice">
          {notice}
        </p>
      )}
      {accountId === null && accounts !== null && <p>{t('noAccounts')}</p>}
      {dues === null && error === null && accountId !== null && <p role="status">{t('loading')}</p>}
      {dues?.items.length === 0 && <p>{t('paymentsNone')}</p>}
      {dues !== null && dues.items.length > 0 && (
        <table className="data-table dues" data-testid="dues">
          <thead>
            <tr>
              <th scope="col">{t('dueDate')}</th>
              <th scope="col">{t('dueBooking')}</th>
              <th scope="col">{t('dueClient')}</th>
              <th scope="col">{t('dueStatus')}</th>
              <th scope="col">{t('dueAmount')}</th>
              <th scope="col">
                <span className="visually-hidden">{t('recordPayment')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {dues.items.map((d) => (
              <tr
                key={rowKey(d)}
                className={d.overdue ? 'overdue' : ''}
                data-testid="due"
                data-event-id={d.eventId}
                data-kind={d.kind}
              >
                <td>{formatCalendarDate(lang, d.dueDate)}</td>
                <td>
                  <Link to={`${paths.client(d.phoneE164)}#event-${d.eventId}`}>
                    {d.eventShortId}
                  </Link>{' '}
                  · {t(`dueKind_${d.kind}`)}
                </td>
                <td>{d.phoneE164}</td>
                <td>
                  {d.overdue ? (
                    <span className="badge overdue-badge">{t('overdue')}</span>
                  ) : (
                    t('onTime')
                  )}
                </td>
                <td className="money">{formatMoney(lang, d.amountDue)}</td>
                <td>
                  {open === rowKey(d) ? (
                    <PaymentForm
                      due={d}
                      onCancel={() => setOpen(null)}
                      onRecorded={(amount) => {
                        setOpen(null);
                        setNotice(
                          t('paymentRecorded', {
                            amount: formatMoney(lang, amount),
                            id: d.eventShortId,
                          }),
                        );
                        load();
                      }}
                    />
                  ) : (
                    <button
                      type="button"
                      className="secondary"
                      onClick={() => {
                        setNotice(null);
                        setOpen(rowKey(d));
                      }}
                    >
                      {t('recordPayment')}
                      <span className="visually-hidden">
                        {' '}
                        {d.eventShortId} {t(`dueKind_${d.kind}`)}
                      </span>
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function PaymentForm(props: { due: Due; onCancel: () => void; onRecorded: (n: number) => void }) {
  const { api, t } = useApp();
  const { due } = props;
  const [amount, setAmount] = useState(String(due.amountDue));
  const [date, setDate] = useState(bucharestToday);
  const [method, setMethod] = useState<NewPayment['method']>('transfer');
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  // One key per payment being recorded: a retry after a lost answer records it once.
  const key = useRef(crypto.randomUUID());

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const value = Number(amount);
      await api.recordPayment(
        due.eventId,
        { amount: value, date, method, note: note.trim() === '' ? null : note.trim() },
        key.current,
      );
      props.onRecorded(value);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form
      className="payment-form"
      onSubmit={(e) => void submit(e)}
      aria-label={t('recordPaymentFor', { id: due.eventShortId })}
    >
      <label>
        {t('paymentAmount')}
        <input
          type="number"
          min="0.01"
          step="0.01"
          required
          value={amount}
          onChange={(e) => setAmount(e.target.value)}
        />
      </label>
      <label>
        {t('paymentDate')}
        <input type="date" required value={date} onChange={(e) => setDate(e.target.value)} />
      </label>
      <label>
        {t('paymentMethod')}
        <select value={method} onChange={(e) => setMethod(e.target.value as NewPayment['method'])}>
          {METHODS.map((m) => (
            <option key={m} value={m}>
              {t(`method_${m}`)}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t('paymentNote')}
        <input value={note} maxLength={500} onChange={(e) => setNote(e.target.value)} />
      </label>
      <button type="submit" disabled={busy}>
        {busy ? t('saving') : t('recordPayment')}
      </button>
      <button type="button" className="secondary" onClick={props.onCancel}>
        {t('cancel')}
      </button>
      <ErrorNote error={error} />
    </form>
  );
}
