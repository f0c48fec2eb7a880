import type { DraftEvent } from '@wacrm/contracts';
import type {
  ChatMessageInput,
  ExtractionInput,
  ExtractionOutput,
  ExtractionProvider,
} from '../extraction-provider.js';
import { findAddresses } from './addresses.js';
import {
  CANCELLED,
  CONFIRMED,
  DEFERRED,
  PARTY_WORDS,
  WRONG_NUMBER,
  findServices,
} from './booking-signals.js';
import { compareDays, formatDay, localDateOf, weekdayOf, type CalendarDay } from './calendar.js';
import { findCharacters } from './characters.js';
import { findChild } from './child.js';
import { findDates, pickDate, type DateMention } from './dates.js';
import { findDurations, isPriceList } from './durations.js';
import { findGuests, pickGuests } from './guests.js';
import { findMoney, isPrice, type MoneyMention } from './money.js';
import { fold, normalizeForRules, quote, type Span } from './text.js';
import { findTimes } from './times.js';

export const OFFLINE_MODEL = 'offline-rules-v1';

/** A value with where it was said, so reasons and source ids can point at it. */
interface Sourced<T> {
  value: T;
  messageId: string;
  said: string;
}

interface SourcedMoney extends MoneyMention {
  messageIndex: number;
  messageId: string;
  said: string;
  /** The message prices two or more lengths: pick the line for the chosen length. */
  inPriceList: boolean;
}

const CHANGE_CUE =
  /\b(?:schimb\w*|inlocu\w*|in loc de|mai bine|instead|change|switch|de fapt|prefer\w*)\b/;
const ADVANCE_WORD = /\b(?:avans\w*|arvun\w*|deposit|advance)\b/;

/** Keeps the characters a chat settles on: additions, "nu X" removals, "schimbăm pe X" swaps. */
class CharacterSet {
  private readonly names = new Map<string, Sourced<string>>();

  apply(
    folded: string,
    mentions: ReturnType<typeof findCharacters>,
    source: Omit<Sourced<string>, 'value'>,
  ): void {
    const wanted = mentions.filter((m) => !m.negated);
    for (const m of mentions) if (m.negated) this.names.delete(m.name);
    if (wanted.length > 0 && CHANGE_CUE.test(folded)) this.names.clear();
    for (const m of wanted) this.names.set(m.name, { ...source, value: m.name });
  }

  get values(): Sourced<string>[] {
    return [...this.names.values()];
  }
}

function last<T>(items: readonly T[]): T | undefined {
  return items[items.length - 1];
}

/**
 * The deterministic extractor: reads the chat oldest first, lets every later statement override an
 * earlier one, and resolves relative dates against the local (Bucharest) date of the message that
 * says them.
 */
export function extractOffline(input: ExtractionInput): ExtractionOutput {
  const timeZone = input.timeZone;
  let date: Sourced<string> | null = null;
  let time: Sourced<string> | null = null;
  let duration: Sourced<number> | null = null;
  let address: Sourced<string> | null = null;
  let childName: Sourced<string> | null = null;
  let childAge: Sourced<number> | null = null;
  let guests: Sourced<number> | null = null;
  const clientCharacters = new CharacterSet();
  const businessCharacters = new CharacterSet();
  const money: SourcedMoney[] = [];
  const quoted = new Set<number>();
  const services = new Set<string>();
  let partyTalk = false;
  let confirmed = false;
  let wrongNumber = false;
  let cancelled = false;
  let advanceAskedBy: ChatMessageInput['direction'] | null = null;

  for (const [messageIndex, message] of input.messages.entries()) {
    const original = normalizeForRules(message.text);
    const folded = fold(original);
    const inbound = message.direction === 'inbound';
    const reference = localDateOf(message.ts || input.now, timeZone);
    const at = (span: Span): Omit<Sourced<never>, 'value'> => ({
      messageId: message.id,
      said: quote(original, span),
    });

    const addresses = findAddresses(original, folded);
    const dates = findDates(folded, reference, addresses);
    const times = findTimes(folded, [...addresses, ...dates]);
    const durations = findDurations(folded, [...addresses, ...dates, ...times]);
    const heads = findGuests(folded, [...addresses, ...dates, ...times, ...durations]);
    const child = findChild(original, folded, addresses);
    const nameSpans = child.flatMap((c) => (c.nameSpan === null ? [] : [c.nameSpan]));
    const characters = findCharacters(folded, [...addresses, ...nameSpans]);
    const advanceAsked = advanceAskedBy !== null && advanceAskedBy !== message.direction;
    const sums = findMoney(folded, { inbound, advanceAsked, quoted }, [
      ...addresses,
      ...dates,
      ...times,
      ...durations,
      ...heads,
      ...child,
    ]);

    const picked = pickDate(dates);
    if (picked !== null && !restatesWeekday(picked, date, reference)) {
      date = { value: formatDay(picked.date), ...at(picked) };
    }

    const clock = last(times.filter((t) => !t.negated));
    if (clock !== undefined) time = { value: clock.time, ...at(clock) };

    // Lengths: ranges count too; a price list's lengths are options, not a choice.
    const lengths = [
      ...(isPriceList(durations) ? [] : durations),
      ...times.filter((t) => !t.negated && t.durationHours !== null),
    ].sort((a, b) => a.start - b.start);
    const length = last(lengths);
    if (length !== undefined) {
      const hours = 'hours' in length ? length.hours : (length.durationHours ?? 0);
      duration = { value: Math.round(hours * 100) / 100, ...at(length) };
    }

    const place = last(addresses);
    if (place !== undefined) address = { value: place.address, ...at(place) };

    for (const c of child) {
      if (c.name !== null) childName = { value: c.name, ...at(c) };
      if (c.age !== null) childAge = { value: c.age, ...at(c) };
    }

    const count = pickGuests(heads);
    if (count !== null) guests = { value: count.guests, ...at(count) };

    const characterSource = {
      messageId: message.id,
      said: quote(original, { start: 0, end: original.length }),
    };
    (inbound ? clientCharacters : businessCharacters).apply(folded, characters, characterSource);

    const priceList = sums.filter((s) => s.kind === 'priced-length');
    const inPriceList = new Set(priceList.map((s) => s.hours)).size >= 2;
    for (const sum of sums) {
      money.push({ ...sum, messageIndex, ...at(sum), inPriceList });
      if (isPrice(sum.kind) && sum.kind !== 'rate') quoted.add(sum.value);
    }

    for (const service of findServices(folded)) services.add(service);
    partyTalk ||= PARTY_WORDS.test(folded);
    confirmed ||= CONFIRMED.test(folded);
    wrongNumber ||= WRONG_NUMBER.test(folded);
    cancelled ||= inbound && CANCELLED.test(folded);
    advanceAskedBy = ADVANCE_WORD.test(folded) && original.includes('?') ? message.direction : null;
  }

  // The client's own picks win; what the business alone named counts when the client named none.
  const clientPicks = clientCharacters.values;
  const characters = clientPicks.length > 0 ? clientPicks : businessCharacters.values;

  const durationHours = duration?.value ?? null;
  const amount = chooseAmount(money, durationHours);
  const advance = chooseAdvance(money, amount?.value ?? null);

  const lastInbound = [...input.messages].reverse().find((m) => m.direction === 'inbound');
  const deferred = lastInbound !== undefined && DEFERRED.test(fold(lastInbound.text)) && !confirmed;
  const eventCue =
    characters.length > 0 || services.size > 0 || partyTalk || (amount !== null && confirmed);
  // A booking needs the client's own words: a reminder or an advert alone is not one.
  const clientSpoke = lastInbound !== undefined;
  const isBooking =
    clientSpoke &&
    !wrongNumber &&
    !cancelled &&
    !deferred &&
    ((date !== null && eventCue) ||
      (date === null && characters.length > 0 && confirmed && (time !== null || address !== null)));

  const fields: Array<[string, Sourced<unknown> | null]> = [
    ['date', date],
    ['time', time],
    ['durationHours', duration],
    ['address', address],
    ['amount', amount],
    ['advance', advance],
    ['childName', childName],
    ['childAge', childAge],
    ['guests', guests],
  ];
  if (!isBooking) {
    const why = wrongNumber
      ? 'wrong number'
      : !clientSpoke
        ? 'the client has not written'
        : cancelled
          ? 'the client cancelled'
          : deferred
            ? 'the client put it off'
            : date === null
              ? 'no event date'
              : 'no character, service or party mentioned';
    const signals = fields.filter(([, v]) => v !== null).length + characters.length;
    return {
      draft: null,
      confidence: signals === 0 ? 0.9 : Math.max(0.5, 0.85 - 0.05 * signals),
      reasons: [`not a booking: ${why}`],
      sourceMessageIds: [],
    };
  }

  const reasons: string[] = [];
  const sources = new Set<string>();
  for (const [field, value] of fields) {
    if (value === null) continue;
    reasons.push(
      `${field} ${JSON.stringify(value.value)} from "${value.said}" (${value.messageId})`,
    );
    sources.add(value.messageId);
  }
  for (const character of characters) {
    reasons.push(`character ${character.value} (${character.messageId})`);
    sources.add(character.messageId);
  }

  const draft: DraftEvent = {
    date: date === null ? null : date.value,
    time: time === null ? null : time.value,
    durationHours,
    address: address === null ? null : address.value.slice(0, 500),
    characters: characters.map((c) => c.value),
    amount: withinContract(amount?.value),
    advance: withinContract(advance?.value),
    childName: childName === null ? null : childName.value,
    childAge: childAge === null ? null : childAge.value,
    guests: guests === null ? null : guests.value,
    notes: services.size > 0 ? `Servicii: ${[...services].join(', ')}` : null,
  };
  const found = fields.filter(([, v]) => v !== null).length + (characters.length > 0 ? 1 : 0);
  return {
    draft,
    confidence: Math.min(0.95, Math.round((0.35 + 0.06 * found) * 100) / 100),
    reasons,
    sourceMessageIds: input.messages.map((m) => m.id).filter((id) => sources.has(id)),
  };
}

/** Sums outside what a draft may hold (a typo'd "1.000.000 lei") are left out, not clipped. */
function withinContract(value: number | undefined): number | null {
  return value !== undefined && value >= 0 && value <= 1_000_000 ? value : null;
}

/**
 * "Da, sâmbătă e liber" after "pe 20 iunie" (a Saturday) restates that date; it does not move the
 * party to the nearest Saturday.
 */
function restatesWeekday(
  mention: DateMention,
  current: Sourced<string> | null,
  reference: CalendarDay,
): boolean {
  if (current === null || mention.kind !== 'weekday') return false;
  const [year = 0, month = 0, day = 0] = current.value.split('-').map(Number);
  const known = { year, month, day };
  return weekdayOf(known) === weekdayOf(mention.date) && compareDays(known, reference) >= 0;
}

/** The price the chat ends on: the last quote, a price-list line for the chosen length, or rate × hours. */
function chooseAmount(
  money: readonly SourcedMoney[],
  hours: number | null,
): Sourced<number> | null {
  const prices = money.filter((m) => isPrice(m.kind));
  const final = last(prices);
  if (final === undefined) return null;
  if (final.kind === 'rate') {
    if (hours === null) return null;
    return {
      value: Math.round(final.value * hours * 100) / 100,
      messageId: final.messageId,
      said: `${final.said} × ${hours} h`,
    };
  }
  if (final.kind === 'priced-length' && final.inPriceList && hours !== null) {
    const line = prices.find(
      (m) =>
        m.messageIndex === final.messageIndex && m.kind === 'priced-length' && m.hours === hours,
    );
    if (line !== undefined)
      return { value: line.value, messageId: line.messageId, said: line.said };
  }
  return { value: final.value, messageId: final.messageId, said: final.said };
}

/** The advance asked for or paid; a payment counts only when no advance was named and it is partial. */
function chooseAdvance(
  money: readonly SourcedMoney[],
  amount: number | null,
): Sourced<number> | null {
  const named = last(money.filter((m) => m.kind === 'advance'));
  if (named !== undefined)
    return { value: named.value, messageId: named.messageId, said: named.said };
  const paid = last(money.filter((m) => m.kind === 'payment'));
  if (paid !== undefined && (amount === null || paid.value < amount)) {
    return { value: paid.value, messageId: paid.messageId, said: paid.said };
  }
  return null;
}

/** The `offline` provider behind the extraction port: no network, same output shape as Groq. */
export class OfflineExtractionProvider implements ExtractionProvider {
  readonly name = 'offline' as const;
  readonly model = OFFLINE_MODEL;

  extract(input: ExtractionInput): Promise<ExtractionOutput> {
    return Promise.resolve(extractOffline(input));
  }
}
