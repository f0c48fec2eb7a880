import {
  SEARCH_QUERY_MAX_TERMS,
  foldForSearch,
  searchTermsOf,
  type SearchEntry,
} from '@wacrm/contracts';

/**
 * The words of a query, folded like the index. A query of digits and phone punctuation only
 * ("+40 722 333", "0722-333") is one word: the phone number as typed.
 */
export function queryTerms(q: string): string[] {
  const bounded = q.slice(0, 200);
  if (/^[\d\s+().-]+$/.test(bounded)) {
    const digits = bounded.replace(/\D/g, '');
    if (digits.length >= 3) return [digits];
  }
  return searchTermsOf(bounded, SEARCH_QUERY_MAX_TERMS);
}

/** Newest first; equal times by message id, descending. */
export function compareEntries(a: SearchEntry, b: SearchEntry): number {
  return b.tsMs - a.tsMs || (a.messageId < b.messageId ? 1 : a.messageId > b.messageId ? -1 : 0);
}

/** Whether `e` comes after the cursor in newest-first order. */
export function isBeyondCursor(e: SearchEntry, cursor: { ts: number; id: string }): boolean {
  return e.tsMs < cursor.ts || (e.tsMs === cursor.ts && e.messageId < cursor.id);
}

const SNIPPET_CHARS = 300;

/**
 * Up to 300 characters of `text` around the first place where a query word occurs, found on
 * the folded text (each character folded on its own, so positions map back).
 */
export function snippetOf(text: string, terms: readonly string[]): string {
  const chars = Array.from(text.slice(0, 8192));
  if (chars.length <= SNIPPET_CHARS) return chars.join('');
  let folded = '';
  const origin: number[] = [];
  chars.forEach((ch, i) => {
    for (const f of foldForSearch(ch)) {
      folded += f;
      origin.push(i);
    }
  });
  let at = -1;
  for (const term of terms) {
    const found = folded.indexOf(term);
    if (found >= 0 && (at < 0 || found < at)) at = found;
  }
  const centre = at < 0 ? 0 : origin[at]!;
  const start = Math.max(0, Math.min(centre - 80, chars.length - SNIPPET_CHARS));
  const cut = chars.slice(start, start + SNIPPET_CHARS).join('');
  return `${start > 0 ? '…' : ''}${cut}${start + SNIPPET_CHARS < chars.length ? '…' : ''}`;
}
