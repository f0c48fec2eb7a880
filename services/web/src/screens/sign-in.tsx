import { useState, type FormEvent, type ReactNode } from 'react';
import { ApiError, createApi, type WebConfig } from '../api.js';
import { describeError, ErrorNote } from '../components.js';
import type { Translate } from '../i18n.js';
import { adminTokenSession, firebaseSignIn, type Session } from '../session.js';

export function SignInScreen(props: {
  t: Translate;
  config: WebConfig | null;
  configError: unknown;
  onRetryConfig: () => void;
  notice: string | null;
  languageSwitch: ReactNode;
  onSignedIn: (session: Session) => void;
}) {
  const { t, config } = props;
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState<'firebase' | 'token' | null>(null);
  const [error, setError] = useState<string | null>(null);

  const firebase = config?.firebase ?? null;

  async function submitFirebase(e: FormEvent) {
    e.preventDefault();
    if (firebase === null) return;
    setBusy('firebase');
    setError(null);
    try {
      props.onSignedIn(await firebaseSignIn(firebase, email.trim(), password));
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      setError(
        typeof code === 'string' && code.startsWith('auth/')
          ? t('invalidCredentials')
          : describeError(err),
      );
    } finally {
      setBusy(null);
    }
  }

  async function submitToken(e: FormEvent) {
    e.preventDefault();
    const value = token.trim();
    setBusy('token');
    setError(null);
    try {
      // Checked before it is kept, so a typo never becomes a stored session.
      await createApi(() => Promise.resolve(value)).me();
      props.onSignedIn(adminTokenSession(value));
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 401
          ? t('invalidCredentials')
          : describeError(err),
      );
    } finally {
      setBusy(null);
    }
  }

  return (
    <main id="main" className="signin">
      <div className="signin-card">
        <div className="signin-head">
          <h1>{t('appName')}</h1>
          {props.languageSwitch}
        </div>
        <h2>{t('signInTitle')}</h2>
        {props.notice !== null && (
          <p className="notice" role="status">
            {props.notice}
          </p>
        )}
        {props.configError !== null && (
          <ErrorNote error={props.configError} onRetry={props.onRetryConfig} />
        )}
        {error !== null && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        {firebase !== null && (
          <form onSubmit={(e) => void submitFirebase(e)} aria-labelledby="fb-title">
            <p id="fb-title">{t('signInIntro')}</p>
            <label>
              {t('email')}
              <input
                type="email"
                autoComplete="username"
                required
                value={email}
                onChange={(e) => setEmail(e.target.value)}
              />
            </label>
            <label>
              {t('password')}
              <input
                type="password"
                autoComplete="current-password"
                required
                value={password}
                onChange={(e) => setPassword(e.target.value)}
              />
            </label>
            <button type="submit" disabled={busy !== null}>
              {busy === 'firebase' ? t('signingIn') : t('signIn')}
            </button>
          </form>
        )}
        {config?.adminTokenSignIn === true && (
          <form onSubmit={(e) => void submitToken(e)} aria-labelledby="token-title">
            <h3 id="token-title">{t('adminTokenTitle')}</h3>
            <p className="hint">{t('adminTokenIntro')}</p>
            <label>
              {t('adminToken')}
              <input
                type="password"
                autoComplete="off"
                required
                value={token}
                onChange={(e) => setToken(e.target.value)}
              />
            </label>
            <button type="submit" disabled={busy !== null}>
              {busy === 'token' ? t('signingIn') : t('signInWithToken')}
            </button>
          </form>
        )}
        {config !== null && firebase === null && !config.adminTokenSignIn && (
          <p className="error">{t('noSignInMethod')}</p>
        )}
      </div>
    </main>
  );
}
