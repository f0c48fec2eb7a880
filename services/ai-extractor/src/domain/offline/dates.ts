import {
  addDays,
  isValidDay,
  nextDayOfMonth,
  nextMonthDay,
  nextWeekday,
  orthodoxEaster,
  weekdayNextWeek,
  type CalendarDay,
} from './calendar.js';
import { clauseText, overlapsAny, sentenceText, type Span } from './text.js';

export type DateKind = 'absolute' | 'day-of-month' | 'holiday' | 'weekday' | 'relative-day';

export interface DateMention extends Span {
  date: CalendarDay;
  kind: DateKind;
  /** Higher is more specific; within one message the most specific mention wins. */
  rank: number;
}

const MONTHS: ReadonlyArray<readonly [number, readonly string[]]> = [
  [1, ['ianuarie', 'ian', 'january', 'jan']],
  [2, ['februarie', 'febr', 'feb', 'february']],
  [3, ['martie', 'mart', 'mar', 'march']],
  [4, ['aprilie', 'apr', 'april']],
  [5, ['mai', 'may']],
  [6, ['iunie', 'iun', 'june', 'jun']],
  [7, ['iulie', 'iul', 'july', 'jul']],
  [8, ['august', 'aug']],
  [9, ['septembrie', 'sept', 'sep', 'september']],
  [10, ['octombrie', 'oct', 'october']],
  [11, ['noiembrie', 'nov', 'november']],
  [12, ['decembrie', 'dec', 'december']],
];

const MONTH_BY_NAME = new Map<string, number>(
  MONTHS.flatMap(([month, names]) => names.map((name) => [name, month] as const)),
);
const MONTH_SOURCE = [...MONTH_BY_NAME.keys()].sort((a, b) => b.length - a.length).join('|');
/** Month-first ("April 5th") only with unambiguous names: "mai 2 ore" means "two more hours". */
const MONTH_FIRST_SOURCE = [...MONTH_BY_NAME.keys()]
  .filter((name) => name.length > 3 && name !== 'mart')
  .sort((a, b) => b.length - a.length)
  .join('|');

/** Folded weekday names, Monday = 0. English names need a cue ("on", "next") to count alone. */
const RO_WEEKDAYS: ReadonlyArray<readonly [number, string]> = [
  [0, 'lunea|luni'],
  [1, 'martea|marti'],
  [2, 'miercurea|miercuri'],
  [3, 'joia|joi'],
  [4, 'vinerea|vineri'],
  [5, 'sambata|simbata'],
  [6, 'duminica'],
];
const EN_WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

function weekdayIndex(word: string): number | null {
  const english = EN_WEEKDAYS.indexOf(word);
  if (english >= 0) return english;
  for (const [index, names] of RO_WEEKDAYS) if (names.split('|').includes(word)) return index;
  return null;
}

const RO_WEEKDAY_SOURCE = RO_WEEKDAYS.map(([, names]) => names).join('|');
const ANY_WEEKDAY_SOURCE = `${RO_WEEKDAY_SOURCE}|${EN_WEEKDAYS.join('|')}`;

/** After a number, these words make it a quantity, not a day of the month. */
const UNIT_AFTER = String.raw`(?!\s?(?:[:./-]\s?\d|h\b|ore\b|hours?\b|min|lei|ron|de\slei|copii|kids|children|persoane|invitati|guests|people|ani\b|an\b|years?|%|km|pm\b|am\b|personaje|bucati|euro))`;

interface Holiday {
  pattern: string;
  resolve: (year: number) => CalendarDay;
}

const fixed =
  (month: number, day: number) =>
  (year: number): CalendarDay => ({ year, month, day });

/** Holidays people name instead of a date ("de Crăciun", "de 1 iunie" is already a date). */
const HOLIDAYS: readonly Holiday[] = [
  { pattern: String.raw`ajunul craciunului|ajun(?:ul)?|christmas eve`, resolve: fixed(12, 24) },
  { pattern: String.raw`(?:mos\s)?craciun(?:ul)?|christmas`, resolve: fixed(12, 25) },
  { pattern: String.raw`revelion(?:ul)?|new year'?s eve`, resolve: fixed(12, 31) },
  { pattern: String.raw`anul nou|new year'?s day`, resolve: fixed(1, 1) },
  { pattern: String.raw`boboteaza`, resolve: fixed(1, 6) },
  { pattern: String.raw`sf(?:antul|\.)?\sion`, resolve: fixed(1, 7) },
  { pattern: String.raw`valentine'?s(?: day)?|ziua indragostitilor`, resolve: fixed(2, 14) },
  { pattern: String.raw`dragobete`, resolve: fixed(2, 24) },
  { pattern: String.raw`martisor(?:ul)?`, resolve: fixed(3, 1) },
  { pattern: String.raw`ziua femeii|ziua mamei`, resolve: fixed(3, 8) },
  { pattern: String.raw`ziua copilului|children'?s day`, resolve: fixed(6, 1) },
  { pattern: String.raw`halloween`, resolve: fixed(10, 31) },
  { pattern: String.raw`sf(?:antul|\.)?\sandrei`, resolve: fixed(11, 30) },
  { pattern: String.raw`ziua nationala`, resolve: fixed(12, 1) },
  { pattern: String.raw`(?:mos|sf(?:antul|\.)?)\snicolae`, resolve: fixed(12, 6) },
  { pattern: String.raw`paste|pasti|easter`, resolve: orthodoxEaster },
  { pattern: String.raw`rusalii(?:le)?`, resolve: (year) => addDays(orthodoxEaster(year), 49) },
];

function nextHoliday(from: CalendarDay, holiday: Holiday): CalendarDay {
  for (let year = from.year; ; year += 1) {
    const day = holiday.resolve(year);
    if (
      day.year > from.year ||
      day.month > from.month ||
      (day.month === from.month && day.day >= from.day)
    ) {
      return day;
    }
  }
}

/** Words that put a clause in the past: a date in it is not the booking's ("sâmbătă am avut…"). */
const PAST =
  /\b(?:am avut|a fost|au fost|ati fost|am fost|am facut|a venit|ati venit|trecuta|trecut|ieri|alaltaieri|last|was|were|had|did)\b/;
/** Verbs about paying or getting back to someone: "trimit mâine" is not the party's date. */
const NOT_EVENT_VERB =
  /\b(?:trimit|trimitem|trimite|platesc|platim|achit|achitam|transfer|virez|vir|sun|suna|sunam|revin|revenim|raspund|anunt|anuntam|zic|spun|vorbim|vorbesc|scriu|send|pay|call|get back)\b/;
/** A relative day ("mâine") counts only next to a time or a booking cue. */
const RELATIVE_DAY_CUE =
  /\b(?:ora|orele|la \d{1,2}|\d{1,2}\s?-\s?\d{1,2}|\d[:.]\d\d|\d\s?pm|aveti|avem|aveți|vrem|vreau|rezerv\w*|book\w*|disponibil\w*|liber\w*|petrecere|party|eveniment|(?<!buna\s)ziua|veniti|venim|puteti|se poate|urgent|pentru|pt|for|at)\b/;
const TODAY_CUE =
  /\b(?:ora|orele|la \d{1,2}|\d[:.]\d\d|\d\s?pm|aveti|avem|liber\w*|disponibil\w*|urgent|book\w*|rezerv\w*)\b/;
const NEGATION_BEFORE = /(?:\bnu|\bnot|\bin loc de|\binstead of)\s?(?:pe|de|la|in|on|for|din)?\s?$/;

/**
 * Every date said in one message, resolved against that message's own local date (`reference`).
 * `folded` is the folded message; `blocked` are spans (addresses) where numbers are not dates.
 */
export function findDates(
  folded: string,
  reference: CalendarDay,
  blocked: readonly Span[] = [],
): DateMention[] {
  const found: DateMention[] = [];
  const taken: Span[] = [...blocked];

  const add = (
    start: number,
    end: number,
    date: CalendarDay | null,
    kind: DateKind,
    rank: number,
  ): void => {
    const span = { start, end };
    if (date === null || overlapsAny(span, taken)) return;
    taken.push(span);
    // Weekdays and "mâine" are vaguer: a past verb anywhere in their sentence rules them out.
    const scope = rank <= 1 ? sentenceText(folded, start) : clauseText(folded, start);
    const before = folded.slice(Math.max(0, start - 14), start);
    if (PAST.test(scope) || NEGATION_BEFORE.test(before)) return;
    found.push({ ...span, date, kind, rank });
  };

  // 2026-01-17
  for (const m of folded.matchAll(/\b(\d{4})-(\d{2})-(\d{2})\b/g)) {
    const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const ok = isValidDay(year, month, day);
    add(m.index, m.index + m[0].length, ok ? { year, month, day } : null, 'absolute', 5);
  }

  // 17 ian, 24 ianuarie 2026, 5th of April, 1-lea iunie
  const dayMonth = new RegExp(
    String.raw`\b(\d{1,2})(?:st|nd|rd|th|-?lea|-a)?\s?(?:of\s)?(${MONTH_SOURCE})\b\.?(?:\s?,?\s?(\d{4})\b)?(?!\s(?:mult|multi|multe|mare|mari|putin|putini|bine|tarziu|devreme|tare|repede|ieftin|scump|e\b|este\b|sunt\b|avem\b))`,
    'g',
  );
  for (const m of folded.matchAll(dayMonth)) {
    const day = Number(m[1]);
    const month = MONTH_BY_NAME.get(m[2] ?? '') ?? 0;
    const year = m[3] === undefined ? null : Number(m[3]);
    const date =
      year === null
        ? nextMonthDay(reference, month, day)
        : isValidDay(year, month, day)
          ? { year, month, day }
          : null;
    add(m.index, m.index + m[0].length, date, 'absolute', 5);
  }

  // April 5th, December 13, 2026
  const monthDay = new RegExp(
    String.raw`\b(${MONTH_FIRST_SOURCE})\s(\d{1,2})(?:st|nd|rd|th)?\b${UNIT_AFTER}(?:\s?,?\s?(\d{4})\b)?`,
    'g',
  );
  for (const m of folded.matchAll(monthDay)) {
    const month = MONTH_BY_NAME.get(m[1] ?? '') ?? 0;
    const day = Number(m[2]);
    const year = m[3] === undefined ? null : Number(m[3]);
    const date =
      year === null
        ? nextMonthDay(reference, month, day)
        : isValidDay(year, month, day)
          ? { year, month, day }
          : null;
    add(m.index, m.index + m[0].length, date, 'absolute', 5);
  }

  // 16.05, 3/10, 16.05.2026 — a dot form after "ora"/"la" is a time (14.30), not a date.
  for (const m of folded.matchAll(
    /(?<![\d.,:/])(\d{1,2})([./])(\d{1,2})(?:\2(\d{4}|\d{2}))?(?![\d:]|[.,/]\d)/g,
  )) {
    const day = Number(m[1]);
    const month = Number(m[3]);
    const before = folded.slice(Math.max(0, m.index - 12), m.index);
    const after = folded.slice(m.index + m[0].length, m.index + m[0].length + 8);
    if (m[2] === '.' && m[4] === undefined) {
      if (/\b(?:ora|orele|la|pe la|de la|pana la|intre|at|si)\s?$/.test(before)) continue;
      if (/^\s?(?:lei|ron|ore\b|h\b|min|%|km)/.test(after)) continue;
    }
    let year: number | null = m[4] === undefined ? null : Number(m[4]);
    if (year !== null && year < 100) year += 2000;
    const date =
      year === null
        ? nextMonthDay(reference, month, day)
        : isValidDay(year, month, day)
          ? { year, month, day }
          : null;
    add(m.index, m.index + m[0].length, date, 'absolute', 5);
  }

  // holidays: "de Crăciun", "de 1 iunie" (already a date), "on Christmas"
  for (const holiday of HOLIDAYS) {
    const pattern = new RegExp(
      String.raw`\b(?:de|pe|in|on|for|at|la|pentru|pt)\s(?:ziua de\s)?(?:${holiday.pattern})\b`,
      'g',
    );
    for (const m of folded.matchAll(pattern)) {
      add(m.index, m.index + m[0].length, nextHoliday(reference, holiday), 'holiday', 2);
    }
  }

  // sâmbătă 31, duminica de 15, Sunday the 13th
  const weekdayDay = new RegExp(
    String.raw`\b(${ANY_WEEKDAY_SOURCE})\s?,?\s?(?:de|pe|din|the)?\s?(\d{1,2})(?:st|nd|rd|th|-?lea)?\b${UNIT_AFTER}`,
    'g',
  );
  for (const m of folded.matchAll(weekdayDay)) {
    const day = Number(m[2]);
    const weekday = weekdayIndex(m[1] ?? '');
    add(m.index, m.index + m[0].length, nextDayOfMonth(reference, day, weekday), 'day-of-month', 4);
  }

  // pe 28, pe data de 15, on the 13th
  const dayOnly = new RegExp(
    String.raw`\b(?:pe|pe data de|data de|in data de|on the|the)\s(\d{1,2})(?:st|nd|rd|th|-?lea)?\b${UNIT_AFTER}(?!\s?(?:${MONTH_SOURCE})\b)`,
    'g',
  );
  for (const m of folded.matchAll(dayOnly)) {
    const day = Number(m[1]);
    add(m.index, m.index + m[0].length, nextDayOfMonth(reference, day, null), 'day-of-month', 3);
  }

  // sâmbătă, sâmbăta asta, sâmbăta viitoare, next Saturday, on Sunday
  const roWeekday = new RegExp(
    String.raw`(?<!\d\s{0,2})\b(${RO_WEEKDAY_SOURCE})\b(?:\s(asta|aceasta|acum|viitoare|viitor|urmatoare|urmator|care vine|cealalta|trecuta|trecut))?`,
    'g',
  );
  for (const m of folded.matchAll(roWeekday)) {
    const weekday = weekdayIndex(m[1] ?? '');
    if (weekday === null) continue;
    const which = m[2];
    if (which === 'trecuta' || which === 'trecut') continue;
    let date: CalendarDay;
    if (which === undefined) date = nextWeekday(reference, weekday, false);
    else if (which === 'asta' || which === 'aceasta' || which === 'acum') {
      date = nextWeekday(reference, weekday, true);
    } else date = weekdayNextWeek(reference, weekday);
    add(m.index, m.index + m[0].length, date, 'weekday', 1);
  }
  const enWeekday = new RegExp(
    String.raw`\b(on|this|next|coming|this coming)\s(${EN_WEEKDAYS.join('|')})\b`,
    'g',
  );
  for (const m of folded.matchAll(enWeekday)) {
    const weekday = weekdayIndex(m[2] ?? '');
    if (weekday === null) continue;
    const date =
      m[1] === 'next'
        ? weekdayNextWeek(reference, weekday)
        : nextWeekday(reference, weekday, m[1] !== 'on');
    add(m.index, m.index + m[0].length, date, 'weekday', 1);
  }

  // azi, mâine, poimâine, diseară — only as the party's day, not "trimit mâine"
  // "azi" is said about many things ("azi e ziua bunicii"): it needs a time or an availability ask.
  const relative: ReadonlyArray<readonly [string, number, RegExp]> = [
    ['the day after tomorrow|poimaine|poimine', 2, RELATIVE_DAY_CUE],
    ['maine|tomorrow', 1, RELATIVE_DAY_CUE],
    ['diseara|deseara|tonight|in seara asta', 0, RELATIVE_DAY_CUE],
    ['azi|astazi|today', 0, TODAY_CUE],
  ];
  for (const [words, offset, cue] of relative) {
    for (const m of folded.matchAll(new RegExp(String.raw`\b(?:${words})\b`, 'g'))) {
      if (NOT_EVENT_VERB.test(clauseText(folded, m.index))) continue;
      if (!cue.test(sentenceText(folded, m.index))) continue;
      add(m.index, m.index + m[0].length, addDays(reference, offset), 'relative-day', 1);
    }
  }

  return found.sort((a, b) => a.start - b.start);
}

/** The mention a message means: the most specific one, the later one on a tie. */
export function pickDate(mentions: readonly DateMention[]): DateMention | null {
  let best: DateMention | null = null;
  for (const mention of mentions) if (best === null || mention.rank >= best.rank) best = mention;
  return best;
}
