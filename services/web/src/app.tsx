import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { ApiError, createApi, fetchWebConfig, type Me, type WebConfig } from './api.js';
import { ErrorNote, Link } from './components.js';
import { AppContext, type AppContextValue, type RealtimeListener } from './context.js';
import { isLang, LANG_STORAGE_KEY, translate, type Lang, type Translate } from './i18n.js';
import { connectRealtime, type ConnectionState } from './realtime.js';
import { navigate, paths, useRoute } from './router.js';
import { AccountsScreen } from './screens/accounts.js';
import { CalendarScreen } from './screens/calendar.js';
import { ChatScreen } from './screens/chat.js';
import { ClientScreen } from './screens/client.js';
import { InboxScreen } from './screens/inbox.js';
import { PaymentsScreen } from './screens/payments.js';
import { ReportScreen } from './screens/report.js';
import { ClientsScreen } from './screens/clients.js';
import { SignInScreen } from './screens/sign-in.js';
import { restoreAdminTokenSession, restoreFirebaseSession, type Session } from './session.js';

function initialLang(): Lang {
  const stored = localStorage.getItem(LANG_STORAGE_KEY);
  return isLang(stored) ? stored : 'ro';
}

export function App() {
  const [lang, setLang] = useState<Lang>(initialLang);
  const t: Translate = useCallback((key, params) => translate(lang, key, params), [lang]);
  const [config, setConfig] = useState<WebConfig | null>(null);
  const [configError, setConfigError] = useState<unknown>(null);
  const [session, setSession] = useState<Session | null>(null);
  const [restoring, setRestoring] = useState(true);
  const [notice, setNotice] = useState<string | null>(null);

  useEffect(() => {
    document.documentElement.lang = lang;
    localStorage.setItem(LANG_STORAGE_KEY, lang);
  }, [lang]);

  const loadConfig = useCallback(() => {
    setConfigError(null);
    fetchWebConfig()
      .then(async (c) => {
        setConfig(c);
        const restored =
          restoreAdminTokenSession() ??
          (c.firebase !== null ? await restoreFirebaseSession(c.firebase) : null);
        setSession(restored);
      })
      .catch(setConfigError)
      .finally(() => setRestoring(false));
  }, []);
  useEffect(loadConfig, [loadConfig]);

  const endSession = useCallback(
    async (expired: boolean) => {
      await session?.signOut();
      setSession(null);
      setNotice(expired ? t('sessionExpired') : null);
    },
    [session, t],
  );

  const languageSwitch = (
    <span className="lang">
      <label htmlFor="lang-select">{t('language')}</label>
      <select
        id="lang-select"
        value={lang}
        onChange={(e) => isLang(e.target.value) && setLang(e.target.value)}
      >
        <option value="ro" lang="ro">
          Română
        </option>
        <option value="en" lang="en">
          English
        </option>
      </select>
    </span>
  );

  if (restoring) {
    return (
      <main id="main" className="centered">
        <p role="status">{t('loading')}</p>
      </main>
    );
  }
  if (config === null || session === null) {
    return (
      <SignInScreen
        t={t}
        config={config}
        configError={configError}
        onRetryConfig={loadConfig}
        notice={notice}
        languageSwitch={languageSwitch}
        onSignedIn={(s) => {
          setNotice(null);
          setSession(s);
        }}
      />
    );
  }
  return (
    <SignedIn
      key={session.label}
      session={session}
      lang={lang}
      t={t}
      languageSwitch={languageSwitch}
      onSignOut={(expired) => void endSession(expired)}
    />
  );
}

function SignedIn(props: {
  session: Session;
  lang: Lang;
  t: Translate;
  languageSwitch: ReactNode;
  onSignOut: (expired: boolean) => void;
}) {
  const { session, lang, t, onSignOut } = props;
  const api = useMemo(() => createApi(session.token), [session]);
  const [me, setMe] = useState<Me | null>(null);
  const [meError, setMeError] = useState<unknown>(null);
  const [connection, setConnection] = useState<ConnectionState>('connecting');
  const listeners = useRef(new Set<RealtimeListener>());
  const signOutRef = useRef(onSignOut);
  signOutRef.current = onSignOut;

  const loadMe = useCallback(() => {
    setMeError(null);
    api
      .me()
      .then(setMe)
      .catch((error: unknown) => {
        if (error instanceof ApiError && error.status === 401) signOutRef.current(true);
        else setMeError(error);
      });
  }, [api]);
  useEffect(loadMe, [loadMe]);

  useEffect(
    () =>
      connectRealtime({
        token: session.token,
        onEvent: (event) => listeners.current.forEach((l) => l.event?.(event)),
        onResync: () => listeners.current.forEach((l) => l.resync?.()),
        onState: setConnection,
        onUnauthorized: () => signOutRef.current(true),
      }),
    [session],
  );

  const subscribe = useCallback((listener: RealtimeListener) => {
    listeners.current.add(listener);
    return () => void listeners.current.delete(listener);
  }, []);

  const route = useRoute();
  const context: AppContextValue | null = useMemo(
    () => (me !== null ? { api, me, lang, t, subscribe } : null),
    [api, me, lang, t, subscribe],
  );

  const current = route.name === 'chat' || route.name === 'client' ? 'inbox' : route.name;
  return (
    <>
      <a className="skip" href="#main">
        {t('skipToContent')}
      </a>
      <header className="topbar">
        <span className="brand">{t('appName')}</span>
        <nav aria-label={t('navMain')}>
          <ul>
            <li>
              <Link to={paths.accounts()} {...(current === 'accounts' ? { current: true } : {})}>
                {t('navAccounts')}
              </Link>
            </li>
            <li>
              <Link to={paths.inbox()} {...(current === 'inbox' ? { current: true } : {})}>
                {t('navInbox')}
              </Link>
            </li>
            <li>
              <Link to={paths.calendar()} {...(current === 'calendar' ? { current: true } : {})}>
                {t('navCalendar')}
              </Link>
            </li>
            <li>
              <Link to={paths.payments()} {...(current === 'payments' ? { current: true } : {})}>
                {t('navPayments')}
              </Link>
            </li>
            <li>
              <Link to={paths.report()} {...(current === 'report' ? { current: true } : {})}>
                {t('navReport')}
              </Link>
            </li>
            <li>
              <Link to={paths.clients()} {...(current === 'clients' ? { current: true } : {})}>
                {t('navClients')}
              </Link>
            </li>
          </ul>
        </nav>
        <span
          className={`conn conn-${connection}`}
          role="status"
          aria-live="polite"
          data-testid="connection"
        >
          <span aria-hidden="true">●</span>
          <span className={connection === 'live' ? 'visually-hidden' : ''}>
            {connection === 'live' ? t('live') : t('reconnecting')}
          </span>
        </span>
        {props.languageSwitch}
        <button type="button" className="secondary" onClick={() => onSignOut(false)}>
          {t('signOut')}
          <span className="visually-hidden"> ({session.label})</span>
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {context === null ? (
          meError !== null ? (
            <ErrorNote error={meError} onRetry={loadMe} />
          ) : (
            <p role="status">{t('loading')}</p>
          )
        ) : (
          <AppContext.Provider value={context}>
            {route.name === 'accounts' && <AccountsScreen />}
            {route.name === 'inbox' && <InboxScreen accountId={route.accountId} />}
            {route.name === 'chat' && <ChatScreen key={route.threadId} threadId={route.threadId} />}
            {route.name === 'calendar' && (
              <CalendarScreen key={route.accountId ?? ''} accountId={route.accountId} />
            )}
            {route.name === 'payments' && (
              <PaymentsScreen key={route.accountId ?? ''} accountId={route.accountId} />
            )}
            {route.name === 'report' && (
              <ReportScreen key={route.accountId ?? ''} accountId={route.accountId} />
            )}
            {route.name === 'clients' && <ClientsScreen />}
            {route.name === 'client' && (
              <ClientScreen key={route.phoneE164} phoneE164={route.phoneE164} />
            )}
            {route.name === 'not-found' && (
              <section>
                <h1>{t('notFound')}</h1>
                <button type="button" onClick={() => navigate(paths.accounts())}>
                  {t('navAccounts')}
                </button>
              </section>
            )}
          </AppContext.Provider>
        )}
      </main>
    </>
  );
}
