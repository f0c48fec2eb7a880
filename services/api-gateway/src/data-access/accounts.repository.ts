import type { Firestore } from 'firebase-admin/firestore';
import { AppError, type AccountDoc } from '@wacrm/contracts';
import { collections, newAccountDoc } from '@wacrm/firestore';
import { randomId } from '../domain/api-key.js';
import { docId } from '../domain/doc-id.js';

export async function listAccounts(db: Firestore): Promise<Array<{ id: string; doc: AccountDoc }>> {
  const snapshot = await collections(db).accounts().get();
  return snapshot.docs.map((d) => ({ id: d.id, doc: d.data() }));
}

export async function getAccount(db: Firestore, accountId: string): Promise<AccountDoc> {
  const doc = (await collections(db).accounts().doc(docId(accountId, 'accountId')).get()).data();
  if (doc === undefined) throw new AppError('NOT_FOUND', `account ${accountId} does not exist`);
  return doc;
}

const ALREADY_EXISTS = 6;

/** Creates `accounts/wa-xxxxxx` with a fresh id; `create` never overwrites an existing account. */
export async function createAccount(
  db: Firestore,
  input: { name: string; phone: string | null },
  now = new Date(),
): Promise<{ id: string; doc: AccountDoc }> {
  const doc = newAccountDoc(input.name, input.phone, now);
  for (let attempt = 0; ; attempt += 1) {
    const id = `wa-${randomId(6)}`;
    try {
      await collections(db).accounts().doc(id).create(doc);
      return { id, doc };
    } catch (error) {
      if ((error as { code?: unknown }).code !== ALREADY_EXISTS || attempt >= 5) throw error;
    }
  }
}
