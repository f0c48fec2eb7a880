import type { Redis } from 'ioredis';

// Keeps the highest fencing token seen per account; for account state, also the newest
// observation of that owner, so a retried or reordered older state never wins.
const FENCE_SCRIPT = `
local token = tonumber(ARGV[1])
local at = tonumber(ARGV[2])
local isState = ARGV[3] == '1'
local current = tonumber(redis.call('HGET', KEYS[1], 'token') or '-1')
if token < current then return 0 end
if token > current then
  redis.call('HSET', KEYS[1], 'token', token, 'stateAt', -1)
end
if isState then
  local stateAt = tonumber(redis.call('HGET', KEYS[1], 'stateAt') or '-1')
  if at < stateAt then return 0 end
  redis.call('HSET', KEYS[1], 'stateAt', at)
end
return 1
`;

export type FenceVerdict = 'current' | 'stale';

/** Fencing tokens of the wa-gateway owners, tracked in Redis per account. */
export class AccountFence {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(accountId: string): string {
    return `${this.prefix}:ingest:fence:${accountId}`;
  }

  /**
   * Records `token` and says whether it is still the newest. For account state (`isState`),
   * an older observation from the same owner is stale as well.
   */
  async check(
    accountId: string,
    token: number,
    observedAt: string,
    isState: boolean,
  ): Promise<FenceVerdict> {
    const ok = await this.redis.eval(
      FENCE_SCRIPT,
      1,
      this.key(accountId),
      String(token),
      String(Date.parse(observedAt)),
      isState ? '1' : '0',
    );
    return ok === 1 ? 'current' : 'stale';
  }
}
