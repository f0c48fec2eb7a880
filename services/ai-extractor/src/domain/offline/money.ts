import { NUMBER_SOURCE, overlapsAny, parseNumber, sentences, spanAt, type Span } from './text.js';

export type MoneyKind =
  /** a price for the party */
  | 'plain'
  /** "total 600 lei", "= 1.300 lei", "950 total" */
  | 'total'
  /** "2 ore: 650 lei": the price of one length */
  | 'priced-length'
  /** "350 lei/oră" */
  | 'rate'
  /** "avans 150 lei" */
  | 'advance'
  /** "am trimis 100 lei" */
  | 'payment'
  /** "+ 100 lei deplasare", "se adaugă 50 lei": part of a price, not the price */
  | 'component'
  /** a client's question or counter-offer ("nu se poate 600?") */
  | 'question'
  /** "vă returnăm 100 lei" */
  | 'refund'
  /** "rest de plată 500 lei": what is left to pay, not the price */
  | 'balance';

export interface MoneyMention extends Span {
  value: number;
  kind: MoneyKind;
  /** For priced lengths: the length the price is for. */
  hours: number | null;
  /** A bare number repeating an earlier price ("ok 650") rather than a figure with "lei". */
  echo: boolean;
}

export interface MoneyContext {
  inbound: boolean;
  /** The other side just asked about the advance ("și avansul?"): a lone sum answers it. */
  advanceAsked: boolean;
  /** Prices already quoted in the chat: a bare number equal to one confirms it ("ok 650"). */
  quoted: ReadonlySet<number>;
}

const ADVANCE = /\b(?:avans\w*|arvun\w*|deposit|advance|garantie)\b/;
/** "the 200 RON deposit", "100 lei avans" */
const ADVANCE_AFTER = /^\s?(?:de\s)?(?:avans\w*|arvun\w*|deposit|advance)\b/;
const PAYMENT = /\b(?:trimis|trimit|transferat|transfer|virat|platit|achitat|sent|paid|am dat)\b/;
const REFUND = /\b(?:return\w*|rambursa\w*|refund\w*|inapoi)\b/;
const BALANCE = /\b(?:rest(?:ul)?|diferenta|remaining|balance|left to pay)\b/;
/** A bare number after a price verb is a price even without "lei": "putem face 650", "bine, 650". */
const PRICE_VERB_NUMBER =
  /\b(?:putem face|va putem face|facem|va facem|pretul (?:e|este|ramane)|pret final|raman(?:e|em)(?: la| cu)?|las la|lasam la|stabilim|bine|ok|deal|accept|de acord|agreed|total|in total|deci|cu totul)\s?[,:]?\s?(?:cu\s|la\s)?(\d{1,3}(?:\.\d{3})+|\d{2,5})(?![\d.,:]\d)(?!\s?(?:de\s)?(?:ore|ora|h\b|min|copii|kids|persoane|invitati|ani|an\b|%|pm|am\b|lei|ron))/g;
const COMPONENT_BEFORE =
  /(?:\+|\bplus|\bse adauga|\bse adaugă|\bdeplasare de|\btaxa de deplasare de|\bextra|\bsupliment\w*|\breducere de|\bdiscount of)\s?(?:de\s)?$/;
const COMPONENT_AFTER =
  /^\s?(?:de\s)?(?:deplasare|transport|taxa|in plus|extra|suplimentar|reducere|discount|travel|fee|pentru deplasare)/;
const TOTAL_BEFORE =
  /\b(?:total\w*|in total|cu totul|deci|adica|overall|all in|in total|pret final|final)\b|=/;
const TOTAL_AFTER = /^\s?(?:lei|ron)?\s?(?:total|in total|cu totul|tot\b|overall|all in)/;
const RATE_AFTER = /^\s?(?:\/\s?|pe\s|per\s|an?\s|a\s)(?:ora|oră|h\b|hour|ore)/;
const PRICED_LENGTH_BEFORE = new RegExp(
  String.raw`\b(${NUMBER_SOURCE}|o|un|an)\s?(?:de\s)?(ore|ora|oră|h|hours?|minute|min|minutes)\s?(?:[:=,\-–]|costa|e|este|is)?\s?(?:tot\s|doar\s)?$`,
);
const NOT_ECHO_BEFORE =
  /\b(?:ora|orele|la|nr|numarul|bl|bloc|sc|scara|ap|et|etaj|sector|sect|str|pe|pt|pentru|de la|pana la|intre|din|vreo|sunt|vin|avem|for|at)\.?\s?$/;
const NOT_ECHO_AFTER =
  /^\s?(?:[:./-]\s?\d|lei|ron|ore|ora|h\b|min|copii|kids|children|persoane|invitati|guests|people|ani|an\b|years|%|km|pm|am\b)/;

function lengthHours(raw: string, unit: string): number | null {
  const value = raw === 'o' || raw === 'un' || raw === 'an' ? 1 : parseNumber(raw);
  if (value === null) return null;
  return unit.startsWith('min') ? value / 60 : value;
}

/**
 * Every sum of money in one folded message, classified by the words around it. `blocked` spans
 * (addresses, dates, clock times, lengths, head-counts) never hold a bare echoed price.
 */
export function findMoney(
  folded: string,
  context: MoneyContext,
  blocked: readonly Span[] = [],
): MoneyMention[] {
  const found: MoneyMention[] = [];
  const sentenceSpans = sentences(folded);
  const pattern =
    /(?<![\d.,])(\d{1,3}(?:[.,]\d{3})+|\d+)(?:,(\d{1,2}))?\s?(?:de\s)?(?:lei|ron|roni|ron)\b|\b(?:lei|ron)\s?(\d{2,6})\b/g;
  let previousEnd = 0;
  for (const m of folded.matchAll(pattern)) {
    const start = m.index;
    const end = start + m[0].length;
    // "1.200 lei" and "1,100 RON" group thousands; "12,50 lei" has decimals (two digits).
    const raw = (m[1] ?? m[3] ?? '').replace(/[.,](?=\d{3}(?!\d))/g, '');
    const value = (parseNumber(raw) ?? Number.NaN) + (m[2] === undefined ? 0 : Number(m[2]) / 100);
    if (!Number.isFinite(value)) continue;
    const sentence = spanAt(sentenceSpans, start);
    const windowStart = Math.max(sentence.start, previousEnd);
    const before = folded.slice(windowStart, start);
    const after = folded.slice(end, Math.min(sentence.end, end + 30));
    const sentenceText = folded.slice(sentence.start, sentence.end);
    previousEnd = end;
    found.push({
      start,
      end,
      value,
      ...classify(before, after, sentenceText, folded, sentence, context),
      echo: false,
    });
  }

  for (const m of folded.matchAll(PRICE_VERB_NUMBER)) {
    const value = parseNumber(m[1] ?? '');
    const start = m.index + m[0].lastIndexOf(m[1] ?? '');
    const span = { start, end: m.index + m[0].length };
    if (value === null || value < 50 || overlapsAny(span, [...found, ...blocked])) continue;
    const sentence = spanAt(sentenceSpans, start);
    const asked = context.inbound && folded.charAt(sentence.end) === '?';
    const after = folded.slice(span.end, span.end + 12);
    const kind = asked ? 'question' : TOTAL_AFTER.test(after) ? 'total' : 'plain';
    found.push({ ...span, value, kind, hours: null, echo: false });
  }

  // "avansul de 200 il trimit maine": an advance is money even without "lei".
  for (const m of folded.matchAll(
    /\b(?:avans\w*|arvun\w*|deposit|advance)\s?(?:de\s|of\s|:\s?)?(\d{2,6})(?![\d.,]\d)(?!\s?(?:de\s)?(?:lei|ron|%))/g,
  )) {
    const start = m.index + m[0].lastIndexOf(m[1] ?? '');
    const span = { start, end: m.index + m[0].length };
    if (overlapsAny(span, found)) continue;
    found.push({ ...span, value: Number(m[1]), kind: 'advance', hours: null, echo: false });
  }

  // Bare numbers in the client's messages that repeat a quoted price: "ok 650", "rămâne …, 900".
  if (context.inbound && context.quoted.size > 0) {
    const taken = [...blocked, ...found];
    for (const m of folded.matchAll(
      /(?<![\d.,:/])(\d{1,3}(?:\.\d{3})+|\d{2,5})(?![\d:]|[.,/]\d)/g,
    )) {
      const span = { start: m.index, end: m.index + m[0].length };
      const value = parseNumber(m[1] ?? '');
      if (value === null || !context.quoted.has(value) || overlapsAny(span, taken)) continue;
      const before = folded.slice(Math.max(0, span.start - 12), span.start);
      const after = folded.slice(span.end, span.end + 12);
      if (NOT_ECHO_BEFORE.test(before) || NOT_ECHO_AFTER.test(after)) continue;
      if (ADVANCE.test(before) || PAYMENT.test(before)) continue;
      const total = TOTAL_AFTER.test(after) || TOTAL_BEFORE.test(before);
      found.push({ ...span, value, kind: total ? 'total' : 'plain', hours: null, echo: true });
    }
  }
  return found.sort((a, b) => a.start - b.start);
}

function classify(
  before: string,
  after: string,
  sentenceText: string,
  folded: string,
  sentence: Span,
  context: MoneyContext,
): { kind: MoneyKind; hours: number | null } {
  if (ADVANCE.test(before) || ADVANCE_AFTER.test(after)) return { kind: 'advance', hours: null };
  if (REFUND.test(before)) return { kind: 'refund', hours: null };
  if (BALANCE.test(before)) return { kind: 'balance', hours: null };
  if (PAYMENT.test(before)) return { kind: 'payment', hours: null };
  if (COMPONENT_BEFORE.test(before) || COMPONENT_AFTER.test(after))
    return { kind: 'component', hours: null };
  if (RATE_AFTER.test(after)) return { kind: 'rate', hours: null };
  const asked = context.inbound && folded.charAt(sentence.end) === '?';
  if (asked && !TOTAL_AFTER.test(after)) return { kind: 'question', hours: null };
  if (TOTAL_BEFORE.test(before) || TOTAL_AFTER.test(after)) return { kind: 'total', hours: null };
  const priced = PRICED_LENGTH_BEFORE.exec(before);
  if (priced !== null) {
    return { kind: 'priced-length', hours: lengthHours(priced[1] ?? '', priced[2] ?? '') };
  }
  if (context.advanceAsked && !/\b(?:ore|ora|total|pret)\b/.test(sentenceText)) {
    return { kind: 'advance', hours: null };
  }
  return { kind: 'plain', hours: null };
}

/** The kinds that state the party's price. */
export function isPrice(kind: MoneyKind): boolean {
  return kind === 'plain' || kind === 'total' || kind === 'priced-length' || kind === 'rate';
}
