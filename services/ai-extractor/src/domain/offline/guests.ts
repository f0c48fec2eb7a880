import { NUMBER_SOURCE, overlapsAny, parseNumber, type Span } from './text.js';

export interface GuestsMention extends Span {
  guests: number;
  /** Children are the head-count that matters; adults are used only when no children are given. */
  children: boolean;
}

const CHILD_WORDS = String.raw`copii|copiii|copilasi|copii\w*|pici|kids|children|childs|copchii`;
const ADULT_WORDS = String.raw`invitati|invitați|persoane|oameni|adulti|guests|people|participanti|musafiri`;

/** Head-counts in one folded message: "10 copii", "20 de invitați", "about 15 kids", "vreo 30". */
export function findGuests(folded: string, blocked: readonly Span[] = []): GuestsMention[] {
  const found: GuestsMention[] = [];
  const pattern = new RegExp(
    String.raw`\b(?:\d{1,4}\s?(?:-|sau|or|to|pana la)\s?)?(${NUMBER_SOURCE})\s?(?:de\s)?(?:(?:mici|mari)\s)?(?:(${CHILD_WORDS})|(${ADULT_WORDS}))\b`,
    'g',
  );
  for (const m of folded.matchAll(pattern)) {
    const span = { start: m.index, end: m.index + m[0].length };
    const value = parseNumber(m[1] ?? '');
    if (value === null || !Number.isInteger(value) || value < 1 || value > 1000) continue;
    if (overlapsAny(span, blocked)) continue;
    // "copiii de 5 ani" is fine, "copii din 2 grupe" too; but "2 copii ai mei" is a family, still a count.
    found.push({ ...span, guests: value, children: m[2] !== undefined });
  }
  return found;
}

/** The count one message settles on: its last children count, else its last other count. */
export function pickGuests(mentions: readonly GuestsMention[]): GuestsMention | null {
  const children = mentions.filter((m) => m.children);
  return children.at(-1) ?? mentions.at(-1) ?? null;
}
