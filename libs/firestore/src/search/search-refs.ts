import type { Firestore } from 'firebase-admin/firestore';
import {
  Collections,
  SearchBackfillDoc,
  SearchCollections,
  SearchPeriodDoc,
  SearchThreadDoc,
} from '@wacrm/contracts';
import { contractConverter } from '../converters.js';

const periodConverter = contractConverter('searchPeriod', SearchPeriodDoc);
const threadConverter = contractConverter('searchThread', SearchThreadDoc);
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

/** `accounts/{accountId}/searchThreads`: each thread's name and phone prefixes (`terms`). */
export function searchThreads(db: Firestore, accountId: string) {
  return db
    .collection(Collections.accounts)
    .doc(accountId)
    .collection(SearchCollections.threads)
    .withConverter(threadConverter);
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
