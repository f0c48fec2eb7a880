import { describe, expect, it } from 'vitest';
import {
  SEARCH_SIGNATURE_CHARS,
  decodeSearchEntry,
  encodeSearchEntry,
  packSearchEntries,
  searchEntryMessageId,
  searchPeriodEntries,
  searchSignature,
  searchSignatureBits,
  searchSignatureHas,
  searchTermsOf,
  threadSearchTerms,
  threadSearchWords,
  threadSearchWordsHave,
  type SearchEntry,
} from './search.schema.js';

const entry: SearchEntry = {
  messageId: '3EB0C1',
  threadId: 'wa-01__40712345678@s.whatsapp.net',
  tsMs: 1_767_780_000_000,
  direction: 'inbound',
  hasMedia: true,
  signature: searchSignature(['stefan', 'sambata']),
};

describe('search index entries', () => {
  it('when an entry is encoded, then it decodes to itself, signature included', () => {
    const raw = encodeSearchEntry(entry);
    expect(decodeSearchEntry(raw)).toEqual(entry);
    expect(searchEntryMessageId(raw)).toBe('3EB0C1');
    expect(entry.signature).toHaveLength(SEARCH_SIGNATURE_CHARS);
  });

  it('when an entry was written before signatures, then it decodes with an empty one that may hold any word', () => {
    const old = `${entry.tsMs.toString(36)}|o-|M1|${entry.threadId}`;
    expect(decodeSearchEntry(old)).toEqual({
      ...entry,
      messageId: 'M1',
      direction: 'outbound',
      hasMedia: false,
      signature: '',
    });
    expect(searchSignatureHas('', searchSignatureBits('oricare'))).toBe(true);
  });

  it('when ids hold the separators (|, line breaks, %), then they survive packing', () => {
    const odd = { ...entry, messageId: 'a|b\nc%7Cd\re', threadId: 'wa-01__x|y%' };
    const packed = packSearchEntries([encodeSearchEntry(odd), encodeSearchEntry(entry)]);
    const back = searchPeriodEntries({ packed });
    expect(back).toHaveLength(2);
    expect(decodeSearchEntry(back[0]!)).toEqual(odd);
    expect(searchEntryMessageId(back[0]!)).toBe(odd.messageId);
    expect(searchPeriodEntries({ packed: '' })).toEqual([]);
    expect(searchPeriodEntries({ entries: ['x'] })).toEqual(['x']);
  });

  it("when a message's words are in its signature, then each is found there, folded like a query", () => {
    const words = searchTermsOf('Bună, sunt Ștefan; confirm sâmbătă la ora 18 pentru tort');
    const signature = searchSignature(words);
    for (const w of [...words, ...searchTermsOf('STEFAN Sambata')]) {
      expect(searchSignatureHas(signature, searchSignatureBits(w))).toBe(true);
    }
    // Words it does not have are mostly absent (two bits of 128 each; a few may collide).
    const absent = searchTermsOf(
      'botez nunta aniversare meniu sala rezervare avans factura plata transfer cont maine',
    ).filter((w) => !searchSignatureHas(signature, searchSignatureBits(w)));
    expect(absent.length).toBeGreaterThanOrEqual(10);
  });
});

describe('thread search words', () => {
  it("when a thread's words are checked, then they hold exactly the prefixes its index terms hold", () => {
    for (const thread of [
      { displayName: 'Ștefan Ionescu-Pîrvu', phoneE164: '+40712345678' },
      { displayName: null, phoneE164: '+14155550100' },
      { displayName: 'Ana', phoneE164: null },
    ]) {
      const terms = threadSearchTerms(thread);
      const words = threadSearchWords(thread);
      const probes = [
        ...terms,
        ...[
          's',
          'st',
          'ion',
          'pirvu',
          'pirvux',
          'an',
          '07',
          '071',
          '0712345678',
          '40',
          '415',
          '55',
        ],
        ...['4155550100', '04155550100', 'x', '12'],
      ];
      for (const t of probes)
        expect([t, threadSearchWordsHave(words, t)]).toEqual([t, terms.includes(t)]);
    }
  });
});
