import type { SendPolicy } from '@wacrm/contracts';

/** The governor's settings for one account, after defaults, overrides and warm-up. */
export interface EffectivePolicy {
  ratePerMinute: number;
  burst: number;
  minRecipientGapMs: number;
  dailyCap: number;
  jitterMs: number;
  /** Spacing between sends at the effective rate. */
  intervalMs: number;
  warmupFactor: number;
}

export interface PolicyDefaults {
  ratePerMinute: number;
  burst: number;
  minRecipientGapMs: number;
  dailyCap: number;
  jitterMs: number;
  warmupDays: number;
}

const DAY_MS = 86_400_000;

/**
 * A newly paired number starts at a quarter of its rate and reaches the full rate after
 * `warmupDays`: sudden volume from a fresh number is what WhatsApp's spam detection punishes.
 */
export function warmupFactor(
  pairedAt: Date | null | undefined,
  now: number,
  warmupDays: number,
): number {
  if (pairedAt == null || warmupDays === 0) return 1;
  const ageDays = Math.max(0, (now - pairedAt.getTime()) / DAY_MS);
  return Math.min(1, 0.25 + (0.75 * ageDays) / warmupDays);
}

export function effectivePolicy(
  defaults: PolicyDefaults,
  override: SendPolicy | null | undefined,
  pairedAt: Date | null | undefined,
  now: number,
): EffectivePolicy {
  const factor = warmupFactor(pairedAt, now, override?.warmupDays ?? defaults.warmupDays);
  const ratePerMinute = Math.max(1, (override?.ratePerMinute ?? defaults.ratePerMinute) * factor);
  const dailyCap = Math.max(1, Math.floor((override?.dailyCap ?? defaults.dailyCap) * factor));
  return {
    ratePerMinute,
    burst: override?.burst ?? defaults.burst,
    minRecipientGapMs: override?.minRecipientGapMs ?? defaults.minRecipientGapMs,
    dailyCap,
    jitterMs: defaults.jitterMs,
    intervalMs: Math.round(60_000 / ratePerMinute),
    warmupFactor: factor,
  };
}

/** Calendar days are Bucharest days: the daily cap resets at local midnight. */
export function bucharestDay(now: number): { key: string; nextStartMs: number } {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Europe/Bucharest',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(now));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? '0');
  const key = `${get('year')}-${String(get('month')).padStart(2, '0')}-${String(get('day')).padStart(2, '0')}`;
  const msIntoDay = ((get('hour') * 60 + get('minute')) * 60 + get('second')) * 1000 + (now % 1000);
  return { key, nextStartMs: now - msIntoDay + DAY_MS };
}
