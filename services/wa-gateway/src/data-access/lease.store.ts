import type { Redis } from 'ioredis';

/** The lease on one account: who holds it and with which fencing token. */
export interface Lease {
  accountId: string;
  token: number;
}

/** Raised when a fenced write finds the lease gone or held by someone else. */
export class LeaseLostError extends Error {
  constructor(accountId: string, token: number) {
    super(`lease on account ${accountId} (token ${token}) is no longer held by this instance`);
    this.name = 'LeaseLostError';
  }
}

// Takes the lease only when free; the token comes from a counter that survives the lease, so it
// only ever grows and a stale writer's token is always smaller than the current one.
const ACQUIRE = `
if redis.call('exists', KEYS[1]) == 1 then return 0 end
local token = redis.call('incr', KEYS[2])
redis.call('set', KEYS[1], ARGV[1] .. '|' .. token, 'PX', ARGV[2])
return token`;

const RENEW = `
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('pexpire', KEYS[1], ARGV[2])
  return 1
end
return 0`;

const RELEASE = `
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0`;

const HOLDS = `return redis.call('get', KEYS[1]) == ARGV[1] and 1 or 0`;

/**
 * Account leases and instance heartbeats in Redis. Every check-and-act runs as one Lua script,
 * so it is atomic on the server regardless of how many gateways race.
 */
export class LeaseStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    readonly instanceId: string,
    readonly ttlMs: number,
  ) {}

  private leaseKey(accountId: string): string {
    return `${this.prefix}:wa:lease:${accountId}`;
  }

  private value(lease: Lease): string {
    return `${this.instanceId}|${lease.token}`;
  }

  async acquire(accountId: string): Promise<Lease | null> {
    const token = (await this.redis.eval(
      ACQUIRE,
      2,
      this.leaseKey(accountId),
      `${this.prefix}:wa:fence:${accountId}`,
      this.instanceId,
      String(this.ttlMs),
    )) as number;
    return token > 0 ? { accountId, token } : null;
  }

  async renew(lease: Lease): Promise<boolean> {
    const ok = await this.redis.eval(
      RENEW,
      1,
      this.leaseKey(lease.accountId),
      this.value(lease),
      String(this.ttlMs),
    );
    return ok === 1;
  }

  async release(lease: Lease): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.leaseKey(lease.accountId), this.value(lease));
  }

  /** The fencing check run immediately before every auth-state or status write. */
  async assertHeld(lease: Lease): Promise<void> {
    const held = await this.redis.eval(HOLDS, 1, this.leaseKey(lease.accountId), this.value(lease));
    if (held !== 1) throw new LeaseLostError(lease.accountId, lease.token);
  }

  /**
   * The fencing check before an auth-state write: refuses (LeaseLostError) when Redis says the
   * lease is gone or someone else's. When Redis cannot be asked, the write goes ahead: nobody can
   * take a lease while Redis is down, and the auth-state store refuses a writer older than the
   * token the newest owner claimed there — so Signal keys stay durable through a Redis outage
   * instead of living only in memory until it ends. Returns whether Redis answered.
   */
  async assertNotLost(lease: Lease): Promise<boolean> {
    let held: unknown;
    try {
      held = await this.redis.eval(HOLDS, 1, this.leaseKey(lease.accountId), this.value(lease));
    } catch {
      return false;
    }
    if (held !== 1) throw new LeaseLostError(lease.accountId, lease.token);
    return true;
  }

  /** Holder ("instance|token") of each account's lease, null when free. */
  async holders(accountIds: readonly string[]): Promise<Map<string, string | null>> {
    const result = new Map<string, string | null>();
    if (accountIds.length === 0) return result;
    const values = await this.redis.mget(...accountIds.map((id) => this.leaseKey(id)));
    accountIds.forEach((id, i) => result.set(id, values[i] ?? null));
    return result;
  }

  /** Announces this instance alive until `now + ttl`; returns how many instances are alive. */
  async heartbeat(aliveForMs: number, now = Date.now()): Promise<number> {
    const key = `${this.prefix}:wa:instances`;
    const [, , count] = (await this.redis
      .multi()
      .zadd(key, now + aliveForMs, this.instanceId)
      .zremrangebyscore(key, '-inf', now)
      .zcard(key)
      .exec()) as Array<[Error | null, unknown]>;
    return Number(count?.[1] ?? 1);
  }

  async leave(): Promise<void> {
    await this.redis.zrem(`${this.prefix}:wa:instances`, this.instanceId);
  }
}
