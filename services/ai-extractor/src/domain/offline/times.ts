import { NUMBER_WORDS, clauseText, overlapsAny, parseNumber, type Span } from './text.js';

export interface TimeMention extends Span {
  /** HH:mm, 24-hour. */
  time: string;
  /** Set for ranges ("de la 15 la 18", "14-16"): the length in hours. */
  durationHours: number | null;
  /** Said as unavailable or replaced ("la 16 nu putem", "în loc de 12"). */
  negated: boolean;
}

const AM_WORDS = /\b(?:dimineata|dimineața|am|a\.m\.|morning|in the morning)\b/;
const PM_WORDS =
  /\b(?:dupa-amiaza|dupa amiaza|dupamiaza|dupa-amiazi|dupa amiazi|dupamasa|dupa-masa|dupa masa|seara|diseara|deseara|noaptea|pm|p\.m\.|afternoon|evening|tonight)\b/;
const NEGATED_CLAUSE =
  /\b(?:nu putem|nu se poate|nu pot|nu merge|nu ne convine|nu ne merge|nu e bine|ocupat\w*|indisponibil\w*|not available|can'?t|cannot|busy|no longer)\b/;
const REPLACED_BEFORE = /\b(?:in loc de|instead of|nu la|nu pe|not at)\s?(?:ora\s|orele\s)?$/;

/** After an hour, these make the number a quantity (lei, hours, kids), a date or a clock time. */
const NOT_AN_HOUR_AFTER = String.raw`(?!\s?(?:de\s(?:copii|kids|persoane|invitati|lei|ron|ani)|[:.,/]\d|:\s?\d|\d|-\s?\d|lei|ron|de\slei|ore\b|ora\b|oră|h\b|hours?|min|copii|kids|children|persoane|invitati|guests|people|ani\b|an\b|years?|%|km|personaje|bucati|euro|ianuarie|ian\b|februarie|feb|martie|mar\b|aprilie|apr|mai\b|iunie|iun\b|iulie|iul\b|august|aug\b|septembrie|sept?\b|octombrie|oct\b|noiembrie|nov\b|decembrie|dec\b))`;

const HOUR_WORDS = Object.keys(NUMBER_WORDS)
  .filter((word) => (NUMBER_WORDS[word] ?? 0) <= 12)
  .sort((a, b) => b.length - a.length)
  .join('|');

const pad = (n: number): string => String(n).padStart(2, '0');

function toClock(hour: number, minute: number): string | null {
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59) return null;
  return `${pad(hour)}:${pad(minute)}`;
}

/**
 * Turns a spoken hour into 24-hour time: "5 pm" / "la 5 după-amiaza" → 17; parties do not start
 * at 1–7 in the morning, so a bare 1–7 means the afternoon unless "dimineața" says otherwise.
 */
function to24(hour: number, meridiem: 'am' | 'pm' | null, context: string): number {
  const pm = meridiem === 'pm' || (meridiem === null && PM_WORDS.test(context));
  const am = meridiem === 'am' || (meridiem === null && !pm && AM_WORDS.test(context));
  if (hour === 12) return am && meridiem === 'am' ? 0 : 12;
  if (hour > 12) return hour;
  if (pm) return hour + 12;
  if (am) return hour;
  return hour >= 1 && hour <= 7 ? hour + 12 : hour;
}

function meridiemOf(raw: string | undefined): 'am' | 'pm' | null {
  if (raw === undefined) return null;
  return raw.startsWith('p') ? 'pm' : 'am';
}

/** Minutes for "si jumatate", "si un sfert", "fara un sfert" (handled as :45 of the hour before). */
function halfQuarter(raw: string | undefined): number {
  if (raw === undefined) return 0;
  if (
    raw.includes('jumat') ||
    raw.includes('jumate') ||
    raw.includes('30') ||
    raw.includes('treizeci')
  )
    return 30;
  if (raw.includes('45')) return 45;
  return 15;
}

/** Every time of day said in one folded message (`blocked`: dates and addresses). */
export function findTimes(folded: string, blocked: readonly Span[] = []): TimeMention[] {
  const found: TimeMention[] = [];
  const taken: Span[] = [...blocked];

  const add = (
    start: number,
    end: number,
    hour: number,
    minute: number,
    durationHours: number | null,
  ): void => {
    const span = { start, end };
    const time = toClock(hour, minute);
    if (time === null || overlapsAny(span, taken)) return;
    taken.push(span);
    const clause = clauseText(folded, start);
    const before = folded.slice(Math.max(0, start - 16), start);
    const negated = NEGATED_CLAUSE.test(clause) || REPLACED_BEFORE.test(before);
    found.push({ ...span, time, durationHours, negated });
  };

  const contextOf = (start: number): string => clauseText(folded, start);

  // ranges: "de la 15 la 18", "intre 14 si 16", "ora 14-16", "from 2 to 4 pm"
  const t = String.raw`(\d{1,2})(?:[:.](\d{2}))?\s?(pm|am|p\.m\.|a\.m\.)?`;
  const range = new RegExp(
    String.raw`\b(?:de la|intre|from|between|ora|orele|in intervalul|interval(?:ul)?)\s(?:ora\s|orele\s)?${t}\s?(?:-|la|pana la|si|to|until|and)\s?(?:ora\s)?${t}(?![\d:.]\d)${NOT_AN_HOUR_AFTER}`,
    'g',
  );
  const bareRange = new RegExp(
    String.raw`(?<![\w.,/-])(\d{1,2})(?::(\d{2}))?\s?(pm|am)?\s?-\s?(\d{1,2})(?::(\d{2}))?\s?(pm|am)?(?![\w/:-]|[.,]\d)${NOT_AN_HOUR_AFTER}`,
    'g',
  );
  const addRange = (m: RegExpMatchArray, h1: number, m1: number, h2: number, m2: number): void => {
    const context = contextOf(m.index ?? 0);
    const end24 = to24(h2, null, context);
    // "2-4" in the afternoon: the end decides for both when only it is clearly afternoon.
    let start24 = to24(h1, null, context);
    if (start24 > end24 && start24 - 12 >= 0) start24 -= 12;
    const hours = end24 + m2 / 60 - (start24 + m1 / 60);
    if (hours <= 0 || hours > 12) return;
    add(m.index ?? 0, (m.index ?? 0) + m[0].length, start24, m1, Math.round(hours * 100) / 100);
  };
  const handleRange = (m: RegExpMatchArray): void => {
    const index = m.index ?? 0;
    const [h1, h2] = [Number(m[1]), Number(m[4])];
    const mer1 = meridiemOf(m[3]) ?? meridiemOf(m[6]);
    const mer2 = meridiemOf(m[6]) ?? mer1;
    if (mer1 !== null || mer2 !== null) {
      const context = contextOf(index);
      const s = to24(h1, mer1, context);
      const e = to24(h2, mer2, context);
      const hours = e + Number(m[5] ?? 0) / 60 - (s + Number(m[2] ?? 0) / 60);
      if (hours > 0 && hours <= 12) {
        add(index, index + m[0].length, s, Number(m[2] ?? 0), Math.round(hours * 100) / 100);
      }
      return;
    }
    addRange(m, h1, Number(m[2] ?? 0), h2, Number(m[5] ?? 0));
  };
  for (const m of folded.matchAll(range)) handleRange(m);
  for (const m of folded.matchAll(bareRange)) {
    const [h1, h2] = [Number(m[1]), Number(m[4])];
    const before = folded.slice(Math.max(0, m.index - 8), m.index);
    if (/\b(?:bl|bloc|sc|scara|ap|nr|et|etaj|sector|sect|str|numarul)\.?\s?$/.test(before))
      continue;
    const meridiem = m[3] !== undefined || m[6] !== undefined;
    // "2-3 copii", "1-2 ore" are not hours
    if (h1 < 8 && m[2] === undefined && !meridiem) continue;
    if (h1 > 23 || h2 > 23) continue;
    handleRange(m);
  }

  // 14:30, 14h30, 14h
  for (const m of folded.matchAll(/(?<![\d:.,])([01]?\d|2[0-3])(?::|h)([0-5]\d)(?![\d:])/g)) {
    const context = contextOf(m.index);
    add(m.index, m.index + m[0].length, to24(Number(m[1]), null, context), Number(m[2]), null);
  }
  for (const m of folded.matchAll(/(?<![\d:.,])(8|9|1\d|2[0-3])h(?![\w])/g)) {
    add(m.index, m.index + m[0].length, Number(m[1]), 0, null);
  }
  // 14.00, 10.30 that no date claimed (the dates pass first: "16.05" is a day)
  for (const m of folded.matchAll(
    /(?<![\d:.,/])([01]?\d|2[0-3])\.(00|15|30|45)(?![\d.,:/]|\s?(?:lei|ron))/g,
  )) {
    const context = contextOf(m.index);
    add(m.index, m.index + m[0].length, to24(Number(m[1]), null, context), Number(m[2]), null);
  }

  // 5pm, 2 pm, 10:30 am, at 9 am
  for (const m of folded.matchAll(
    /(?<![\d:.,])(\d{1,2})(?:[:.](\d{2}))?\s?(pm|p\.m\.|am|a\.m\.)(?![a-z])/g,
  )) {
    const meridiem = meridiemOf(m[3]);
    const before = folded.slice(Math.max(0, m.index - 10), m.index);
    // "am" is also Romanian for "I have": trust it only with minutes or after "at".
    if (meridiem === 'am' && m[2] === undefined && !/\b(?:at|by|around|from)\s?$/.test(before))
      continue;
    const hour = Number(m[1]);
    if (hour < 1 || hour > 12) continue;
    add(m.index, m.index + m[0].length, to24(hour, meridiem, ''), Number(m[2] ?? 0), null);
  }

  // ora 14, la 16, pe la 5 după-amiaza, ora cinci si jumatate, ora 14.30, at 6
  const cue = new RegExp(
    String.raw`\b(ora|orele|la ora|la orele|pe la|pe la ora|in jur de ora|la|at|around|catre ora|spre ora|de la ora|incepand cu ora|starting at)\s(\d{1,2}|${HOUR_WORDS})(?:[.](\d{2})(?!\d))?(\s(?:si|și|and)\s(?:jumatate|jumate|un sfert|sfert|treizeci|30|15|45|a half))?${NOT_AN_HOUR_AFTER}`,
    'g',
  );
  for (const m of folded.matchAll(cue)) {
    const cueWord = m[1] ?? '';
    const rawHour = m[2] ?? '';
    const isWord = !/^\d/.test(rawHour);
    if (isWord && !cueWord.includes('ora') && !cueWord.includes('orele')) continue;
    const hour = parseNumber(rawHour);
    if (hour === null || hour > 23) continue;
    // "la 40" or "at 100" are not hours; "la 0" neither.
    if (hour === 0 && !cueWord.includes('ora')) continue;
    const minute = m[3] === undefined ? halfQuarter(m[4]) : Number(m[3]);
    const after = folded.slice(m.index + m[0].length, m.index + m[0].length + 30);
    const meridiem = /^\s?(?:pm|p\.m\.)/.test(after) ? 'pm' : null;
    const context = `${contextOf(m.index)} ${after.split(/[,.;!?]/)[0] ?? ''}`;
    const start = m.index + (m[0].length - m[0].trimStart().length);
    add(start, m.index + m[0].length, to24(hour, meridiem, context), minute, null);
  }

  // la prânz / at noon
  for (const m of folded.matchAll(/\b(?:la pranz|la amiaza|at noon|at midday)\b/g)) {
    add(m.index, m.index + m[0].length, 12, 0, null);
  }

  return found.sort((a, b) => a.start - b.start);
}
