import { NUMBER_SOURCE, overlapsAny, parseNumber, type Span } from './text.js';

export interface DurationMention extends Span {
  hours: number;
  /** Followed by its price ("2 ore: 650 lei"): a quote, or a line of a price list. */
  priced: boolean;
}

/** "minim 2 ore", "în 10 minute", "peste 2 ore": a limit or a delay, not the party's length. */
const NOT_LENGTH_BEFORE =
  /\b(?:minim|minimum|cel putin|at least|maxim|maximum|max|peste|pana la|up to|in|within|after|acum|dupa|timp de peste)\s?$/;
const NOT_LENGTH_AFTER =
  /^\s?(?:distanta|away|intarziere|late|mai tarziu|later|inainte|before|ago)/;
const PRICE_AFTER =
  /^\s?(?:[:=,\-–]|pentru|for|costa|=)?\s?(?:tot\s|doar\s)?\d[\d.,]*\s?(?:de\s)?(?:lei|ron)\b/;

/** Every length said in one folded message: "2 ore", "o oră și jumătate", "30 de minute", "1h30". */
export function findDurations(folded: string, blocked: readonly Span[] = []): DurationMention[] {
  const found: DurationMention[] = [];
  const taken: Span[] = [...blocked];

  const add = (start: number, end: number, hours: number | null): void => {
    const span = { start, end };
    if (hours === null || !(hours > 0) || hours > 24 || overlapsAny(span, taken)) return;
    taken.push(span);
    const before = folded.slice(Math.max(0, start - 16), start);
    const after = folded.slice(end, end + 30);
    if (NOT_LENGTH_BEFORE.test(before) || NOT_LENGTH_AFTER.test(after)) return;
    found.push({ ...span, hours, priced: PRICE_AFTER.test(after) });
  };

  // 1h30, 1h 30min, 2 ore si 30 de minute
  const hoursMinutes = new RegExp(
    String.raw`\b(${NUMBER_SOURCE}|o|un|an|one)\s?(?:h|ore|ora|oră|hours?)\s?(?:si|și|and)?\s?(\d{1,2})\s?(?:de\s)?(?:min|minute|minutes|mins)\b`,
    'g',
  );
  for (const m of folded.matchAll(hoursMinutes)) {
    const hours = m[1] === 'o' || m[1] === 'un' || m[1] === 'an' ? 1 : parseNumber(m[1] ?? '');
    if (hours === null) continue;
    add(m.index, m.index + m[0].length, hours + Number(m[2]) / 60);
  }
  for (const m of folded.matchAll(/(?<![\d:.])(\d)h(\d{2})\b/g)) {
    add(m.index, m.index + m[0].length, Number(m[1]) + Number(m[2]) / 60);
  }

  // jumatate de ora, half an hour
  for (const m of folded.matchAll(/\b(?:o\s)?jumatate de ora\b|\bhalf an hour\b|\bhalf hour\b/g)) {
    add(m.index, m.index + m[0].length, 0.5);
  }

  // 2 ore, o ora si jumatate, 1,5 ore, an hour and a half, 3 hours
  const hours = new RegExp(
    String.raw`\b(${NUMBER_SOURCE}|o|un|an)\s?(?:de\s)?(ore|ora|oră|hours?|hrs?)\b(\s?(?:(?:si|și|and)\s?)?(?:o\s|a\s)?(?:jumatate|jumate|half))?`,
    'g',
  );
  for (const m of folded.matchAll(hours)) {
    const raw = m[1] ?? '';
    const value = raw === 'o' || raw === 'un' || raw === 'an' ? 1 : parseNumber(raw);
    if (value === null) continue;
    // The singular "oră" follows only "1"/"o": "15 ora 14" is a day and a clock time.
    if ((m[2] === 'ora' || m[2] === 'oră') && value !== 1 && value !== 1.5) continue;
    add(m.index, m.index + m[0].length, value + (m[3] === undefined ? 0 : 0.5));
  }
  // 2h (short hours; 14h is a clock time)
  for (const m of folded.matchAll(/(?<![\d:.,])([1-6](?:[.,]5)?)\s?h\b(?!\d)/g)) {
    add(m.index, m.index + m[0].length, parseNumber(m[1] ?? ''));
  }

  // 30 de minute, 90 min, 45 minutes
  const minutes = new RegExp(
    String.raw`\b(${NUMBER_SOURCE})\s?(?:de\s)?(?:minute|minutes|mins|min)\b`,
    'g',
  );
  for (const m of folded.matchAll(minutes)) {
    const value = parseNumber(m[1] ?? '');
    if (value === null || value < 15) continue;
    add(m.index, m.index + m[0].length, value / 60);
  }

  return found.sort((a, b) => a.start - b.start);
}

/**
 * A message that prices two or more lengths ("1 oră: 400 lei / 2 ore: 650 lei") is a price list:
 * its lengths are options, not the client's choice.
 */
export function isPriceList(mentions: readonly DurationMention[]): boolean {
  const priced = new Set(mentions.filter((m) => m.priced).map((m) => m.hours));
  return priced.size >= 2;
}
