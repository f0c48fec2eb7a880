import type { TokenSource } from './api.js';

/** Who is signed in and how to get a fresh bearer token for each request. */
export interface Session {
  kind: 'admin-token' | 'firebase';
  label: string;
  token: TokenSource;
  signOut: () => Promise<void>;
}
