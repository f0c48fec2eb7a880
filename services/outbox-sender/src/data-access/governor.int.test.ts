import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useTestRedis, type TestRedis } from '@wacrm/testing';
import { effectivePolicy, type PolicyDefaults } from '../domain/send-policy.js';
import { createGovernor } from './governor.js';

const defaults: PolicyDefaults = {
  ratePerMinute: 20,
  burst: 3,
  minRecipientGapMs: 3_000,
  dailyCap: 1_000,
  jitterMs: 1_500,
  warmupDays: 0,
};

let redis: TestRedis;
beforeEach(async () => {
  redis = await useTestRedis();
});
afterEach(() => redis.cleanup());

// A seeded generator keeps the jitter real but the run reproducible.
function seeded(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

describe('send governor on a real Redis', () => {
  it('when 200 messages are due at once, then over a simulated 2 minutes it holds 20/min within ±5% and keeps order', async () => {
    const governor = createGovernor(redis.connection, redis.prefix, seeded(7));
    const t0 = Date.UTC(2026, 5, 1, 9, 0, 0);
    const policy = effectivePolicy(defaults, null, null, t0);
    const slots: number[] = [];
    for (let i = 0; i < 200; i++)
      slots.push(await governor.schedule('wa-01', `client-${i % 40}@s.whatsapp.net`, policy, t0));

    const inWindow = slots.filter((t) => t < t0 + 120_000).length;
    const expected = defaults.burst + (120_000 / 60_000) * defaults.ratePerMinute;
    expect(Math.abs(inWindow - expected) / expected).toBeLessThanOrEqual(0.05);
    // Steady state between minute 1 and minute 2: exactly the configured rate, ±5%.
    const minute2 = slots.filter((t) => t >= t0 + 60_000 && t < t0 + 120_000).length;
    expect(Math.abs(minute2 - 20) / 20).toBeLessThanOrEqual(0.05);
    for (let i = 1; i < slots.length; i++) expect(slots[i]!).toBeGreaterThan(slots[i - 1]!);
  });

  it('when one recipient gets many messages, then consecutive sends to it are never closer than the gap', async () => {
    const governor = createGovernor(redis.connection, redis.prefix, seeded(3));
    const t0 = Date.UTC(2026, 5, 1, 9, 0, 0);
    const policy = effectivePolicy(
      { ...defaults, ratePerMinute: 600, burst: 50, minRecipientGapMs: 5_000 },
      null,
      null,
      t0,
    );
    const byRecipient = new Map<string, number[]>();
    for (let i = 0; i < 60; i++) {
      const to = i % 3 === 0 ? 'a@s.whatsapp.net' : `b${i}@s.whatsapp.net`;
      const t = await governor.schedule('wa-02', to, policy, t0 + i * 100);
      byRecipient.set(to, [...(byRecipient.get(to) ?? []), t]);
    }
    const toA = byRecipient.get('a@s.whatsapp.net')!;
    expect(toA.length).toBe(20);
    for (let i = 1; i < toA.length; i++)
      expect(toA[i]! - toA[i - 1]!).toBeGreaterThanOrEqual(5_000);
  });

  it('when the daily cap is reached, then the next sends move to the next Bucharest day', async () => {
    const governor = createGovernor(redis.connection, redis.prefix, () => 0);
    const t0 = Date.UTC(2026, 5, 1, 12, 0, 0); // 15:00 in Bucharest (UTC+3)
    const policy = effectivePolicy(
      { ...defaults, ratePerMinute: 6_000, burst: 100, dailyCap: 5, minRecipientGapMs: 0 },
      null,
      null,
      t0,
    );
    const slots: number[] = [];
    for (let i = 0; i < 7; i++)
      slots.push(await governor.schedule('wa-03', `c${i}@s.whatsapp.net`, policy, t0));
    const nextMidnight = Date.UTC(2026, 5, 1, 21, 0, 0); // 00:00 on 2 June in Bucharest
    expect(slots.slice(0, 5).every((t) => t < nextMidnight)).toBe(true);
    expect(slots.slice(5).every((t) => t >= nextMidnight)).toBe(true);
  });

  it('when two accounts send, then each has its own schedule', async () => {
    const governor = createGovernor(redis.connection, redis.prefix, () => 0);
    const t0 = Date.UTC(2026, 5, 1, 9, 0, 0);
    const policy = effectivePolicy({ ...defaults, burst: 1, jitterMs: 0 }, null, null, t0);
    const a = [
      await governor.schedule('wa-a', 'x@s.whatsapp.net', policy, t0),
      await governor.schedule('wa-a', 'y@s.whatsapp.net', policy, t0),
    ];
    const b = await governor.schedule('wa-b', 'x@s.whatsapp.net', policy, t0);
    expect(a[1]! - a[0]!).toBe(3_000);
    expect(b).toBe(t0);
  });
});
