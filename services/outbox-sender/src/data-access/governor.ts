import type { Redis } from 'ioredis';
import { bucharestDay, type EffectivePolicy } from '../domain/send-policy.js';

/**
 * Picks the send time for one message of one account, atomically in Redis so any number of
 * outbox-sender replicas share one schedule per account:
 *  - token bucket as GCRA: `burst` sends back to back, then one per `interval`;
 *  - never earlier than the account's previous slot (order per account is kept);
 *  - at least `gap` after the previous message to the same recipient;
 *  - at most `cap` per Bucharest day; beyond it, the first slots of the next day.
 * Returns the chosen time in ms.
 */
const SCHEDULE = `
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local gap = tonumber(ARGV[4])
local cap = tonumber(ARGV[5])
local jitter = tonumber(ARGV[6])
local nextDay = tonumber(ARGV[7])
local tat = tonumber(redis.call('HGET', KEYS[1], 'tat') or '0')
local last = tonumber(redis.call('HGET', KEYS[1], 'last') or '0')
if tat < now then tat = now end
local t = math.max(now, tat - (burst - 1) * interval)
local lastTo = tonumber(redis.call('GET', KEYS[2]) or '0')
if lastTo > 0 then t = math.max(t, lastTo + gap) end
t = t + jitter
local dayKey = KEYS[3]
if tonumber(redis.call('GET', KEYS[3]) or '0') >= cap then
  if t < nextDay then t = nextDay end
  dayKey = KEYS[4]
end
if t <= last then t = last + 1 end
redis.call('INCR', dayKey)
redis.call('PEXPIRE', dayKey, 172800000)
local newTat = math.max(tat, t) + interval
redis.call('HSET', KEYS[1], 'tat', newTat, 'last', t)
redis.call('PEXPIRE', KEYS[1], 172800000)
redis.call('SET', KEYS[2], t, 'PX', gap + 60000)
return t
`;

export interface Governor {
  schedule(
    accountId: string,
    recipient: string,
    policy: EffectivePolicy,
    now?: number,
  ): Promise<number>;
}

export function createGovernor(
  redis: Redis,
  keyPrefix: string,
  random: () => number = Math.random,
): Governor {
  return {
    async schedule(accountId, recipient, policy, now = Date.now()) {
      const day = bucharestDay(now);
      const nextDay = bucharestDay(day.nextStartMs);
      // All keys share the prefix's hash tag, so the script also runs on Redis Cluster.
      const base = `${keyPrefix}:governor:${accountId}`;
      const keys = [
        base,
        `${base}:to:${recipient}`,
        `${base}:day:${day.key}`,
        `${base}:day:${nextDay.key}`,
      ];
      const jitter = Math.floor(random() * policy.jitterMs);
      const args = [
        now,
        policy.intervalMs,
        policy.burst,
        policy.minRecipientGapMs,
        policy.dailyCap,
        jitter,
        day.nextStartMs,
      ];
      const result = (await redis.eval(
        SCHEDULE,
        keys.length,
        ...keys,
        ...args.map(String),
      )) as number;
      return Number(result);
    },
  };
}
