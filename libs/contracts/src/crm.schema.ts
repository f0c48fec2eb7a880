import { z } from 'zod';
import { CalendarDate, ClockTime } from './common.schema.js';

/**
 * A booking as the AI (or a human) reads it from a chat. Every field is nullable: a draft says
 * what it knows and nothing more. Field names match ../shared/eval/score.py.
 */
export const DraftEvent = z.object({
  date: CalendarDate.nullable(),
  time: ClockTime.nullable(),
  durationHours: z.number().positive().max(24).nullable(),
  address: z.string().max(500).nullable(),
  characters: z.array(z.string().min(1).max(100)).max(30),
  amount: z.number().nonnegative().max(1_000_000).nullable(),
  advance: z.number().nonnegative().max(1_000_000).nullable(),
  childName: z.string().max(100).nullable(),
  childAge: z.number().int().min(0).max(120).nullable(),
  guests: z.number().int().min(0).max(10_000).nullable(),
  notes: z.string().max(2000).nullable(),
});
export type DraftEvent = z.infer<typeof DraftEvent>;

export const ExtractionAction = z.enum(['create', 'update', 'none']);
export type ExtractionAction = z.infer<typeof ExtractionAction>;

export const ExtractionResult = z.object({
  action: ExtractionAction,
  draftEvent: DraftEvent.nullable(),
  confidence: z.number().min(0).max(1),
  reasons: z.array(z.string().max(500)).max(50),
  sourceMessageIds: z.array(z.string()).max(200),
});
export type ExtractionResult = z.infer<typeof ExtractionResult>;

export const Payment = z.object({
  amount: z.number().nonnegative().nullable(),
  advance: z.number().nonnegative().nullable(),
  /** What the client has actually paid so far; `lifetimeSpendPaid` sums this. */
  paid: z.number().nonnegative(),
  currency: z.literal('RON'),
});
export type Payment = z.infer<typeof Payment>;

/** One booked role (a character and who plays it), keyed by slot in `rolesBySlot`. */
export const RoleSlot = z.object({
  character: z.string().min(1).max(100),
  performer: z.string().max(100).nullable(),
});
export type RoleSlot = z.infer<typeof RoleSlot>;
