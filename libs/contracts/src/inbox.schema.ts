import { z } from 'zod';
import { AccountId, WaKey, type MessageDirection } from './common.schema.js';
import {
  DEFAULT_WAITING_AFTER_MINUTES,
  READ_RECEIPT_MODES,
  THREAD_STAGES,
} from './inbox-constants.js';

/**
 * The operator inbox (issue 20 items 2-6): internal notes, assignment, stage and labels, waiting
 * clients and read receipts. Owned here; the API, ingest, wa-gateway and the web import it.
 */

const Iso = z.string().describe('ISO-8601 date-time');

export { THREAD_STAGES, READ_RECEIPT_MODES, DEFAULT_WAITING_AFTER_MINUTES };

export const ThreadStage = z.enum(THREAD_STAGES);
export type ThreadStage = z.infer<typeof ThreadStage>;

/** When WhatsApp learns an operator read a chat (blue ticks for the client). */
export const ReadReceiptMode = z.enum(READ_RECEIPT_MODES);
export type ReadReceiptMode = z.infer<typeof ReadReceiptMode>;

export const LabelId = z
  .string()
  .min(1)
  .max(40)
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and "-"');
export const LabelColor = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'a colour like #1e88e5');
export const LabelDef = z.object({
  id: LabelId,
  name: z.string().trim().min(1).max(40),
  color: LabelColor,
});
export type LabelDef = z.infer<typeof LabelDef>;

export const MAX_LABELS_PER_ACCOUNT = 50;
export const MAX_LABELS_PER_THREAD = 10;

/** An account's inbox settings (stored on `accounts/{id}.inbox`, written by the API only). */
export const InboxSettings = z.object({
  readReceipts: ReadReceiptMode,
  /** A thread whose last message is inbound and older than this many minutes waits for a reply. */
  waitingAfterMinutes: z.number().int().min(1).max(10_080),
  labels: z
    .array(LabelDef)
    .max(MAX_LABELS_PER_ACCOUNT)
    .refine((l) => new Set(l.map((x) => x.id)).size === l.length, 'label ids are unique'),
});
export type InboxSettings = z.infer<typeof InboxSettings>;

export const DEFAULT_INBOX_SETTINGS: InboxSettings = {
  readReceipts: 'off',
  waitingAfterMinutes: DEFAULT_WAITING_AFTER_MINUTES,
  labels: [],
};

/** The settings an account document holds (absent fields take the defaults). */
export function inboxSettingsOf(stored: Partial<InboxSettings> | null | undefined): InboxSettings {
  return { ...DEFAULT_INBOX_SETTINGS, ...(stored ?? {}) };
}

export const InboxSettingsPatch = z
  .object({
    readReceipts: ReadReceiptMode.optional(),
    waitingAfterMinutes: z.number().int().min(1).max(10_080).optional(),
    labels: InboxSettings.shape.labels.optional(),
  })
  .strict()
  .refine((p) => Object.keys(p).length > 0, 'at least one setting');

export const InboxSettingsView = InboxSettings.extend({ accountId: AccountId });

/**
 * Whether a thread waits for a reply: its last message is inbound and older than the account's
 * limit. Computed from lastMessageAt/lastMessageDirection (kept by ingest), so it needs no timer.
 */
export function waitingSince(thread: {
  lastMessageAt: Date | null;
  lastMessageDirection: MessageDirection | null;
}): Date | null {
  return thread.lastMessageDirection === 'inbound' ? thread.lastMessageAt : null;
}

export function isWaiting(
  thread: { lastMessageAt: Date | null; lastMessageDirection: MessageDirection | null },
  waitingAfterMinutes: number,
  now: Date,
): boolean {
  const since = waitingSince(thread);
  return since !== null && now.getTime() - since.getTime() > waitingAfterMinutes * 60_000;
}

export const WaitingCountView = z.object({
  accountId: AccountId,
  waitingAfterMinutes: z.number().int(),
  /** Threads whose last inbound message has waited longer than waitingAfterMinutes. */
  count: z.number().int().nonnegative(),
  at: Iso,
});

// --- Internal notes: never sent to WhatsApp, append-only (no edit, no delete). ---

export const MAX_NOTE_LENGTH = 4_000;

export const NoteDoc = z.object({
  accountId: AccountId,
  threadId: z.string().min(1),
  body: z.string().min(1).max(MAX_NOTE_LENGTH),
  authorId: z.string().min(1).max(256),
  createdAt: z.date(),
});
export type NoteDoc = z.infer<typeof NoteDoc>;

export const NoteBody = z.object({ body: z.string().trim().min(1).max(MAX_NOTE_LENGTH) }).strict();

export const NoteView = z.object({
  id: z.string(),
  threadId: z.string(),
  body: z.string(),
  authorId: z.string(),
  createdAt: Iso,
});
export type NoteView = z.infer<typeof NoteView>;

export const NOTES_PAGE_LIMIT = 200;
export const NoteList = z.object({ items: z.array(NoteView) });

// --- Assignment ---

export const AssignBody = z
  .object({
    /** A user uid, or null to leave the thread unassigned. */
    assigneeUid: z.string().min(1).max(128).nullable(),
    /** Take the thread from whoever holds it (the web asks the operator first). */
    force: z.boolean().optional(),
  })
  .strict();

export const AssignedFilter = z.enum(['mine', 'unassigned', 'all']);

// --- Stage and labels ---

export const ThreadTagsBody = z
  .object({
    stage: ThreadStage.nullable().optional(),
    labels: z
      .array(LabelId)
      .max(MAX_LABELS_PER_THREAD)
      .refine((l) => new Set(l).size === l.length, 'labels are unique')
      .optional(),
  })
  .strict()
  .refine((b) => b.stage !== undefined || b.labels !== undefined, 'stage or labels');

// --- Read receipts to WhatsApp ---

export const MAX_READ_KEYS = 100;

/**
 * Tell WhatsApp these inbound messages were read (wa-gateway: Baileys `readMessages`). Put on
 * the account's `wa-commands` queue by the API when the account's read receipt mode says so.
 */
export const MarkReadCommand = z.object({
  accountId: AccountId,
  threadId: z.string().min(1).max(1500),
  keys: z.array(WaKey).min(1).max(MAX_READ_KEYS),
  reason: z.enum(['open', 'reply']),
});
export type MarkReadCommand = z.infer<typeof MarkReadCommand>;
