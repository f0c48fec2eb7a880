import { expectsPayment, type EventDoc } from '@wacrm/contracts';
import { bookingMoney, bookingStatusOf, sumMoney } from '@wacrm/firestore';
import type { AskIntent, AskLanguage, AskPeriod, ParsedQuestion } from './ask-intent.js';

export interface AskEvent {
  eventId: string;
  event: Pick<
    EventDoc,
    | 'eventShortId'
    | 'date'
    | 'time'
    | 'payment'
    | 'characters'
    | 'isArchived'
    | 'status'
    | 'performerIds'
    | 'payments'
    | 'depositDueDate'
    | 'balanceDueDate'
  >;
}

export interface AskSource {
  eventShortId: string;
  eventId: string;
  date: string;
  amount: number | null;
  paid: number;
}

export interface ComputedAnswer {
  intent: AskIntent;
  language: AskLanguage;
  /** The template answer: always correct, used as is without an LLM. */
  answer: string;
  /** Every figure the answer states, as written; an LLM rephrasing must keep them all. */
  figures: string[];
  sources: AskSource[];
}

export interface AskContext {
  phoneE164: string;
  displayName: string | null;
  events: AskEvent[];
  today: string;
  /** Names of the performers the events name (issue 19); an unknown id is shown as it is. */
  performerNames?: ReadonlyMap<string, string>;
}

/** 1250 → "1250", 1250.5 → "1250,50" (ro) / "1250.50" (en): no thousands separators to mangle. */
export function formatMoney(value: number, language: AskLanguage): string {
  if (Number.isInteger(value)) return String(value);
  const fixed = value.toFixed(2);
  return language === 'ro' ? fixed.replace('.', ',') : fixed;
}

/** Romanian puts "de" between a number and its noun from 20 on ("20 de evenimente"). */
function countOf(
  n: number,
  language: AskLanguage,
  one: [string, string],
  many: [string, string],
): string {
  if (language === 'en') return `${n} ${n === 1 ? one[1] : many[1]}`;
  if (n === 1) return `1 ${one[0]}`;
  const rest = n % 100;
  return `${n} ${n !== 0 && (rest === 0 || rest >= 20) ? 'de ' : ''}${many[0]}`;
}

const EVENT: [string, string] = ['eveniment', 'event'];
const EVENTS: [string, string] = ['evenimente', 'events'];

function source(e: AskEvent): AskSource {
  return {
    eventShortId: e.event.eventShortId,
    eventId: e.eventId,
    date: e.event.date,
    amount: e.event.payment.amount,
    paid: e.event.payment.paid,
  };
}

function newestFirst(events: AskEvent[]): AskEvent[] {
  return [...events].sort((a, b) => b.event.date.localeCompare(a.event.date));
}

function inPeriod(events: AskEvent[], period: AskPeriod | null): AskEvent[] {
  if (period === null) return events;
  return events.filter((e) => e.event.date >= period.from && e.event.date <= period.to);
}

/**
 * Computes the answer to a parsed question from the client's events, in code: sums in bani,
 * archived events excluded, dates relative to today in Europe/Bucharest.
 */
export function computeAnswer(question: ParsedQuestion, ctx: AskContext): ComputedAnswer {
  const { language: lang, period } = question;
  const ro = lang === 'ro';
  const who = ctx.displayName !== null ? `${ctx.displayName} (${ctx.phoneE164})` : ctx.phoneE164;
  // Archived events are kept forever but count for nothing.
  const active = ctx.events.filter((e) => !e.event.isArchived);
  const scoped = newestFirst(inPeriod(active, period));
  const inLabel = period === null ? '' : ro ? ` în ${period.label}` : ` in ${period.label}`;
  const result = (answer: string, figures: string[], sources: AskEvent[]): ComputedAnswer => ({
    intent: question.intent,
    language: lang,
    answer,
    figures: [...new Set(figures)],
    sources: sources.map(source),
  });
  const money = (v: number) => formatMoney(v, lang);
  // Money owed comes from bookingMoney, as on the client's profile: a lead or a cancelled
  // booking owes nothing, and an overpaid booking does not pay for another.
  const moneyOf = (e: AskEvent) => bookingMoney(e.event, ctx.today);
  const performersOf = (e: AskEvent) =>
    (e.event.performerIds ?? []).map((id) => ctx.performerNames?.get(id) ?? id);
  const notCancelled = (e: AskEvent) => bookingStatusOf(e.event) !== 'cancelled';
  const when = (e: AskEvent) =>
    `${e.event.date}${e.event.time !== null ? (ro ? ` la ${e.event.time}` : ` at ${e.event.time}`) : ''}`;

  switch (question.intent) {
    case 'spend': {
      const paid = money(sumMoney(scoped.map((e) => e.event.payment.paid)));
      const total = money(sumMoney(scoped.map((e) => e.event.payment.amount)));
      const n = countOf(scoped.length, lang, EVENT, EVENTS);
      const answer = ro
        ? `Clientul ${who} a plătit${inLabel} în total ${paid} RON, pentru ${n} (valoare rezervată: ${total} RON).`
        : `Client ${who} has paid${inLabel} ${paid} RON in total, for ${n} (booked value: ${total} RON).`;
      return result(answer, [paid, total, String(scoped.length)], scoped);
    }
    case 'balance': {
      const owed = scoped.filter((e) => expectsPayment(bookingStatusOf(e.event)));
      const paidSum = sumMoney(owed.map((e) => moneyOf(e).paid));
      const totalSum = sumMoney(owed.map((e) => e.event.payment.amount));
      const owing = owed.filter((e) => moneyOf(e).outstanding > 0);
      const left = money(sumMoney(owing.map((e) => moneyOf(e).outstanding)));
      const overdue: string[] = [];
      const overdueFigures: string[] = [];
      for (const e of [...owing].reverse()) {
        const m = moneyOf(e);
        const due = (kind: 'deposit' | 'balance', amount: number, date: string) => {
          overdue.push(
            ro
              ? `${kind === 'deposit' ? 'avans' : 'sold'} restant de ${money(amount)} RON, scadent pe ${date} (${e.event.eventShortId})`
              : `overdue ${kind} of ${money(amount)} RON, due ${date} (${e.event.eventShortId})`,
          );
          overdueFigures.push(money(amount), date);
        };
        if (m.depositOverdue) due('deposit', m.depositOutstanding, e.event.depositDueDate!);
        if (m.balanceOverdue) due('balance', m.outstanding, e.event.balanceDueDate!);
      }
      const late = overdue.length > 0 ? `; ${overdue.join('; ')}` : '';
      const answer = ro
        ? `Rest de plată${inLabel} pentru ${who}: ${left} RON (valoare rezervată ${money(totalSum)} RON, plătit ${money(paidSum)} RON)${late}.`
        : `Left to pay${inLabel} for ${who}: ${left} RON (booked value ${money(totalSum)} RON, paid ${money(paidSum)} RON)${late}.`;
      return result(answer, [left, money(totalSum), money(paidSum), ...overdueFigures], owing);
    }
    case 'count':
    case 'events-in-period': {
      const n = countOf(scoped.length, lang, EVENT, EVENTS);
      const list = scoped
        .slice(0, 10)
        .map((e) => `${e.event.date} (${e.event.eventShortId})`)
        .join(', ');
      const tail = scoped.length > 10 ? (ro ? ', …' : ', …') : '';
      const answer =
        scoped.length === 0
          ? ro
            ? `Clientul ${who} nu are evenimente${inLabel}.`
            : `Client ${who} has no events${inLabel}.`
          : ro
            ? `Clientul ${who} are ${n}${inLabel}: ${list}${tail}.`
            : `Client ${who} has ${n}${inLabel}: ${list}${tail}.`;
      return result(answer, [String(scoped.length)], scoped);
    }
    case 'last-event':
    case 'next-event': {
      const next = question.intent === 'next-event';
      // A cancelled booking is no event to come (nor one that took place).
      const candidates = scoped.filter(
        (e) => notCancelled(e) && (next ? e.event.date >= ctx.today : e.event.date < ctx.today),
      );
      const pick = next ? candidates.at(-1) : candidates[0];
      if (pick === undefined) {
        const answer = next
          ? ro
            ? `Clientul ${who} nu are evenimente viitoare${inLabel}.`
            : `Client ${who} has no upcoming events${inLabel}.`
          : ro
            ? `Clientul ${who} nu are evenimente trecute${inLabel}.`
            : `Client ${who} has no past events${inLabel}.`;
        return result(answer, [], []);
      }
      const e = pick.event;
      const chars =
        e.characters.length > 0
          ? `, ${ro ? 'personaje' : 'characters'}: ${e.characters.join(', ')}`
          : '';
      const performers = performersOf(pick);
      const who2 =
        performers.length > 0
          ? `, ${ro ? 'animatori' : 'performers'}: ${performers.join(', ')}`
          : '';
      const m = moneyOf(pick);
      const amount = e.payment.amount !== null ? money(e.payment.amount) : null;
      const paid = money(m.paid);
      const rest =
        next && expectsPayment(bookingStatusOf(e)) && amount !== null
          ? ro
            ? `, rest de plată ${money(m.outstanding)} RON`
            : `, left to pay ${money(m.outstanding)} RON`
          : '';
      const value =
        amount !== null
          ? ro
            ? `valoare ${amount} RON, plătit ${paid} RON${rest}`
            : `worth ${amount} RON, paid ${paid} RON${rest}`
          : ro
            ? `plătit ${paid} RON`
            : `paid ${paid} RON`;
      const answer = next
        ? ro
          ? `Următorul eveniment al clientului ${who} este pe ${when(pick)} (${e.eventShortId}${chars}${who2}); ${value}.`
          : `The next event of client ${who} is on ${when(pick)} (${e.eventShortId}${chars}${who2}); ${value}.`
        : ro
          ? `Ultimul eveniment al clientului ${who} a fost pe ${when(pick)} (${e.eventShortId}${chars}${who2}); ${value}.`
          : `The last event of client ${who} was on ${when(pick)} (${e.eventShortId}${chars}${who2}); ${value}.`;
      const figures = [e.date, e.eventShortId, paid, ...performers];
      if (amount !== null) figures.push(amount);
      if (rest !== '') figures.push(money(m.outstanding));
      if (e.time !== null) figures.push(e.time);
      return result(answer, figures, [pick]);
    }
    case 'performers': {
      // Who performs at each booking to come (in the period, when one is named), soonest first.
      const upcoming = [...scoped]
        .reverse()
        .filter((e) => notCancelled(e) && (period !== null || e.event.date >= ctx.today))
        .filter((e) => performersOf(e).length > 0);
      if (upcoming.length === 0) {
        const answer = ro
          ? `Clientul ${who} nu are evenimente viitoare${inLabel} cu animatori stabiliți.`
          : `Client ${who} has no upcoming events${inLabel} with performers assigned.`;
        return result(answer, [], []);
      }
      const shown = upcoming.slice(0, 10);
      const list = shown
        .map((e) => `${when(e)} (${e.event.eventShortId}): ${performersOf(e).join(', ')}`)
        .join('; ');
      const answer = ro
        ? `Animatori la evenimentele viitoare${inLabel} ale clientului ${who}: ${list}.`
        : `Performers at the upcoming events${inLabel} of client ${who}: ${list}.`;
      return result(
        answer,
        shown.flatMap((e) => [e.event.date, e.event.eventShortId, ...performersOf(e)]),
        shown,
      );
    }
    case 'characters': {
      const counts = new Map<string, number>();
      for (const e of scoped)
        for (const c of e.event.characters) counts.set(c, (counts.get(c) ?? 0) + 1);
      const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
      const withChars = scoped.filter((e) => e.event.characters.length > 0);
      if (ranked.length === 0) {
        const answer = ro
          ? `Clientul ${who} nu a rezervat personaje${inLabel}.`
          : `Client ${who} has not booked any characters${inLabel}.`;
        return result(answer, [], []);
      }
      const list = ranked.map(([c, n]) => `${c} (${n}×)`).join(', ');
      const answer = ro
        ? `Personaje rezervate${inLabel} de ${who}: ${list}.`
        : `Characters booked${inLabel} by ${who}: ${list}.`;
      return result(
        answer,
        ranked.map(([c]) => c),
        withChars,
      );
    }
    case 'unknown':
      return result(
        ro
          ? 'Nu pot răspunde la această întrebare din datele clientului. Pot spune: cât a cheltuit (plătit) clientul, restul de plată, câte evenimente are, ultimul și următorul eveniment, cine sunt animatorii, evenimentele dintr-o perioadă (de exemplu „în 2026”, „luna trecută”) și personajele rezervate.'
          : 'I can\'t answer that from the client\'s data. I can tell you: how much the client has spent (paid), what is left to pay, how many events they have, their last and next event, who performs, their events in a period (e.g. "in 2026", "last month") and the characters they booked.',
        [],
        [],
      );
  }
}
