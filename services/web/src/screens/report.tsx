import { useCallback, useEffect, useState } from 'react';
import type { ExportKind, MonthlyReport } from '../api.js';
import { AccountPicker, useChosenAccount } from './account-picker.js';
import { ErrorNote } from '../components.js';
import { useApp } from '../context.js';
import { formatMoney } from '../format.js';
import type { Lang, Translate } from '../i18n.js';
import { paths } from '../router.js';

type Row = MonthlyReport['byCharacter'][number];
const SERIES = ['booked', 'collected', 'outstanding'] as const;
type Series = (typeof SERIES)[number];
const SERIES_LABEL: Record<Series, 'reportBooked' | 'reportCollected' | 'reportOutstanding'> = {
  booked: 'reportBooked',
  collected: 'reportCollected',
  outstanding: 'reportOutstanding',
};
const EXPORTS: ReadonlyArray<[ExportKind, 'exportBookings' | 'exportPayments' | 'exportClients']> =
  [
    ['bookings', 'exportBookings'],
    ['payments', 'exportPayments'],
    ['clients', 'exportClients'],
  ];

const thisMonth = () =>
  new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Bucharest' }).format(new Date()).slice(0, 7);
const lastDay = (month: string) => {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
};

/**
 * Grouped bars, drawn here (no chart library): per row, booked, collected and outstanding. The
 * figures are also in the table below, so the chart is one image with a text alternative.
 */
export function ReportChart(props: { rows: readonly Row[]; t: Translate; lang: Lang }) {
  const { rows, t, lang } = props;
  const max = Math.max(1, ...rows.flatMap((r) => SERIES.map((s) => r[s])));
  const bar = 18;
  const group = bar * SERIES.length + 16;
  const label = 150;
  const width = 720;
  const plot = width - label - 110;
  const height = rows.length * group + 8;
  const name = (r: Row) => r.name ?? t('none');
  const summary = rows
    .map(
      (r) =>
        `${name(r)}: ${SERIES.map((s) => `${t(SERIES_LABEL[s])} ${formatMoney(lang, r[s])}`).join(', ')}`,
    )
    .join('; ');
  return (
    <figure className="report-figure">
      <svg
        className="report-chart"
        role="img"
        aria-label={`${t('reportChart')}. ${summary}`}
        viewBox={`0 0 ${width} ${height}`}
        width={width}
        height={height}
        data-testid="report-chart"
      >
        {rows.map((r, i) => {
          const y = i * group + 4;
          return (
            <g key={r.key ?? ''} data-key={r.key ?? ''}>
              <text x={label - 8} y={y + (bar * SERIES.length) / 2 + 5} textAnchor="end">
                {name(r)}
              </text>
              {SERIES.map((s, k) => {
                const w = Math.round((r[s] / max) * plot);
                return (
                  <g key={s}>
                    <rect
                      className={`chart-${s}`}
                      x={label}
                      y={y + k * bar}
                      width={w}
                      height={bar - 3}
                      data-series={s}
                      data-value={r[s]}
                    />
                    <text x={label + w + 6} y={y + k * bar + bar - 6} fontSize="12">
                      {formatMoney(lang, r[s])}
                    </text>
                  </g>
                );
              })}
            </g>
          );
        })}
      </svg>
      <figcaption>
        <ul className="chart-legend">
          {SERIES.map((s) => (
            <li key={s}>
              <svg width="14" height="14" aria-hidden="true">
                <rect className={`chart-${s}`} width="14" height="14" />
              </svg>
              {t(SERIES_LABEL[s])}
            </li>
          ))}
        </ul>
      </figcaption>
    </figure>
  );
}

function FiguresTable(props: { title: string; rows: readonly Row[]; testId: string }) {
  const { t, lang } = useApp();
  return (
    <table className="data-table" data-testid={props.testId}>
      <caption>{props.title}</caption>
      <thead>
        <tr>
          <th scope="col">{t('reportName')}</th>
          <th scope="col">{t('reportBookings')}</th>
          {SERIES.map((s) => (
            <th key={s} scope="col" className="money">
              {t(SERIES_LABEL[s])}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.rows.map((r) => (
          <tr key={r.key ?? ''} data-key={r.key ?? ''}>
            <th scope="row">{r.name ?? t('none')}</th>
            <td>{r.bookings}</td>
            {SERIES.map((s) => (
              <td key={s} className="money">
                {formatMoney(lang, r[s])}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Issue 19 item 7: the monthly report, with a chart by character, and the CSV exports. */
export function ReportScreen(props: { accountId: string | null }) {
  const { api, t, lang } = useApp();
  const [month, setMonth] = useState(thisMonth);
  const [report, setReport] = useState<MonthlyReport | null>(null);
  const [error, setError] = useState<unknown>(null);

  const { accounts, accountId } = useChosenAccount(props.accountId, setError);

  const load = useCallback(() => {
    if (accountId === null || !/^\d{4}-\d{2}$/.test(month)) return;
    setError(null);
    setReport(null);
    api.monthlyReport(accountId, month).then(setReport).catch(setError);
  }, [api, accountId, month]);
  useEffect(load, [load]);

  async function download(kind: ExportKind) {
    if (accountId === null) return;
    try {
      const blob = await api.exportCsv(kind, accountId, `${month}-01`, lastDay(month));
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = `${kind}-${month}.csv`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      setError(err);
    }
  }

  return (
    <section className="report" aria-labelledby="report-title">
      <h1 id="report-title">{t('reportTitle')}</h1>
      <div className="toolbar">
        <AccountPicker accounts={accounts} accountId={accountId} pathFor={paths.report} />
        <label>
          {t('reportMonth')}{' '}
          <input type="month" value={month} required onChange={(e) => setMonth(e.target.value)} />
        </label>
        <div role="group" aria-label={t('reportExports')}>
          {EXPORTS.map(([kind, key]) => (
            <button
              key={kind}
              type="button"
              className="secondary"
              onClick={() => void download(kind)}
            >
              {t(key)}
            </button>
          ))}
        </div>
      </div>
      <ErrorNote error={error} onRetry={load} />
      {accountId === null && accounts !== null && <p>{t('noAccounts')}</p>}
      {report === null && error === null && accountId !== null && (
        <p role="status">{t('loading')}</p>
      )}
      {report !== null && (
        <>
          <dl className="kpis" data-testid="report-totals">
            <div className="kpi">
              <dt>{t('reportBookings')}</dt>
              <dd>{report.totals.bookings}</dd>
            </div>
            {SERIES.map((s) => (
              <div className="kpi" key={s} data-testid={`total-${s}`}>
                <dt>{t(SERIES_LABEL[s])}</dt>
                <dd>{formatMoney(lang, report.totals[s])}</dd>
              </div>
            ))}
          </dl>
          {report.totals.bookings === 0 ? (
            <p>{t('reportNoData')}</p>
          ) : (
            <>
              <h2>{t('reportByCharacter')}</h2>
              <ReportChart rows={report.byCharacter} t={t} lang={lang} />
              <FiguresTable
                title={t('reportByCharacter')}
                rows={report.byCharacter}
                testId="by-character"
              />
              <h2>{t('reportByPerformer')}</h2>
              <FiguresTable
                title={t('reportByPerformer')}
                rows={report.byPerformer}
                testId="by-performer"
              />
            </>
          )}
        </>
      )}
    </section>
  );
}
