import type { Firestore } from 'firebase-admin/firestore';
import {
  Collections,
  SearchBackfillDoc,
  SearchCollections,
  SearchPeriodDoc,
  SearchThreadTermDoc,
} from '@wacrm/contracts';
import { contractConverter } from '../converters.js';

const periodConverter = contractConverter('searchPeriod', SearchPeriodDoc);
const threadTermConverter = contractConverter('searchThreadTerm', SearchThreadTermDoc);
const backfillConverter = contractConverter('searchBackfill', SearchBackfillDoc);

/** `accounts/{accountId}/searchTerms/{term}/periods`: the periods (and parts) a word occurs on. */
export function searchPeriods(db: Firestore, accountId: string, term: string) {
  return db
    .collection(Collections.accounts)
    .doc(accountId)
    .collection(SearchCollections.terms)
    .doc(term)
    .collection(SearchCollections.periods)
    .withConverter(periodConverter);
}

/** `accounts/{accountId}/searchThreadTerms/{term}`: threads whose name or phone starts so. */
export function searchThreadTerm(db: Firestore, accountId: string, term: string) {
  return db
    .collection(Collections.accounts)
    .doc(accountId)
    .collection(SearchCollections.threadTerms)
    .doc(term)
    .withConverter(threadTermConverter);
}

/** `accounts/{accountId}/searchIndexState/backfill`. */
export function searchBackfillState(db: Firestore, accountId: string) {
  return db
    .collection(Collections.accounts)
    .doc(accountId)
    .collection(SearchCollections.state)
    .doc('backfill')
    .withConverter(backfillConverter);
}
