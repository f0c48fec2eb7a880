import { describe, expect, it } from 'vitest';
import { bucharestDay, effectivePolicy, warmupFactor } from './send-policy.js';

const defaults = {
  ratePerMinute: 20,
  burst: 3,
  minRecipientGapMs: 3_000,
  dailyCap: 1_000,
  jitterMs: 1_500,
  warmupDays: 4,
};
const DAY = 86_400_000;

describe('send policy', () => {
  it('when an account was paired today, then it sends at a quarter of its rate, ramping to full after the warm-up', () => {
    const now = Date.UTC(2026, 0, 10);
    expect(warmupFactor(new Date(now), now, 4)).toBe(0.25);
    expect(warmupFactor(new Date(now - 2 * DAY), now, 4)).toBeCloseTo(0.625);
    expect(warmupFactor(new Date(now - 10 * DAY), now, 4)).toBe(1);
    expect(warmupFactor(null, now, 4)).toBe(1);
  });

  it('when an account overrides the defaults, then its values win and warm-up still applies', () => {
    const now = Date.UTC(2026, 0, 10);
    const p = effectivePolicy(defaults, { ratePerMinute: 40, dailyCap: 100 }, new Date(now), now);
    expect(p.ratePerMinute).toBe(10);
    expect(p.intervalMs).toBe(6_000);
    expect(p.dailyCap).toBe(25);
    expect(p.burst).toBe(3);
  });

  it('when it is late evening UTC, then the Bucharest day has already turned', () => {
    const d = bucharestDay(Date.UTC(2026, 6, 1, 22, 30)); // 01:30 on 2 July in Bucharest (UTC+3)
    expect(d.key).toBe('2026-07-02');
    expect(d.nextStartMs).toBe(Date.UTC(2026, 6, 2, 21, 0));
  });
});
