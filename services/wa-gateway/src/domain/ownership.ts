import type { Logger } from '@wacrm/observability';
import type { Lease, LeaseStore } from '../data-access/lease.store.js';
import type { AccountSession } from './account-session.js';
import { fairShare, planOwnership } from './fair-share.js';

export interface OwnershipDeps {
  leases: LeaseStore;
  logger: Logger;
  slack: number;
  maxStartupConcurrency: number;
  /** Creates (not starts) the session of a freshly leased account. */
  createSession(
    accountId: string,
    lease: Lease,
    onLost: (s: AccountSession) => void,
  ): AccountSession;
  /** Runs after a session stopped or was lost (closes its command worker). */
  onSessionEnded(session: AccountSession): Promise<void>;
  onSessionStarted(session: AccountSession): void;
}

/**
 * Which accounts this instance holds: leases acquired up to a fair share, renewed every TTL/3,
 * re-acquired after a Redis outage when nobody else took them, handed off when over share.
 */
export class Ownership {
  private readonly known = new Set<string>();
  readonly sessions = new Map<string, AccountSession>();
  private ticking: Promise<void> | null = null;
  private timers: NodeJS.Timeout[] = [];
  private readonly startQueue: AccountSession[] = [];
  private starting = 0;
  private closing = false;
  liveInstances = 1;
  private announced = false;

  constructor(private readonly deps: OwnershipDeps) {}

  get knownAccounts(): number {
    return this.known.size;
  }

  /** Adds accounts found by discovery (Firestore list or the accounts channel). */
  addAccounts(ids: Iterable<string>): boolean {
    let added = false;
    for (const id of ids) {
      if (!this.known.has(id)) {
        this.known.add(id);
        added = true;
      }
    }
    return added;
  }

  start(tickMs: number): void {
    const ttl = this.deps.leases.ttlMs;
    this.timers.push(setInterval(() => void this.tick(), tickMs));
    this.timers.push(setInterval(() => void this.renewAll(), Math.max(100, Math.floor(ttl / 3))));
    for (const t of this.timers) t.unref();
    void this.tick();
  }

  tick(): Promise<void> {
    if (this.closing) return Promise.resolve();
    this.ticking ??= this.tickOnce()
      .catch((error: unknown) =>
        this.deps.logger.warn({ err: error }, 'ownership tick failed (Redis?); retrying next tick'),
      )
      .finally(() => (this.ticking = null));
    return this.ticking;
  }

  private async tickOnce(): Promise<void> {
    const { leases } = this.deps;
    // Heartbeats expire faster than leases, so a dead peer stops counting before its leases free.
    this.liveInstances = await leases.heartbeat(Math.floor(leases.ttlMs / 2));
    if (!this.announced) {
      // The first round only announces this instance, so peers started together see each other
      // before anyone takes a share computed for fewer instances.
      this.announced = true;
      return;
    }
    const ids = [...this.known];
    const holders = await leases.holders(ids);
    const unowned = ids.filter((id) => holders.get(id) === null && !this.sessions.has(id));
    const share = fairShare(ids.length, this.liveInstances, this.deps.slack);
    const plan = planOwnership({
      owned: [...this.sessions.keys()],
      unowned,
      share,
      liveInstances: this.liveInstances,
      maxRelease: this.deps.maxStartupConcurrency,
      shuffle,
    });
    for (const accountId of plan.acquire) {
      if (this.closing) return;
      const lease = await leases.acquire(accountId);
      if (!lease) continue;
      const session = this.deps.createSession(accountId, lease, (s) => void this.lost(s));
      this.sessions.set(accountId, session);
      this.startQueue.push(session);
    }
    this.pumpStarts();
    for (const accountId of plan.release) {
      const session = this.sessions.get(accountId);
      if (!session) continue;
      this.deps.logger.info({ accountId, share }, 'over fair share; handing the account off');
      this.sessions.delete(accountId);
      await session.stop(true);
      await this.deps.onSessionEnded(session);
    }
  }

  /** Starts sessions with bounded concurrency and a little jitter, so a restart is no stampede. */
  private pumpStarts(): void {
    while (this.starting < this.deps.maxStartupConcurrency && this.startQueue.length > 0) {
      const session = this.startQueue.shift()!;
      this.starting += 1;
      const jitter = Math.floor(Math.random() * 100);
      setTimeout(() => {
        session
          .start()
          .then(() => this.deps.onSessionStarted(session))
          .catch((error: unknown) => {
            this.deps.logger.error(
              { err: error, accountId: session.accountId },
              'session start failed; releasing the account for a retry',
            );
            this.sessions.delete(session.accountId);
            void session.stop(true).then(() => this.deps.onSessionEnded(session));
          })
          .finally(() => {
            this.starting -= 1;
            this.pumpStarts();
          });
      }, jitter);
    }
  }

  private async renewAll(): Promise<void> {
    const { leases, logger } = this.deps;
    await Promise.all(
      [...this.sessions.values()].map(async (session) => {
        try {
          if (await leases.renew(session.lease)) return;
          // Expired (e.g. Redis was down past the TTL): take it again if nobody else did.
          const again = await leases.acquire(session.accountId);
          if (again) {
            logger.info(
              { accountId: session.accountId, token: again.token },
              'lease expired but free; re-acquired with a new fencing token',
            );
            session.lease = again;
            return;
          }
          session.leaseLost();
        } catch {
          // Redis unreachable: nobody can take the lease meanwhile; try again next round.
        }
      }),
    );
  }

  private async lost(session: AccountSession): Promise<void> {
    if (this.sessions.get(session.accountId) === session) this.sessions.delete(session.accountId);
    await this.deps.onSessionEnded(session);
  }

  /** SIGTERM: hand every account off (release its lease) so peers take it at once. */
  async stop(): Promise<void> {
    this.closing = true;
    for (const t of this.timers) clearInterval(t);
    await this.ticking;
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(
      sessions.map(async (s) => {
        await s.stop(true);
        await this.deps.onSessionEnded(s);
      }),
    );
    await this.deps.leases.leave().catch(() => undefined);
  }
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
