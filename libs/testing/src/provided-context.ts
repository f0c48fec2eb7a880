/** What the integration global setup hands to every test file (vitest `provide`/`inject`). */
export interface TestDependencies {
  redisUrl: string;
  firestoreEmulatorHost: string;
  /** Control endpoint of the in-process Firestore emulator (`POST /clear`). */
  firestoreControlUrl: string;
  /** Empty when the run was started with TEST_AUTH_EMULATOR=0. */
  authEmulatorHost: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    deps: TestDependencies;
  }
}
