import { useCallback, useEffect, useState } from 'react';
import type { ClientList, ClientListQuery } from '../api.js';
import { ErrorNote, Link } from '../components.js';
import { useApp } from '../context.js';
import { formatCalendarDate, formatMoney } from '../format.js';
import { paths } from '../router.js';

type Sort = NonNullable<ClientListQuery['sort']>;
const SORTS: readonly Sort[] = [
  'name',
  'bookings',
  'spend',
  'outstanding',
  'lastBooking',
  'nextBooking',
];
const PAGE_SIZE = 25;

/**
 * Issue 19 item 8: every client the caller may see, searched (case and diacritics ignored),
 * sorted and paged by the server; a row opens the client's profile.
 */
export function ClientsScreen() {
  const { api, t, lang } = useApp();
  const [typed, setTyped] = useState('');
  const [q, setQ] = useState('');
  const [sort, setSort] = useState<Sort>('name');
  const [order, setOrder] = useState<'asc' | 'desc'>('asc');
  const [page, setPage] = useState(1);
  const [list, setList] = useState<ClientList | null>(null);
  const [error, setError] = useState<unknown>(null);

  // The search waits for a pause in typing, and starts again at the first page.
  useEffect(() => {
    const timer = setTimeout(() => {
      setQ(typed.trim());
      setPage(1);
    }, 250);
    return () => clearTimeout(timer);
  }, [typed]);

  const load = useCallback(() => {
    let live = true;
    setError(null);
    api
      .clients({ sort, order, page, pageSize: PAGE_SIZE, ...(q !== '' ? { q } : {}) })
      .then((l) => live && setList(l))
      .catch((err: unknown) => live && setError(err));
    return () => {
      live = false;
    };
  }, [api, q, sort, order, page]);
  useEffect(load, [load]);

  const pages = list === null ? 1 : Math.max(1, Math.ceil(list.total / PAGE_SIZE));
  const date = (d: string | null) => (d === null ? t('none') : formatCalendarDate(lang, d));
  return (
    <section className="clients" aria-labelledby="clients-title">
      <h1 id="clients-title">{t('clientsTitle')}</h1>
      <div className="toolbar">
        <label>
          {t('clientsSearch')}{' '}
          <input
            type="search"
            value={typed}
            maxLength={100}
            onChange={(e) => setTyped(e.target.value)}
          />
        </label>
        <label>
          {t('clientsSort')}{' '}
          <select
            value={sort}
            onChange={(e) => {
              setSort(e.target.value as Sort);
              setPage(1);
            }}
          >
            {SORTS.map((s) => (
              <option key={s} value={s}>
                {t(`clientsSort_${s}`)}
              </option>
            ))}
          </select>
        </label>
        <button
          type="button"
          className="secondary"
          aria-pressed={order === 'desc'}
          onClick={() => {
            setOrder(order === 'asc' ? 'desc' : 'asc');
            setPage(1);
          }}
        >
          {order === 'asc' ? '↑' : '↓'} <span className="visually-hidden">{t('clientsSort')}</span>
        </button>
      </div>
      <ErrorNote error={error} onRetry={load} />
      {list === null && error === null && <p role="status">{t('loading')}</p>}
      {list?.items.length === 0 && <p>{t('clientsNone')}</p>}
      {list !== null && list.items.length > 0 && (
        <table className="data-table" data-testid="clients">
          <thead>
            <tr>
              <th scope="col">{t('clientsSort_name')}</th>
              <th scope="col">{t('clientsPhone')}</th>
              <th scope="col">{t('clientsSort_bookings')}</th>
              <th scope="col" className="money">
                {t('clientsSort_spend')}
              </th>
              <th scope="col" className="money">
                {t('clientsSort_outstanding')}
              </th>
              <th scope="col">{t('clientsSort_lastBooking')}</th>
              <th scope="col">{t('clientsSort_nextBooking')}</th>
            </tr>
          </thead>
          <tbody>
            {list.items.map((c) => (
              <tr key={c.phoneE164} data-testid="client-row" data-phone={c.phoneE164}>
                <th scope="row">
                  <Link to={paths.client(c.phoneE164)}>{c.displayName ?? c.phoneE164}</Link>
                </th>
                <td>{c.phoneE164}</td>
                <td>{c.bookings}</td>
                <td className="money">{formatMoney(lang, c.spend)}</td>
                <td className="money">{formatMoney(lang, c.outstanding)}</td>
                <td>{date(c.lastBooking)}</td>
                <td>{date(c.nextBooking)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {list !== null && pages > 1 && (
        <nav className="toolbar" aria-label={t('clientsPage', { page })}>
          <button
            type="button"
            className="secondary"
            disabled={page <= 1}
            onClick={() => setPage(page - 1)}
          >
            {t('previousPage')}
          </button>
          <span aria-live="polite">
            {t('clientsPage', { page })} / {pages}
          </span>
          <button
            type="button"
            className="secondary"
            disabled={page >= pages}
            onClick={() => setPage(page + 1)}
          >
            {t('nextPage')}
          </button>
        </nav>
      )}
    </section>
  );
}
