import { z } from 'zod';

/** Per-account overrides of the send governor (`accounts/{id}.sendPolicy`); unset fields use the defaults. */
export const SendPolicy = z.object({
  ratePerMinute: z.number().int().min(1).max(6_000).optional(),
  burst: z.number().int().min(1).max(1_000).optional(),
  minRecipientGapMs: z.number().int().min(0).max(3_600_000).optional(),
  dailyCap: z.number().int().min(1).max(1_000_000).optional(),
  warmupDays: z.number().int().min(0).max(60).optional(),
});
export type SendPolicy = z.infer<typeof SendPolicy>;
