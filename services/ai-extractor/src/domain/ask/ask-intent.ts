import { normalizeForRules } from '../offline/text.js';

export type AskLanguage = 'ro' | 'en';

export type AskIntent =
  | 'spend'
  | 'balance'
  | 'count'
  | 'last-event'
  | 'next-event'
  | 'events-in-period'
  | 'characters'
  | 'performers'
  | 'unknown';

/** An inclusive range of calendar dates (YYYY-MM-DD) with how to name it in an answer. */
export interface AskPeriod {
  from: string;
  to: string;
  label: string;
}

export interface ParsedQuestion {
  language: AskLanguage;
  intent: AskIntent;
  period: AskPeriod | null;
}

/** Lower case without diacritics (ș, ş, ț, ţ, ă, â, î all fold), so typing without them works. */
export function fold(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase();
}

const RO_HINTS =
  /\b(cat|cati|cate|ce|cand|care|clientul|a|al|si|pentru|luna|anul|in|eveniment\w*|petrecer\w*|cheltuit|platit|personaj\w*|urmator\w*|ultim\w*|rezervar\w*)\b/g;
const EN_HINTS =
  /\b(how|much|many|what|when|which|the|client|has|did|spent|paid|events?|bookings?|parties|party|last|next|month|year|characters?|in)\b/g;

export function detectLanguage(question: string): AskLanguage {
  if (/[ăâîșşțţ]/i.test(question)) return 'ro';
  const folded = fold(question);
  const ro = folded.match(RO_HINTS)?.length ?? 0;
  const en = folded.match(EN_HINTS)?.length ?? 0;
  return en > ro ? 'en' : 'ro';
}

const MONTHS_RO = [
  'ianuarie',
  'februarie',
  'martie',
  'aprilie',
  'mai',
  'iunie',
  'iulie',
  'august',
  'septembrie',
  'octombrie',
  'noiembrie',
  'decembrie',
];
const MONTHS_EN = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];

const pad = (n: number) => String(n).padStart(2, '0');

function lastDay(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function monthPeriod(year: number, month: number, language: AskLanguage): AskPeriod {
  const name = (language === 'ro' ? MONTHS_RO : MONTHS_EN)[month - 1]!;
  return {
    from: `${year}-${pad(month)}-01`,
    to: `${year}-${pad(month)}-${pad(lastDay(year, month))}`,
    label:
      language === 'ro' ? `${name} ${year}` : `${name[0]!.toUpperCase()}${name.slice(1)} ${year}`,
  };
}

function yearPeriod(year: number): AskPeriod {
  return { from: `${year}-01-01`, to: `${year}-12-31`, label: String(year) };
}

/** Today's calendar date in Europe/Bucharest. */
export function todayInBucharest(now: Date): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Europe/Bucharest',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(now);
}

interface PeriodMatch {
  period: AskPeriod;
  /** The question with the period's words removed, so "last month" is not read as "last event". */
  rest: string;
}

/** Finds a period in a folded question: a year, a named month, or this/last/next month or year. */
export function findPeriod(
  folded: string,
  today: string,
  language: AskLanguage,
): PeriodMatch | null {
  const year = Number(today.slice(0, 4));
  const month = Number(today.slice(5, 7));
  const shift = (delta: number) => {
    const index = year * 12 + (month - 1) + delta;
    return monthPeriod(Math.floor(index / 12), (index % 12) + 1, language);
  };
  const relative: Array<[RegExp, () => AskPeriod]> = [
    [/\bluna (trecuta|precedenta)\b|\blast month\b|\bprevious month\b/, () => shift(-1)],
    [/\bluna (aceasta|asta|curenta)\b|\bluna aceasta\b|\bthis month\b/, () => shift(0)],
    [/\bluna (viitoare|urmatoare)\b|\bnext month\b/, () => shift(1)],
    [/\banul (trecut|precedent)\b|\blast year\b/, () => yearPeriod(year - 1)],
    [/\banul (acesta|asta|curent)\b|\bthis year\b/, () => yearPeriod(year)],
    [/\banul (viitor|urmator)\b|\bnext year\b/, () => yearPeriod(year + 1)],
  ];
  for (const [pattern, make] of relative) {
    const m = pattern.exec(folded);
    if (m !== null) return { period: make(), rest: folded.replace(m[0], ' ') };
  }
  const names = [...MONTHS_RO, ...MONTHS_EN];
  const monthRe = new RegExp(`\\b(${names.join('|')})\\b(?:\\s(\\d{4}))?`);
  const named = monthRe.exec(folded);
  // "mai" is also Romanian for "more"/"still": only a month when a year or "în"/"in" goes with it.
  if (
    named !== null &&
    (named[1] !== 'mai' || named[2] !== undefined || /\b(in|din|pe) mai\b/.test(folded))
  ) {
    const index =
      MONTHS_RO.indexOf(named[1]!) >= 0
        ? MONTHS_RO.indexOf(named[1]!)
        : MONTHS_EN.indexOf(named[1]!);
    const y = named[2] !== undefined ? Number(named[2]) : year;
    return { period: monthPeriod(y, index + 1, language), rest: folded.replace(named[0], ' ') };
  }
  const y = /\b(19|20)\d{2}\b/.exec(folded);
  if (y !== null) return { period: yearPeriod(Number(y[0])), rest: folded.replace(y[0], ' ') };
  return null;
}

const COUNT_WORD = /\b(?:cat[ei]|numar(?:ul)?|how many|count|number of)\b/;
const EVENTS_WORD =
  /\b(?:eveniment\w*|petrecer\w*|rezervar\w*|comenz\w*|events?|bookings?|parties|party|orders?)\b/;

const INTENTS: Array<[AskIntent, RegExp | ((text: string) => boolean)]> = [
  [
    'balance',
    /\b(rest(ul)? de plata|mai (are|avea) de (plata|platit|achitat)|de achitat|datoreaza|restant\w*|owes?|outstanding|balance|left to pay|still to pay|remaining)\b/,
  ],
  [
    'performers',
    /\b(animator\w*|cine (vine|joaca|canta|face|anima)\w*|performers?|who (performs|is performing|plays|comes|is coming))\b/,
  ],
  ['characters', /\b(personaj\w*|mascot\w*|characters?|costum\w*)\b/],
  [
    'next-event',
    /\b(urmator\w*|viitor\w*|urmeaza|programat\w*|next|upcoming|coming up|scheduled)\b/,
  ],
  ['last-event', /\b(ultim\w*|precedent\w*|most recent|last|previous|latest)\b/],
  [
    'spend',
    /\b(cheltuit\w*|cheltui\w*|platit|plata|platite|bani|incasat\w*|spent|spend|spending|paid|pay|money|revenue)\b/,
  ],
  [
    'count',
    (text) => {
      // A count word, then an events word after it (two linear scans, not one `.*` pattern).
      const asked = COUNT_WORD.exec(text);
      return asked !== null && EVENTS_WORD.test(text.slice(asked.index + asked[0].length));
    },
  ],
  ['events-in-period', EVENTS_WORD],
];

/** Reads what a question asks; figures are computed elsewhere, in code. */
export function parseQuestion(asked: string, now: Date): ParsedQuestion {
  // Bounded and with white space collapsed, as the rules' patterns expect.
  const question = normalizeForRules(asked);
  const language = detectLanguage(question);
  const folded = fold(question);
  const found = findPeriod(folded, todayInBucharest(now), language);
  const rest = found?.rest ?? folded;
  let intent: AskIntent = 'unknown';
  for (const [name, pattern] of INTENTS) {
    if (typeof pattern === 'function' ? pattern(rest) : pattern.test(rest)) {
      intent = name;
      break;
    }
  }
  // "Events" with no period and no other cue is a count of all events.
  if (intent === 'events-in-period' && found === null) intent = 'count';
  return { language, intent, period: found?.period ?? null };
}
