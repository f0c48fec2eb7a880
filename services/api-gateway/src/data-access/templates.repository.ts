import { randomBytes } from 'node:crypto';
import type { Firestore } from 'firebase-admin/firestore';
import {
  AppError,
  MessageTemplateDoc,
  assertTemplate,
  type CreateMessageTemplateBody,
  type ReminderKind,
  type UpdateMessageTemplateBody,
} from '@wacrm/contracts';
import { contractConverter, readMediaUpload } from '@wacrm/firestore';

/** `messageTemplates/{templateId}` (issue 19): reminder texts and quick replies, per account. */
export const MESSAGE_TEMPLATES = 'messageTemplates';
/** An account's templates are read whole: at most this many. */
export const TEMPLATES_MAX = 500;

const converter = contractConverter('message template', MessageTemplateDoc);
const templates = (db: Firestore) => db.collection(MESSAGE_TEMPLATES).withConverter(converter);

export interface SavedTemplate {
  id: string;
  doc: MessageTemplateDoc;
}

async function checkTemplate(
  db: Firestore,
  accountId: string,
  fields: { body?: string; mediaId?: string | null },
): Promise<void> {
  if (fields.body !== undefined) assertTemplate(fields.body);
  const mediaId = fields.mediaId;
  if (
    mediaId !== undefined &&
    mediaId !== null &&
    !(await readMediaUpload(db, mediaId, accountId))
  ) {
    throw new AppError('NOT_FOUND', `media ${mediaId} was not uploaded for ${accountId}`);
  }
}

export async function createTemplate(
  db: Firestore,
  body: CreateMessageTemplateBody,
  uid: string,
  now = new Date(),
): Promise<SavedTemplate> {
  await checkTemplate(db, body.accountId, body);
  const id = `tpl_${randomBytes(8).toString('hex')}`;
  const doc: MessageTemplateDoc = {
    ...body,
    isArchived: false,
    createdBy: uid,
    createdAt: now,
    updatedAt: now,
  };
  await templates(db).doc(id).create(doc);
  return { id, doc };
}

export async function readTemplate(db: Firestore, id: string): Promise<MessageTemplateDoc> {
  const doc = (await templates(db).doc(id).get()).data();
  if (doc === undefined) throw new AppError('NOT_FOUND', `template ${id} not found`);
  return doc;
}

/** Changes the given fields (archiving included: there is no delete). */
export async function updateTemplate(
  db: Firestore,
  id: string,
  current: MessageTemplateDoc,
  patch: UpdateMessageTemplateBody,
  now = new Date(),
): Promise<SavedTemplate> {
  await checkTemplate(db, current.accountId, patch);
  const doc: MessageTemplateDoc = MessageTemplateDoc.parse({
    ...current,
    ...patch,
    updatedAt: now,
  });
  await templates(db).doc(id).set(doc);
  return { id, doc };
}

/** An account's templates, newest change first. */
export async function listTemplates(
  db: Firestore,
  accountId: string,
  includeArchived: boolean,
): Promise<SavedTemplate[]> {
  const snap = await templates(db).where('accountId', '==', accountId).limit(TEMPLATES_MAX).get();
  return snap.docs
    .map((d) => ({ id: d.id, doc: d.data() }))
    .filter((t) => includeArchived || !t.doc.isArchived)
    .sort((a, b) => b.doc.updatedAt.getTime() - a.doc.updatedAt.getTime());
}

/** The account's text for each reminder kind it has a template for (the newest one wins). */
export async function reminderTexts(
  db: Firestore,
  accountId: string,
): Promise<Partial<Record<ReminderKind, string>>> {
  const texts: Partial<Record<ReminderKind, string>> = {};
  for (const { doc } of await listTemplates(db, accountId, false)) {
    if (doc.reminderKind !== null && texts[doc.reminderKind] === undefined) {
      texts[doc.reminderKind] = doc.body;
    }
  }
  return texts;
}
