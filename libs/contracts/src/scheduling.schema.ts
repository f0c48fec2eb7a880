import { z } from 'zod';
import { AccountId, IsoDateTime, MediaUploadId, RequestId } from './common.schema.js';
import { AppError } from './errors.js';

/**
 * Issue 19 items 5 and 6: scheduled sends, message templates with booking variables (reminders
 * and quick replies) and a booking's reminders. The renderer below is the one place a template
 * becomes text.
 */

/** How far ahead a send may be scheduled. */
export const SCHEDULE_MAX_AHEAD_MS = 366 * 86_400_000;

/**
 * Why a `sendAt` cannot be scheduled, or null when it can: a time in the future, at most
 * SCHEDULE_MAX_AHEAD_MS ahead (a time already passed is not a schedule).
 */
export function sendAtProblem(sendAt: Date, now: number): string | null {
  if (Number.isNaN(sendAt.getTime())) return 'not a time';
  if (sendAt.getTime() <= now) return 'must be in the future';
  if (sendAt.getTime() - now > SCHEDULE_MAX_AHEAD_MS) return 'at most one year ahead';
  return null;
}

// --- templates ---------------------------------------------------------------------------

/**
 * The variables a template may use, in Romanian as the operators write them, with what each
 * holds. Anything else between `{{ }}` is refused.
 */
export const TEMPLATE_VARIABLES = {
  nume_copil: "the child's name",
  data: 'the date of the party (zz.ll.aaaa)',
  ora: 'the start time (HH:mm, Europe/Bucharest)',
  personaj: 'the characters booked',
  adresa: 'the address',
  rest_de_plata: 'the balance still owed, in lei',
  avans: 'the deposit asked, in lei',
  termen_avans: 'the date the deposit is due (zz.ll.aaaa)',
} as const;
export type TemplateVariable = keyof typeof TEMPLATE_VARIABLES;
export type TemplateValues = Partial<Record<TemplateVariable, string>>;

/** A variable's value is cut to this many characters before it is put into a text. */
export const TEMPLATE_VALUE_MAX = 200;
export const TEMPLATE_BODY_MAX = 2_000;
const PLACEHOLDERS_MAX = 30;

// One placeholder: `{{ name }}`. The name class excludes spaces and braces, so it is linear.
const PLACEHOLDER = /\{\{ *([a-z_]{1,32}) *\}\}/g;

function isVariable(name: string): name is TemplateVariable {
  return Object.hasOwn(TEMPLATE_VARIABLES, name);
}

/**
 * What is wrong with a template's body (unknown variables, a stray `{{` or `}}`, too many
 * placeholders), or an empty list.
 */
export function templateProblems(body: string): string[] {
  const problems: string[] = [];
  let count = 0;
  for (const match of body.matchAll(PLACEHOLDER)) {
    count += 1;
    const name = match[1]!;
    if (!isVariable(name)) {
      problems.push(
        `unknown variable {{${name}}}; known: ${Object.keys(TEMPLATE_VARIABLES).join(', ')}`,
      );
    }
  }
  const rest = body.replace(PLACEHOLDER, '');
  if (rest.includes('{{') || rest.includes('}}')) {
    problems.push('a "{{" or "}}" that is not a variable such as {{nume_copil}}');
  }
  if (count > PLACEHOLDERS_MAX) problems.push(`at most ${PLACEHOLDERS_MAX} variables`);
  return problems;
}

/** Throws a 400 naming every problem of a template body. */
export function assertTemplate(body: string, path = 'body'): void {
  const problems = templateProblems(body);
  if (problems.length > 0) {
    throw new AppError('VALIDATION_FAILED', `template: ${problems.join('; ')}`, {
      errors: problems.map((message) => ({ path, message })),
    });
  }
}

export interface RenderedTemplate {
  text: string;
  /** Variables the template uses that had no value (rendered as empty). */
  missing: TemplateVariable[];
}

/**
 * Puts the values into a template in one pass: a value is never read as a template itself, is
 * cut to TEMPLATE_VALUE_MAX characters, and a variable without a value renders empty and is
 * listed in `missing`. A body with problems is refused (400).
 */
export function renderTemplate(body: string, values: TemplateValues): RenderedTemplate {
  assertTemplate(body);
  const missing = new Set<TemplateVariable>();
  const text = body.replace(PLACEHOLDER, (_all, name: string) => {
    const value = values[name as TemplateVariable];
    if (value === undefined || value === '') {
      missing.add(name as TemplateVariable);
      return '';
    }
    return value.length > TEMPLATE_VALUE_MAX ? `${value.slice(0, TEMPLATE_VALUE_MAX - 1)}…` : value;
  });
  return { text, missing: [...missing] };
}

/** A booking's reminders, in the order they go out. */
export const ReminderKind = z.enum(['confirmation', 'deposit_due', 'day_before', 'review_request']);
export type ReminderKind = z.infer<typeof ReminderKind>;

/** The text a reminder has when the account has no template of its kind. */
export const DEFAULT_REMINDER_TEXTS: Readonly<Record<ReminderKind, string>> = {
  confirmation:
    'Bună ziua! Vă confirmăm petrecerea pentru {{nume_copil}} din {{data}}, ora {{ora}}, cu {{personaj}}, la adresa {{adresa}}. Vă mulțumim!',
  deposit_due:
    'Bună ziua! Vă reamintim că avansul de {{avans}} lei pentru petrecerea din {{data}} este scadent pe {{termen_avans}}. Vă mulțumim!',
  day_before:
    'Bună ziua! Mâine, {{data}}, la ora {{ora}}, {{personaj}} vine la {{nume_copil}}, la adresa {{adresa}}. Rest de plată: {{rest_de_plata}} lei. Ne vedem acolo!',
  review_request:
    'Vă mulțumim că ne-ați ales pentru petrecerea lui {{nume_copil}}! Ne-ar ajuta mult o părere despre {{personaj}}.',
};

const TemplateBody = z.string().trim().min(1).max(TEMPLATE_BODY_MAX);
const Shortcut = z
  .string()
  .regex(/^[a-z0-9_-]{1,32}$/, 'lowercase letters, digits, "_" or "-", at most 32 characters');

/**
 * `messageTemplates/{templateId}`: a text with variables, per account. A template with a
 * `reminderKind` is used for that reminder of every booking; one with a `shortcut` is a quick
 * reply, picked with `/shortcut` in the composer, optionally with an uploaded file. Archived,
 * never deleted.
 */
/** What a caller chooses of a template (the document adds the account, archive and audit). */
const TemplateFields = z.object({
  name: z.string().trim().min(1).max(100),
  body: TemplateBody,
  reminderKind: ReminderKind.nullable(),
  shortcut: Shortcut.nullable(),
  /** A file uploaded with `POST /api/media` for this account, sent with the text. */
  mediaId: MediaUploadId.nullable(),
});

export const MessageTemplateDoc = TemplateFields.extend({
  accountId: AccountId,
  isArchived: z.boolean(),
  createdBy: z.string().min(1),
  createdAt: z.date(),
  updatedAt: z.date(),
});
export type MessageTemplateDoc = z.infer<typeof MessageTemplateDoc>;

export const CreateMessageTemplateBody = TemplateFields.extend({
  accountId: AccountId,
  reminderKind: TemplateFields.shape.reminderKind.default(null),
  shortcut: TemplateFields.shape.shortcut.default(null),
  mediaId: TemplateFields.shape.mediaId.default(null),
});
export type CreateMessageTemplateBody = z.infer<typeof CreateMessageTemplateBody>;

// No defaults here: a field left out of an edit is left as it is.
export const UpdateMessageTemplateBody = TemplateFields.extend({ isArchived: z.boolean() })
  .partial()
  .refine((b) => Object.keys(b).length > 0, { message: 'nothing to change' });
export type UpdateMessageTemplateBody = z.infer<typeof UpdateMessageTemplateBody>;

export const MessageTemplateView = MessageTemplateDoc.extend({
  id: z.string(),
  createdAt: IsoDateTime,
  updatedAt: IsoDateTime,
});
export type MessageTemplateView = z.infer<typeof MessageTemplateView>;
export const MessageTemplateList = z.object({
  items: z.array(MessageTemplateView),
  variables: z.record(z.string(), z.string()),
});
export const MessageTemplateParams = z.object({
  templateId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a template id'),
});
export const MessageTemplateListQuery = z.object({
  accountId: AccountId,
  /** Only quick replies (templates with a shortcut). */
  quickReplies: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  includeArchived: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
});

/** Render a template for a booking (eventId) or a chat (the client's next booking). */
export const RenderTemplateBody = z
  .object({
    eventId: z.string().min(1).max(128).optional(),
    threadId: z.string().min(1).max(1500).optional(),
  })
  .refine((b) => b.eventId === undefined || b.threadId === undefined, {
    message: 'at most one of eventId or threadId',
    path: ['eventId'],
  });
export const RenderedTemplateView = z.object({
  text: z.string(),
  /** The template's file, ready for the send's `media` (with the text as its caption). */
  media: z
    .object({
      kind: z.enum(['image', 'document', 'audio', 'video']),
      mediaId: z.string(),
      mimetype: z.string(),
      fileName: z.string().optional(),
    })
    .nullable(),
  /** Variables without a value (rendered empty), e.g. no booking yet. */
  missing: z.array(z.string()),
  /** The booking the values came from, if any. */
  eventId: z.string().nullable(),
});

// --- reminders ---------------------------------------------------------------------------

export const ReminderStatus = z.enum(['draft', 'scheduled', 'cancelled']);
export type ReminderStatus = z.infer<typeof ReminderStatus>;

/**
 * `reminders/{eventId}.{kind}`: one reminder of a booking. Drafts follow the booking (text and
 * time refreshed on each save); approving one schedules an outbox send (`requestId`); cancelling
 * the booking cancels them. Never deleted.
 */
export const ReminderDoc = z.object({
  accountId: AccountId,
  eventId: z.string().min(1),
  kind: ReminderKind,
  text: z.string().min(1).max(8_000),
  /** When it goes out; null = as soon as it is approved (the confirmation). */
  sendAt: z.date().nullable(),
  status: ReminderStatus,
  /** The outbox send an approval made. */
  requestId: RequestId.nullable(),
  approvedBy: z.string().nullable(),
  approvedAt: z.date().nullable(),
  cancelledReason: z.string().max(200).nullable(),
  createdAt: z.date(),
  updatedAt: z.date(),
});
export type ReminderDoc = z.infer<typeof ReminderDoc>;

export const ReminderView = ReminderDoc.extend({
  id: z.string(),
  sendAt: IsoDateTime.nullable(),
  approvedAt: IsoDateTime.nullable(),
  createdAt: IsoDateTime,
  updatedAt: IsoDateTime,
});
export type ReminderView = z.infer<typeof ReminderView>;
export const ReminderList = z.object({ items: z.array(ReminderView) });
export const ReminderParams = z.object({
  eventId: z.string().min(1).max(128),
  kind: ReminderKind,
});

// --- scheduled sends ---------------------------------------------------------------------

export const ScheduledSendView = z.object({
  requestId: z.string(),
  accountId: AccountId,
  threadId: z.string(),
  text: z.string().nullable(),
  hasMedia: z.boolean(),
  sendAt: IsoDateTime,
  status: z.enum(['scheduled', 'cancelled']),
  createdBy: z.string(),
});
export type ScheduledSendView = z.infer<typeof ScheduledSendView>;
export const ScheduledSendList = z.object({ items: z.array(ScheduledSendView) });
export const ScheduledSendParams = z.object({ requestId: RequestId });
export const CancelScheduledResult = z.object({
  requestId: z.string(),
  status: z.literal('cancelled'),
});
