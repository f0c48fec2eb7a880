import { describe, expect, it } from 'vitest';
import type { AskEvent } from './ask-answer.js';
import { computeAnswer, formatMoney } from './ask-answer.js';
import { acceptPhrasing } from './answer-phraser.js';
import { detectLanguage, parseQuestion } from './ask-intent.js';

// 2026-05-15 12:00 in Bucharest.
const now = new Date('2026-05-15T09:00:00Z');
const phone = '+40711222333';

function ev(
  id: string,
  date: string,
  amount: number | null,
  paid: number,
  characters: string[] = [],
  isArchived = false,
): AskEvent {
  return {
    eventId: `id-${id}`,
    event: {
      eventShortId: `EV-${id}`,
      date,
      time: '17:00',
      payment: { amount, advance: null, paid, currency: 'RON' },
      characters,
      isArchived,
    },
  };
}

const events = [
  ev('AAAA1', '2025-12-20', 800, 800, ['Moș Crăciun']),
  ev('AAAA2', '2026-04-11', 650, 650.5, ['Elsa', 'Olaf']),
  ev('AAAA3', '2026-06-14', 1200, 300, ['Elsa']),
  ev('AAAA4', '2026-03-01', 999, 999, ['Batman'], true),
];

function ask(question: string) {
  return computeAnswer(parseQuestion(question, now), {
    phoneE164: phone,
    displayName: 'Ana',
    events,
    today: '2026-05-15',
  });
}

describe('parseQuestion', () => {
  it.each([
    ['Cât a cheltuit clientul?', 'ro', 'spend'],
    ['Cat a cheltuit clientul +40711222333?', 'ro', 'spend'],
    ['Câți bani a plătit în total?', 'ro', 'spend'],
    ['How much has this client spent?', 'en', 'spend'],
    ['How much did they pay last year?', 'en', 'spend'],
    ['Câte evenimente a avut?', 'ro', 'count'],
    ['How many bookings does she have?', 'en', 'count'],
    ['Care a fost ultimul eveniment?', 'ro', 'last-event'],
    ['When was the last party?', 'en', 'last-event'],
    ['Când e următorul eveniment?', 'ro', 'next-event'],
    ['Any upcoming events?', 'en', 'next-event'],
    ['Ce evenimente a avut în 2026?', 'ro', 'events-in-period'],
    ['Events last month?', 'en', 'events-in-period'],
    ['Ce personaje a mai rezervat?', 'ro', 'characters'],
    ['Which characters did they book before?', 'en', 'characters'],
    ['Cât mai are de plată?', 'ro', 'balance'],
    ['What is the outstanding balance?', 'en', 'balance'],
    ['Ce culoare preferă copilul?', 'ro', 'unknown'],
    ['What is the weather like?', 'en', 'unknown'],
  ])('when asked %j, then language %s and intent %s', (question, language, intent) => {
    const parsed = parseQuestion(question, now);
    expect(parsed.language).toBe(language);
    expect(parsed.intent).toBe(intent);
  });

  it('when a period is named, then it resolves against today in Europe/Bucharest', () => {
    expect(parseQuestion('Ce evenimente a avut luna trecută?', now).period).toEqual({
      from: '2026-04-01',
      to: '2026-04-30',
      label: 'aprilie 2026',
    });
    expect(parseQuestion('Events in 2025?', now).period).toMatchObject({
      from: '2025-01-01',
      to: '2025-12-31',
    });
    expect(parseQuestion('Cât a plătit în iunie?', now).period).toMatchObject({
      from: '2026-06-01',
      to: '2026-06-30',
    });
    // Last month seen from 1 January is December of the year before.
    expect(
      parseQuestion('last month events', new Date('2026-01-01T08:00:00Z')).period,
    ).toMatchObject({
      from: '2025-12-01',
      to: '2025-12-31',
    });
    // 31 December 23:30 UTC is already 1 January in Bucharest.
    expect(
      parseQuestion('events this year', new Date('2025-12-31T23:30:00Z')).period,
    ).toMatchObject({
      from: '2026-01-01',
    });
  });

  it('when "mai" means "more", then it is not read as May', () => {
    expect(parseQuestion('Ce personaje a mai rezervat?', now).period).toBeNull();
    expect(parseQuestion('Câte evenimente a avut în mai?', now).period).toMatchObject({
      from: '2026-05-01',
    });
  });

  it('when the text has no Romanian letters, then the language is still guessed from its words', () => {
    expect(detectLanguage('cat a platit clientul')).toBe('ro');
    expect(detectLanguage('how much did the client pay')).toBe('en');
  });
});

describe('computeAnswer', () => {
  it('when asked how much the client spent, then the exact paid sum of active events is stated with its sources', () => {
    const a = ask('Cât a cheltuit clientul?');
    expect(a.answer).toContain('1750,50 RON');
    expect(a.answer).toContain('2650 RON');
    expect(a.answer).toContain('3 evenimente');
    expect(a.figures).toEqual(expect.arrayContaining(['1750,50', '2650']));
    expect(a.sources.map((s) => s.eventShortId)).toEqual(['EV-AAAA3', 'EV-AAAA2', 'EV-AAAA1']);
    expect(a.sources[1]).toEqual({
      eventShortId: 'EV-AAAA2',
      eventId: 'id-AAAA2',
      date: '2026-04-11',
      amount: 650,
      paid: 650.5,
    });
  });

  it('when asked in English for a period, then only that period counts', () => {
    const a = ask('How much did they pay in 2025?');
    expect(a.language).toBe('en');
    expect(a.answer).toContain('800 RON');
    expect(a.answer).toContain('1 event');
    expect(a.sources).toHaveLength(1);
  });

  it('when asked for the last and next event, then today in Bucharest splits past from future', () => {
    const last = ask('Care a fost ultimul eveniment?');
    expect(last.answer).toContain('2026-04-11');
    expect(last.answer).toContain('EV-AAAA2');
    expect(last.sources).toHaveLength(1);
    const next = ask('What is the next event?');
    expect(next.answer).toContain('2026-06-14 at 17:00');
    expect(next.answer).toContain('worth 1200 RON, paid 300 RON');
  });

  it('when asked about characters, then each is counted across active events', () => {
    const a = ask('Ce personaje a rezervat înainte?');
    expect(a.answer).toContain('Elsa (2×), Moș Crăciun (1×), Olaf (1×)');
    expect(a.answer).not.toContain('Batman');
  });

  it('when asked what is left to pay, then it is what each booking still lacks (an overpaid one pays no other)', () => {
    const a = ask('Cât mai are de plată?');
    // 1200 − 300 on EV-AAAA3; EV-AAAA2 was overpaid by 0,50, which is not owed back against it.
    expect(a.answer).toContain('Rest de plată pentru Ana (+40711222333): 900 RON');
    expect(a.sources.map((s) => s.eventShortId)).toEqual(['EV-AAAA3']);
  });

  it('when a count reaches 20, then Romanian says "de evenimente"', () => {
    const many = Array.from({ length: 21 }, (_, i) => ev(`B${i}`, '2026-01-10', 10, 10));
    const a = computeAnswer(parseQuestion('Câte evenimente are?', now), {
      phoneE164: phone,
      displayName: null,
      events: many,
      today: '2026-05-15',
    });
    expect(a.answer).toContain('21 de evenimente');
  });

  it('when the question is outside the intents, then the answer says so plainly and cites nothing', () => {
    const ro = ask('Ce culoare preferă copilul?');
    expect(ro.intent).toBe('unknown');
    expect(ro.answer).toMatch(/^Nu pot răspunde/);
    expect(ro.sources).toEqual([]);
    expect(ask('What is the weather like?').answer).toMatch(/^I can't answer that/);
  });

  it('when the client has no events, then the spend is 0', () => {
    const a = computeAnswer(parseQuestion('How much has the client spent?', now), {
      phoneE164: phone,
      displayName: null,
      events: [],
      today: '2026-05-15',
    });
    expect(a.answer).toContain('0 RON');
    expect(a.sources).toEqual([]);
  });

  it('when money has decimals, then it is written with the language decimal mark', () => {
    expect(formatMoney(1250, 'ro')).toBe('1250');
    expect(formatMoney(1250.5, 'ro')).toBe('1250,50');
    expect(formatMoney(0.1 + 0.2, 'en')).toBe('0.30');
  });
});

describe('acceptPhrasing', () => {
  const computed = ask('Cât a cheltuit clientul?');
  it('when the LLM keeps every figure, then its phrasing is accepted', () => {
    expect(
      acceptPhrasing(
        'Ana a plătit până acum 1750,50 RON pentru 3 evenimente, din 2650 RON rezervați.',
        computed,
        'Cât a cheltuit clientul?',
      ),
    ).toEqual({ ok: true });
  });
  it('when the LLM drops or changes a figure, then the phrasing is rejected', () => {
    expect(acceptPhrasing('Ana a plătit cam 2250 RON.', computed, 'x').ok).toBe(false);
    expect(
      acceptPhrasing(
        'Ana a plătit 1750,50 RON din 2650 RON, 3 evenimente, adică 85%.',
        computed,
        'x',
      ),
    ).toMatchObject({ ok: false, problem: expect.stringMatching(/85/) as unknown });
  });
});

describe('bookings in answers (issue 19 item 9)', () => {
  const booking = (
    id: string,
    date: string,
    amount: number,
    paid: number,
    extra: Partial<AskEvent['event']> = {},
  ): AskEvent => {
    const base = ev(id, date, amount, paid, ['Elsa']);
    return { ...base, event: { ...base.event, ...extra } };
  };
  const bookings = [
    booking('BBBB1', '2026-05-20', 1000, 0, {
      status: 'confirmed',
      performerIds: ['pf-ana', 'pf-dan'],
      payment: { amount: 1000, advance: 300, paid: 0, currency: 'RON' },
      depositDueDate: '2026-05-10',
    }),
    // Cancelled before it: owes nothing and is not the next event.
    booking('BBBB2', '2026-05-18', 700, 0, { status: 'cancelled', performerIds: ['pf-dan'] }),
    // A lead owes nothing yet.
    booking('BBBB3', '2026-07-01', 400, 0, { status: 'lead' }),
    booking('BBBB4', '2026-04-01', 500, 450.5, { status: 'done', performerIds: ['pf-ana'] }),
  ];
  const names = new Map([
    ['pf-ana', 'Ana'],
    ['pf-dan', 'Dan'],
  ]);
  const askBooking = (question: string) =>
    computeAnswer(parseQuestion(question, now), {
      phoneE164: phone,
      displayName: 'Ana',
      events: bookings,
      today: '2026-05-15',
      performerNames: names,
    });

  it('when a booking is cancelled or only a lead, then the balance leaves it out and says what is overdue', () => {
    const answer = askBooking('Cât mai are de plată?');
    // 1000 (BBBB1) + 49,50 (BBBB4); the cancelled 700 and the lead's 400 are not owed.
    expect(answer.answer).toBe(
      'Rest de plată pentru Ana (+40711222333): 1049,50 RON (valoare rezervată 1500 RON, plătit 450,50 RON); avans restant de 300 RON, scadent pe 2026-05-10 (EV-BBBB1).',
    );
    expect(answer.sources.map((s) => s.eventShortId)).toEqual(['EV-BBBB1', 'EV-BBBB4']);
    expect(answer.figures).toEqual(expect.arrayContaining(['1049,50', '1500', '450,50', '300']));
  });

  it('when asked for the next event, then a cancelled booking is skipped and the performers are named', () => {
    const answer = askBooking('Când e următorul eveniment?');
    expect(answer.answer).toBe(
      'Următorul eveniment al clientului Ana (+40711222333) este pe 2026-05-20 la 17:00 (EV-BBBB1, personaje: Elsa, animatori: Ana, Dan); valoare 1000 RON, plătit 0 RON, rest de plată 1000 RON.',
    );
    expect(answer.figures).toEqual(expect.arrayContaining(['Ana', 'Dan', '1000']));
  });

  it.each([
    ['Cine e animatorul?', 'ro'],
    ['Who performs at the next party?', 'en'],
  ])('when asked %j, then the upcoming bookings are listed with who performs', (question, lang) => {
    const parsed = parseQuestion(question, now);
    expect(parsed.intent).toBe('performers');
    const answer = askBooking(question);
    expect(answer.answer).toBe(
      lang === 'ro'
        ? 'Animatori la evenimentele viitoare ale clientului Ana (+40711222333): 2026-05-20 la 17:00 (EV-BBBB1): Ana, Dan.'
        : 'Performers at the upcoming events of client Ana (+40711222333): 2026-05-20 at 17:00 (EV-BBBB1): Ana, Dan.',
    );
    expect(answer.sources.map((s) => s.eventShortId)).toEqual(['EV-BBBB1']);
  });
});
