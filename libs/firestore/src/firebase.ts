import { cert, deleteApp, initializeApp, type App, type AppOptions } from 'firebase-admin/app';
import { getAuth, type Auth } from 'firebase-admin/auth';
import { getFirestore, type Firestore } from 'firebase-admin/firestore';

export interface FirebaseOptions {
  projectId: string;
  /** `host:port` of a Firestore emulator; takes precedence over credentials. */
  firestoreEmulatorHost?: string;
  authEmulatorHost?: string;
  /** A service-account JSON document. */
  serviceAccountJson?: string;
  /** Path to a service-account file (Application Default Credentials). */
  googleApplicationCredentials?: string;
  /** Distinguishes several apps in one process (tests). */
  appName?: string;
}

export interface Firebase {
  app: App;
  db: Firestore;
  auth: Auth;
  close(): Promise<void>;
}

let appCounter = 0;

/**
 * Initialises firebase-admin against an emulator or real credentials. firebase-admin reads the
 * emulator hosts from the environment, so they are set here, from parsed config, before use.
 */
export function initFirebase(options: FirebaseOptions): Firebase {
  const appOptions: AppOptions = { projectId: options.projectId };
  if (options.firestoreEmulatorHost === undefined) {
    if (options.serviceAccountJson !== undefined) {
      appOptions.credential = cert(
        JSON.parse(options.serviceAccountJson) as Record<string, string>,
      );
    } else if (options.googleApplicationCredentials !== undefined) {
      appOptions.credential = cert(options.googleApplicationCredentials);
    }
  }
  if (options.authEmulatorHost !== undefined) {
    // eslint-disable-next-line no-restricted-properties -- firebase-admin only reads it from env
    process.env.FIREBASE_AUTH_EMULATOR_HOST = options.authEmulatorHost;
  }
  appCounter += 1;
  const app = initializeApp(appOptions, options.appName ?? `wacrm-${process.pid}-${appCounter}`);
  const db = getFirestore(app);
  if (options.firestoreEmulatorHost !== undefined) {
    db.settings({
      host: options.firestoreEmulatorHost,
      ssl: false,
      ignoreUndefinedProperties: false,
    });
  }
  return {
    app,
    db,
    auth: getAuth(app),
    async close() {
      await db.terminate();
      await deleteApp(app);
    },
  };
}

/** The Firebase settings of BaseEnv (libs/config). */
export interface FirebaseEnv {
  FIREBASE_PROJECT_ID: string;
  FIRESTORE_EMULATOR_HOST?: string | undefined;
  FIREBASE_AUTH_EMULATOR_HOST?: string | undefined;
  FIREBASE_SERVICE_ACCOUNT_JSON?: string | undefined;
  GOOGLE_APPLICATION_CREDENTIALS?: string | undefined;
}

/** `initFirebase` from a service's parsed environment. */
export function initFirebaseFromEnv(env: FirebaseEnv): Firebase {
  return initFirebase({
    projectId: env.FIREBASE_PROJECT_ID,
    ...(env.FIRESTORE_EMULATOR_HOST !== undefined
      ? { firestoreEmulatorHost: env.FIRESTORE_EMULATOR_HOST }
      : {}),
    ...(env.FIREBASE_AUTH_EMULATOR_HOST !== undefined
      ? { authEmulatorHost: env.FIREBASE_AUTH_EMULATOR_HOST }
      : {}),
    ...(env.FIREBASE_SERVICE_ACCOUNT_JSON !== undefined
      ? { serviceAccountJson: env.FIREBASE_SERVICE_ACCOUNT_JSON }
      : {}),
    ...(env.GOOGLE_APPLICATION_CREDENTIALS !== undefined
      ? { googleApplicationCredentials: env.GOOGLE_APPLICATION_CREDENTIALS }
      : {}),
  });
}
