import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import type { AccountView, Qr } from '../api.js';
import { ErrorNote, Link } from '../components.js';
import { useApp, useRealtime } from '../context.js';
import { formatTime } from '../format.js';
import { paths } from '../router.js';

const UNPAIRED = new Set(['connecting', 'qr_ready', 'needs_qr']);
/** WhatsApp rotates the QR about every 20 s; refresh well within that while unpaired. */
const QR_REFRESH_MS = 4000;
const HISTORY_REFRESH_MS = 2000;
const MEDIA_REFRESH_MS = 15_000;

export function AccountsScreen() {
  const { api, me, t } = useApp();
  const [accounts, setAccounts] = useState<AccountView[] | null>(null);
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(() => {
    api
      .accounts()
      .then((list) => {
        setAccounts(list);
        setError(null);
      })
      .catch(setError);
  }, [api]);
  useEffect(load, [load]);
  // Thread events during a history sync come in bursts: reload at most every 2 s for them.
  const pending = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(pending.current), []);
  useRealtime({
    event: (e) => {
      if (e.type === 'account.status') load();
      else if (e.type === 'thread.updated' && pending.current === undefined) {
        pending.current = setTimeout(() => {
          pending.current = undefined;
          load();
        }, HISTORY_REFRESH_MS);
      }
    },
    resync: load,
  });
  // History progress and history media have no realtime event of their own: follow them while a
  // sync runs, and more slowly while files are still to fetch (that may take hours).
  const syncing = accounts?.some((a) => a.history.status === 'running') ?? false;
  const fetching = accounts?.some((a) => a.historyMedia.pending > 0) ?? false;
  useEffect(() => {
    if (!syncing && !fetching) return;
    const timer = setInterval(load, syncing ? HISTORY_REFRESH_MS : MEDIA_REFRESH_MS);
    return () => clearInterval(timer);
  }, [syncing, fetching, load]);

  const isAdmin = me.role === 'admin';
  return (
    <section aria-labelledby="accounts-title">
      <h1 id="accounts-title">{t('accountsTitle')}</h1>
      {isAdmin && <AddAccountForm onAdded={load} />}
      <ErrorNote error={error} onRetry={load} />
      {accounts === null && error === null && <p role="status">{t('loading')}</p>}
      {accounts !== null && accounts.length === 0 && <p>{t('noAccounts')}</p>}
      <ul className="cards" aria-label={t('accountsTitle')}>
        {accounts?.map((a) => (
          <AccountCard key={a.id} account={a} isAdmin={isAdmin} onChanged={load} />
        ))}
      </ul>
    </section>
  );
}

function AddAccountForm(props: { onAdded: () => void }) {
  const { api, t } = useApp();
  const [name, setName] = useState('');
  const [phone, setPhone] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const p = phone.trim();
      await api.addAccount(name.trim(), p.length > 0 ? p : undefined);
      setName('');
      setPhone('');
      props.onAdded();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="inline-form" onSubmit={(e) => void submit(e)} aria-label={t('addAccount')}>
      <label>
        {t('accountName')}
        <input required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        {t('accountPhone')}
        <input
          type="tel"
          pattern="\+[1-9][0-9]{6,14}"
          value={phone}
          onChange={(e) => setPhone(e.target.value)}
        />
      </label>
      <button type="submit" disabled={busy}>
        {busy ? t('adding') : t('addAccount')}
      </button>
      <ErrorNote error={error} />
    </form>
  );
}

/** "History media: 120 of 340 stored · 3 failed": files of the history, fetched after live ones. */
function HistoryMediaLine({ media }: { media: AccountView['historyMedia'] }) {
  const { t } = useApp();
  const parts = [
    t('historyMedia', { stored: media.stored, total: media.total }),
    ...(media.pending > 0 ? [t('historyMediaPending', { count: media.pending })] : []),
    ...(media.failed > 0 ? [t('historyMediaFailed', { count: media.failed })] : []),
    ...(media.expired > 0 ? [t('historyMediaExpired', { count: media.expired })] : []),
  ];
  return (
    <div className="history" data-testid="history-media">
      <span>{parts.join(' · ')}</span>
      {media.pending > 0 && (
        <progress max={media.total} value={media.total - media.pending} aria-label={parts[0]} />
      )}
    </div>
  );
}

function AccountCard(props: { account: AccountView; isAdmin: boolean; onChanged: () => void }) {
  const { api, t } = useApp();
  const a = props.account;
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [pairingPhone, setPairingPhone] = useState(a.phone ?? '');
  const unpaired = UNPAIRED.has(a.status);

  const run = async (action: () => Promise<unknown>) => {
    setError(null);
    setNotice(null);
    try {
      await action();
      setNotice(t('commandQueued'));
      props.onChanged();
    } catch (err) {
      setError(err);
    }
  };

  const titleId = `acc-${a.id}`;
  const h = a.history;
  return (
    <li className="card" aria-labelledby={titleId} data-account-id={a.id}>
      <div className="card-head">
        <h2 id={titleId}>{a.name}</h2>
        <span className={`badge status-${a.status}`} data-testid="account-status">
          <span className="visually-hidden">{t('status')}: </span>
          {t(`status_${a.status}`)}
        </span>
      </div>
      {a.phone !== null && <p className="muted">{a.phone}</p>}
      {a.lastError !== null && a.status !== 'connected' && (
        <p className="muted">{t('lastError', { error: a.lastError })}</p>
      )}

      {unpaired && <QrPanel accountId={a.id} name={a.name} />}

      <div className="history">
        <span>
          {t('historySync')}: {t(`history_${h.status}`)}
          {h.status !== 'idle' &&
            ` · ${t('historyCounts', { threads: h.threads, messages: h.messages })}`}
        </span>
        {h.status === 'running' && (
          <progress
            max={100}
            {...(h.percent !== null ? { value: h.percent } : {})}
            aria-label={t('historySync')}
          />
        )}
      </div>
      {a.historyMedia.total > 0 && <HistoryMediaLine media={a.historyMedia} />}

      <div className="actions">
        {a.status === 'connected' && (
          <Link to={paths.inbox(a.id)} className="button">
            {t('openInbox')}
          </Link>
        )}
        {a.status !== 'connected' && (
          <button type="button" onClick={() => void run(() => api.regenerateQr(a.id))}>
            {t('regenerateQr')}
          </button>
        )}
        {a.status === 'connected' && (
          <button
            type="button"
            className="secondary"
            onClick={() => void run(() => api.backfill(a.id))}
          >
            {t('syncHistory')}
          </button>
        )}
        {props.isAdmin && a.status === 'connected' && (
          <button
            type="button"
            className="secondary"
            onClick={() => {
              if (window.confirm(t('logoutConfirm', { name: a.name }))) {
                void run(() => api.logout(a.id));
              }
            }}
          >
            {t('logout')}
          </button>
        )}
      </div>

      {unpaired && (
        <details className="pairing">
          <summary>{t('pairingCodeTitle')}</summary>
          <form
            className="inline-form"
            aria-label={t('pairingCodeTitle')}
            onSubmit={(e) => {
              e.preventDefault();
              void run(() => api.requestPairingCode(a.id, pairingPhone.trim()));
            }}
          >
            <label>
              {t('pairingPhone')}
              <input
                type="tel"
                required
                pattern="\+[1-9][0-9]{6,14}"
                value={pairingPhone}
                onChange={(e) => setPairingPhone(e.target.value)}
              />
            </label>
            <button type="submit" className="secondary">
              {t('requestPairingCode')}
            </button>
          </form>
        </details>
      )}
      {notice !== null && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <ErrorNote error={error} />
    </li>
  );
}

/** The QR as an image, fetched again until the account is paired. */
function QrPanel(props: { accountId: string; name: string }) {
  const { api, t, lang } = useApp();
  const [qr, setQr] = useState<Qr | null>(null);
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(() => {
    api
      .qr(props.accountId)
      .then((q) => {
        setQr(q);
        setError(null);
      })
      .catch(setError);
  }, [api, props.accountId]);

  useEffect(() => {
    load();
    const timer = setInterval(load, QR_REFRESH_MS);
    return () => clearInterval(timer);
  }, [load]);
  useRealtime({
    event: (e) => {
      if (e.type === 'account.status' && e.accountId === props.accountId) load();
    },
  });

  return (
    <div className="qr" aria-live="polite">
      {qr?.qrDataUrl != null ? (
        <>
          <img src={qr.qrDataUrl} width={220} height={220} alt={t('qrAlt', { name: props.name })} />
          <p className="hint">{t('qrHelp')}</p>
          {qr.expiresAt !== null && (
            <p className="muted small">
              {t('qrExpires', { time: formatTime(lang, qr.expiresAt) })}
            </p>
          )}
        </>
      ) : (
        <p role="status">{t('qrWaiting')}</p>
      )}
      {qr?.pairingCode != null && (
        <p className="pairing-code" data-testid="pairing-code">
          {t('pairingCodeIs', { code: qr.pairingCode })}
        </p>
      )}
      <ErrorNote error={error} onRetry={load} />
    </div>
  );
}
