import { initializeApp, type FirebaseApp } from 'firebase/app';
import {
  browserLocalPersistence,
  connectAuthEmulator,
  initializeAuth,
  signInWithEmailAndPassword,
  signOut,
  type Auth,
  type User,
} from 'firebase/auth';
import type { WebConfig } from './api.js';
import type { Session } from './session-type.js';

type FirebaseConfig = NonNullable<WebConfig['firebase']>;

let instance: { app: FirebaseApp; auth: Auth } | undefined;

function authFor(config: FirebaseConfig): Auth {
  if (instance === undefined) {
    const app = initializeApp({
      apiKey: config.apiKey,
      projectId: config.projectId,
      ...(config.authDomain !== null ? { authDomain: config.authDomain } : {}),
    });
    // No popup/redirect resolver: email and password need no iframe from another origin.
    const auth = initializeAuth(app, { persistence: browserLocalPersistence });
    if (config.emulatorUrl !== null) {
      connectAuthEmulator(auth, config.emulatorUrl, { disableWarnings: true });
    }
    instance = { app, auth };
  }
  return instance.auth;
}

function sessionOf(auth: Auth, user: User): Session {
  return {
    kind: 'firebase',
    label: user.email ?? user.uid,
    // The SDK refreshes the ID token when it is close to expiry.
    token: () => user.getIdToken(),
    signOut: () => signOut(auth),
  };
}

export async function signIn(
  config: FirebaseConfig,
  email: string,
  password: string,
): Promise<Session> {
  const auth = authFor(config);
  const credential = await signInWithEmailAndPassword(auth, email, password);
  return sessionOf(auth, credential.user);
}

export async function restore(config: FirebaseConfig): Promise<Session | null> {
  const auth = authFor(config);
  await auth.authStateReady();
  return auth.currentUser !== null ? sessionOf(auth, auth.currentUser) : null;
}
