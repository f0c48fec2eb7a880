/**
 * Text helpers shared by the offline rules. Every rule matches on a *folded* copy of the message
 * (lower case, no diacritics) that has exactly the same length as the original, so an index found
 * in the folded text points at the same characters in the original (names keep their spelling).
 */

/** Folds one UTF-16 unit to one unit: "Ș" → "s", "Ă" → "a", NBSP → " "; surrogates pass through. */
function foldUnit(unit: string): string {
  const code = unit.charCodeAt(0);
  if (code < 0x80) return unit.toLowerCase();
  if (code >= 0xd800 && code <= 0xdfff) return unit;
  if (code === 0xa0 || code === 0x202f || code === 0x2007) return ' ';
  // Typographic dashes and quotes read like their ASCII forms in chat.
  if (code >= 0x2010 && code <= 0x2015) return '-';
  if (code === 0x2018 || code === 0x2019) return "'";
  const base = unit.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
  return base.length === 1 ? base : (base[0] ?? unit);
}

/** The most of one message the rules read: a booking is said in a few lines, never in pages. */
export const MAX_RULE_TEXT = 2000;

/**
 * What the rules read of a message written by a stranger: its first {@link MAX_RULE_TEXT}
 * characters, every run of white space made one character (a newline when the run holds one,
 * else a space). Every rule pattern relies on this: `\s?` there stands for "white space", which
 * keeps each pattern free of adjacent unbounded quantifiers and so linear in time.
 */
export function normalizeForRules(text: string): string {
  const collapsed = text.replace(/\s+/g, (run) => (run.includes('\n') ? '\n' : ' '));
  if (collapsed.length <= MAX_RULE_TEXT) return collapsed;
  const cut = collapsed.slice(0, MAX_RULE_TEXT);
  // Never end on half a surrogate pair.
  const lastUnit = cut.charCodeAt(cut.length - 1);
  return lastUnit >= 0xd800 && lastUnit <= 0xdbff ? cut.slice(0, -1) : cut;
}

/** Lower-cases and strips diacritics while keeping the length (and so every index) unchanged. */
export function fold(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i += 1) out += foldUnit(text.charAt(i));
  return out;
}

/** Folds for comparisons only (length may change): NFKD without combining marks, lower case. */
export function foldLoose(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().replace(/\s+/g, ' ').trim();
}

export interface Span {
  start: number;
  end: number;
}

export function overlaps(a: Span, b: Span): boolean {
  return a.start < b.end && b.start < a.end;
}

export function overlapsAny(span: Span, spans: readonly Span[]): boolean {
  return spans.some((other) => overlaps(span, other));
}

/** Words whose trailing dot abbreviates rather than ends a sentence ("str. Lizeanu", "nr. 5"). */
const ABBREVIATIONS = new Set([
  'str',
  'nr',
  'bl',
  'sc',
  'ap',
  'bd',
  'bdul',
  'b-dul',
  'sos',
  'prof',
  'sf',
  'dr',
  'al',
  'et',
  'sect',
  'cart',
  'jud',
  'com',
  'ing',
  'gen',
  'pt',
  'mr',
  'mrs',
  'st',
  'av',
  'int',
  'cpt',
  'lt',
  'mun',
  'or',
  'aprox',
  'ex',
]);

function isSentenceDot(folded: string, index: number): boolean {
  const before = folded.slice(Math.max(0, index - 6), index);
  const after = folded.charAt(index + 1);
  if (/\d$/.test(before) && /\d/.test(after)) return false;
  let wordStart = before.length;
  while (wordStart > 0 && /[a-z-]/.test(before.charAt(wordStart - 1))) wordStart -= 1;
  if (ABBREVIATIONS.has(before.slice(wordStart))) return false;
  return true;
}

/** Sentence spans: split on . ! ? ; newlines and brackets, but not on abbreviations or 1.200. */
export function sentences(folded: string): Span[] {
  const spans: Span[] = [];
  let start = 0;
  for (let i = 0; i < folded.length; i += 1) {
    const ch = folded.charAt(i);
    const boundary =
      '!?;\n()[]'.includes(ch) || (ch === '.' && isSentenceDot(folded, i)) || ch === '…';
    if (boundary) {
      if (i > start) spans.push({ start, end: i });
      start = i + 1;
    }
  }
  if (start < folded.length) spans.push({ start, end: folded.length });
  return spans;
}

/** Clause spans: sentences further split on commas and on "dar"/"but"/"insa". */
export function clauses(folded: string): Span[] {
  const out: Span[] = [];
  for (const sentence of sentences(folded)) {
    const text = folded.slice(sentence.start, sentence.end);
    const splitter = /,(?!\d)|\s(?:dar|insa|but|iar)\s/g;
    let start = 0;
    for (const match of text.matchAll(splitter)) {
      out.push({ start: sentence.start + start, end: sentence.start + match.index });
      start = match.index + match[0].length;
    }
    out.push({ start: sentence.start + start, end: sentence.end });
  }
  return out.filter((span) => span.end > span.start);
}

export function spanAt(spans: readonly Span[], index: number): Span {
  return (
    spans.find((span) => index >= span.start && index < span.end) ?? { start: index, end: index }
  );
}

/** The clause around an index, as folded text. */
export function clauseText(folded: string, index: number): string {
  const span = spanAt(clauses(folded), index);
  return folded.slice(span.start, span.end);
}

export function sentenceText(folded: string, index: number): string {
  const span = spanAt(sentences(folded), index);
  return folded.slice(span.start, span.end);
}

/** Romanian and English number words, folded; "o"/"un"/"an"/"a" only where a rule allows them. */
export const NUMBER_WORDS: Readonly<Record<string, number>> = {
  unu: 1,
  una: 1,
  doi: 2,
  doua: 2,
  trei: 3,
  patru: 4,
  cinci: 5,
  sase: 6,
  sapte: 7,
  opt: 8,
  noua: 9,
  zece: 10,
  unsprezece: 11,
  unspe: 11,
  doisprezece: 12,
  douasprezece: 12,
  doispe: 12,
  treisprezece: 13,
  treispe: 13,
  paisprezece: 14,
  paispe: 14,
  cincisprezece: 15,
  cinspe: 15,
  saisprezece: 16,
  saispe: 16,
  saptesprezece: 17,
  saptespe: 17,
  optsprezece: 18,
  optspe: 18,
  nouasprezece: 19,
  nouaspe: 19,
  douazeci: 20,
  treizeci: 30,
  patruzeci: 40,
  cincizeci: 50,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  thirteen: 13,
  fourteen: 14,
  fifteen: 15,
  sixteen: 16,
  seventeen: 17,
  eighteen: 18,
  nineteen: 19,
  twenty: 20,
  thirty: 30,
  forty: 40,
  fifty: 50,
};

const WORDS_BY_LENGTH = Object.keys(NUMBER_WORDS).sort((a, b) => b.length - a.length);

/** Regex source for a number: digits (1,5 / 1.5), a word, or "douazeci si cinci". */
export const NUMBER_SOURCE = `(?:\\d+(?:[.,]\\d+)?|(?:${WORDS_BY_LENGTH.join('|')})(?:\\s(?:si|and)\\s(?:${WORDS_BY_LENGTH.join('|')}))?)`;

/** Parses digits ("1,5", "1.200") or number words ("doua", "douazeci si cinci"); null if neither. */
export function parseNumber(raw: string): number | null {
  const text = raw.trim();
  if (/^\d{1,3}(?:\.\d{3})+$/.test(text)) return Number(text.replace(/\./g, ''));
  if (/^\d+(?:[.,]\d+)?$/.test(text)) return Number(text.replace(',', '.'));
  const compound = /^([a-z]+)(?:\s(?:si|and)\s([a-z]+))?$/.exec(text);
  if (compound === null) return null;
  const first = NUMBER_WORDS[compound[1] ?? ''];
  if (first === undefined) return null;
  if (compound[2] === undefined) return first;
  const second = NUMBER_WORDS[compound[2]];
  return second === undefined || first % 10 !== 0 || second >= 10 ? null : first + second;
}

/** Upper-cases the first letter of each word of a name ("ionut" → "Ionut", "ana-maria" → "Ana-Maria"). */
export function capitalise(name: string): string {
  return name.replace(
    /(^|[\s-])(\p{L})/gu,
    (_m, sep: string, letter: string) => sep + letter.toUpperCase(),
  );
}

/** Short quote of the original text around a span, for reasons. */
export function quote(original: string, span: Span): string {
  const text = original.slice(span.start, span.end).replace(/\s+/g, ' ').trim();
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
