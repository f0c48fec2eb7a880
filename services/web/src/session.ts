import type { WebConfig } from './api.js';
import type { Session } from './session-type.js';

export type { Session };

// Per tab, gone when the tab closes: the bootstrap token is a full admin credential.
const ADMIN_TOKEN_KEY = 'wacrm.adminToken';

export function adminTokenSession(token: string): Session {
  sessionStorage.setItem(ADMIN_TOKEN_KEY, token);
  return {
    kind: 'admin-token',
    label: 'admin',
    token: () => Promise.resolve(token),
    signOut: () => {
      sessionStorage.removeItem(ADMIN_TOKEN_KEY);
      return Promise.resolve();
    },
  };
}

export function restoreAdminTokenSession(): Session | null {
  const token = sessionStorage.getItem(ADMIN_TOKEN_KEY);
  return token !== null && token.length > 0 ? adminTokenSession(token) : null;
}

type FirebaseConfig = NonNullable<WebConfig['firebase']>;

// The Firebase SDK is loaded only when Firebase sign-in is configured, keeping the main bundle small.
const loadFirebase = () => import('./firebase-auth.js');

export async function firebaseSignIn(
  config: FirebaseConfig,
  email: string,
  password: string,
): Promise<Session> {
  return (await loadFirebase()).signIn(config, email, password);
}

export async function restoreFirebaseSession(config: FirebaseConfig): Promise<Session | null> {
  return (await loadFirebase()).restore(config);
}
