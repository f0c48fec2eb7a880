import { expect } from 'vitest';
import { expectEventually } from '@wacrm/testing';
import type {
  AuthChange,
  AuthStateStore,
  BeforeWrite,
} from '../src/data-access/auth-state.store.js';

/**
 * The Firestore auth-state store as a process sees it: each commit takes `latencyMs`, and after
 * `kill()` nothing more reaches Firestore, as when the process is SIGKILLed; with `failing` every
 * write fails. Counts commits.
 */
export class KillableStore implements AuthStateStore {
  readonly kind = 'firestore';
  latencyMs = 0;
  commits = 0;
  keyWrites = 0;
  credsWrites = 0;
  private dead = false;
  constructor(private readonly inner: AuthStateStore) {}
  kill(): void {
    this.dead = true;
  }
  load(accountId: string) {
    return this.inner.load(accountId);
  }
  claim(accountId: string, token: number) {
    return this.inner.claim(accountId, token);
  }
  /** While set, every write fails, as while the store cannot be reached; counted in `refused`. */
  failing = false;
  refused = 0;
  /** Names of the keys whose writes were refused. */
  readonly refusedKeys = new Set<string>();
  async write(accountId: string, token: number, change: AuthChange, beforeWrite: BeforeWrite) {
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    if (this.dead) return new Promise<void>(() => undefined);
    if (this.failing) {
      this.refused += 1;
      for (const [name] of change.keys) this.refusedKeys.add(name);
      throw new Error('auth-state store unreachable (test)');
    }
    this.commits += Math.max(1, Math.ceil(change.keys.length / 450));
    this.keyWrites += change.keys.length;
    if (change.creds !== null) this.credsWrites += 1;
    this.inflight += 1;
    try {
      await this.inner.write(accountId, token, change, beforeWrite);
    } finally {
      this.inflight -= 1;
    }
  }
  inflight = 0;

  /** Resolves once no write is in flight and none started for 500 ms. */
  async quiet(): Promise<void> {
    await expectEventually(async () => {
      const before = this.commits;
      await new Promise((r) => setTimeout(r, 500));
      expect(this.inflight).toBe(0);
      expect(this.commits).toBe(before);
    });
  }
  wipe(accountId: string, token: number, revoked: boolean, beforeWrite: BeforeWrite) {
    return this.inner.wipe(accountId, token, revoked, beforeWrite);
  }
  health() {
    return this.inner.health();
  }
}
