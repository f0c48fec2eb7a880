import { DraftEvent } from '@wacrm/contracts';
import { describe, expect, it } from 'vitest';
import type { ExtractionInput } from '../extraction-provider.js';
import { OfflineExtractionProvider, extractOffline } from './offline-extractor.js';

type Line = readonly [direction: 'inbound' | 'outbound', ts: string, text: string];

function chat(lines: readonly Line[]): ExtractionInput {
  return {
    now: lines.at(-1)?.[1] ?? '2026-01-01T00:00:00+02:00',
    timeZone: 'Europe/Bucharest',
    messages: lines.map(([direction, ts, text], i) => ({ id: `m${i + 1}`, direction, ts, text })),
  };
}

describe('offline extractor', () => {
  it('when a booking is spread over several messages, then every field is filled from the last word on it', () => {
    const out = extractOffline(
      chat([
        [
          'inbound',
          '2026-03-02T09:00:00+02:00',
          'Buna ziua! As vrea Omul Paianjen pentru duminica de 15, la 5 dupa-amiaza. Baiatul meu, Tudor, implineste 7 ani.',
        ],
        [
          'outbound',
          '2026-03-02T09:10:00+02:00',
          'Bună ziua! Duminică, 15 martie, la 17:00 e disponibil. Costă 300 lei pe oră.',
        ],
        [
          'inbound',
          '2026-03-02T09:20:00+02:00',
          'Super, luam doua ore. Adresa: Bd. Iuliu Maniu 7, bl. C, sc. 1, et. 3, ap. 12, sector 6. Vin vreo 14 copii.',
        ],
        ['outbound', '2026-03-02T09:25:00+02:00', 'Perfect. Avansul este de 100 lei.'],
      ]),
    );
    expect(out.draft).toEqual({
      date: '2026-03-15',
      time: '17:00',
      durationHours: 2,
      address: 'Bd. Iuliu Maniu 7, bl. C, sc. 1, et. 3, ap. 12, sector 6',
      characters: ['Spiderman'],
      amount: 600,
      advance: 100,
      childName: 'Tudor',
      childAge: 7,
      guests: 14,
      notes: null,
    });
    expect(DraftEvent.safeParse(out.draft).success).toBe(true);
    expect(out.sourceMessageIds).toEqual(['m1', 'm2', 'm3', 'm4']);
    expect(out.reasons.some((r) => r.startsWith('amount 600') && r.includes('× 2 h'))).toBe(true);
    expect(out.confidence).toBeGreaterThan(0.8);
  });

  it('when the client changes the date and drops a character, then the later statements win', () => {
    const out = extractOffline(
      chat([
        [
          'inbound',
          '2026-02-10T09:00:00+02:00',
          'buna, pt 15.03 vrem Mickey si Hulk, la ora 11, 2 ore',
        ],
        ['outbound', '2026-02-10T09:10:00+02:00', 'Bună! Două personaje, 2 ore: 1.000 lei.'],
        [
          'inbound',
          '2026-02-10T09:15:00+02:00',
          'Hulk nu mai vrem. de fapt putem pe 22.03? la 12 in loc de 11',
        ],
        ['outbound', '2026-02-10T09:20:00+02:00', 'Da, 22 martie, Mickey singur, 2 ore: 650 lei.'],
      ]),
    );
    expect(out.draft).toMatchObject({
      date: '2026-03-22',
      time: '12:00',
      characters: ['Mickey'],
      amount: 650,
    });
  });

  it('when a bare weekday restates an agreed date, then the date does not move', () => {
    const out = extractOffline(
      chat([
        ['inbound', '2026-06-01T10:00:00+03:00', 'Buna, pe 20 iunie la 12 aveti Stitch?'],
        ['outbound', '2026-06-01T10:05:00+03:00', 'Da, sâmbătă e liber. 2 ore: 650 lei.'],
        ['inbound', '2026-06-01T10:07:00+03:00', 'ok, rezervam'],
      ]),
    );
    expect(out.draft?.date).toBe('2026-06-20');
  });

  it('when the business offers options, then only the client’s pick is kept', () => {
    const out = extractOffline(
      chat([
        [
          'inbound',
          '2026-05-04T10:00:00+03:00',
          'Buna, sambata 16 mai la 12 ce personaje aveti libere?',
        ],
        ['outbound', '2026-05-04T10:05:00+03:00', 'Bună! Avem liberi Batman, Elsa și un clovn.'],
        ['inbound', '2026-05-04T10:07:00+03:00', 'Elsa, va rog. 2 ore'],
      ]),
    );
    expect(out.draft?.characters).toEqual(['Elsa']);
  });

  it('when a price list is quoted, then the line for the chosen length is the amount', () => {
    const out = extractOffline(
      chat([
        [
          'inbound',
          '2026-10-01T09:00:00+03:00',
          'buna, Rares face 6 ani pe 10 octombrie, vrem un pirat la ora 16',
        ],
        [
          'outbound',
          '2026-10-01T09:10:00+03:00',
          'Bună! Pirat: 1 oră 400 lei, 2 ore 650 lei, 3 ore 850 lei.',
        ],
        ['inbound', '2026-10-01T09:15:00+03:00', 'trei ore va rog'],
      ]),
    );
    expect(out.draft).toMatchObject({ durationHours: 3, amount: 850, characters: ['Pirat'] });
  });

  it('when the price is negotiated, then the agreed bare number is the amount and the advance is kept apart', () => {
    const out = extractOffline(
      chat([
        [
          'inbound',
          '2026-08-10T09:00:00+03:00',
          'Buna, vreau sa rezerv Sonic pt 22 august ora 10:30, 2h, pret?',
        ],
        ['outbound', '2026-08-10T09:10:00+03:00', 'Bună! Sonic 2 ore: 700 lei.'],
        ['inbound', '2026-08-10T09:15:00+03:00', 'E cam mult.. 600?'],
        ['outbound', '2026-08-10T09:20:00+03:00', 'Putem face 650.'],
        ['inbound', '2026-08-10T09:25:00+03:00', 'bine, 650. si avansul?'],
        ['outbound', '2026-08-10T09:26:00+03:00', '150 lei.'],
      ]),
    );
    expect(out.draft).toMatchObject({ amount: 650, advance: 150, time: '10:30', durationHours: 2 });
  });

  it('when Christmas is booked by holiday name with a time range, then date, time and length follow', () => {
    const out = extractOffline(
      chat([
        [
          'inbound',
          '2026-12-01T11:00:00+02:00',
          'Salutare, vrem un Mos Craciun de Craciun, intre 18 si 19, pentru Maria, 5 ani. Suntem in Popesti-Leordeni, strada Florilor 21.',
        ],
        [
          'outbound',
          '2026-12-01T11:30:00+02:00',
          'Bună! Pe 25 decembrie tariful e 600 lei pentru o oră.',
        ],
        ['inbound', '2026-12-01T11:45:00+02:00', 'Ok, rezervam.'],
      ]),
    );
    expect(out.draft).toMatchObject({
      date: '2026-12-25',
      time: '18:00',
      durationHours: 1,
      characters: ['Moș Crăciun'],
      amount: 600,
      childName: 'Maria',
      childAge: 5,
      address: 'Popesti-Leordeni, strada Florilor 21',
    });
  });

  it('when relative days are used, then they resolve against the message that says them, in Bucharest', () => {
    // 22:30 UTC on 6 July is already 7 July in Bucharest: "poimâine" is 9 July.
    const out = extractOffline(
      chat([
        [
          'inbound',
          '2026-07-06T22:30:00Z',
          'Buna! Poimaine, 14-16, vrem un vrajitor pentru 12 copii. Str. Teiului 5, Chitila',
        ],
        ['outbound', '2026-07-07T09:05:00+03:00', 'Bună! Vrăjitorul costă 350 lei/oră.'],
        ['inbound', '2026-07-07T09:10:00+03:00', 'ok, rezervati va rog. avans trimit diseara'],
      ]),
    );
    expect(out.draft).toMatchObject({
      date: '2026-07-09',
      time: '14:00',
      durationHours: 2,
      amount: 700,
      guests: 12,
      characters: ['Vrăjitor'],
    });
  });

  it('when services but no character are booked, then characters are empty and services go to notes', () => {
    const out = extractOffline(
      chat([
        [
          'inbound',
          '2026-04-01T10:00:00+03:00',
          'buna, vrem vata de zahar si baloane modelate, fara animator, pe 18 aprilie la 12',
        ],
        ['outbound', '2026-04-01T10:05:00+03:00', 'Bună! Ambele, 2 ore: 500 lei total.'],
      ]),
    );
    expect(out.draft).toMatchObject({ characters: [], amount: 500, date: '2026-04-18' });
    expect(out.draft?.notes).toBe('Servicii: vată de zahăr, baloane modelate');
  });

  it('when the chat is a wrong number, a complaint, thanks or a price question put off, then there is no draft', () => {
    const notBookings: Array<readonly Line[]> = [
      [
        [
          'inbound',
          '2026-03-16T19:40:00+02:00',
          'Radu, vii maine la 7 la sala? am rezervat terenul',
        ],
        ['outbound', '2026-03-16T19:52:00+02:00', 'Cred că ați greșit numărul.'],
      ],
      [
        [
          'inbound',
          '2026-05-20T08:00:00+03:00',
          'Buna, va multumim pentru petrecerea de sambata, copiii au fost incantati de Elsa!',
        ],
        ['outbound', '2026-05-20T08:30:00+03:00', 'Mulțumim frumos!'],
      ],
      [
        ['inbound', '2026-04-10T19:00:00+03:00', 'Cat costa o printesa si un clovn?'],
        ['outbound', '2026-04-10T19:05:00+03:00', 'Prințesa 400 lei/oră, clovnul 350 lei/oră.'],
        ['inbound', '2026-04-10T19:30:00+03:00', 'Multumesc, ma mai gandesc si revin.'],
      ],
      [
        [
          'inbound',
          '2026-08-24T10:00:00+03:00',
          'vineri am avut magicianul vostru si a intarziat o ora. nu e ok',
        ],
        ['outbound', '2026-08-24T10:20:00+03:00', 'Ne pare rău, vă returnăm 100 lei.'],
      ],
      [
        [
          'inbound',
          '2026-05-05T09:00:00+03:00',
          'buna, anulam petrecerea cu Batman de pe 16 mai, ne pare rau',
        ],
        ['outbound', '2026-05-05T09:10:00+03:00', 'Am anulat. O zi bună!'],
      ],
      [['outbound', '2026-04-14T09:00:00+03:00', 'De 1 iunie: Spiderman doar 350 lei/oră!']],
      [
        [
          'inbound',
          '2026-06-10T09:00:00+03:00',
          'Buna ziua, facem un festival pe 1 iunie anul viitor, vrem o oferta.',
        ],
        ['outbound', '2026-06-10T09:10:00+03:00', 'Bună ziua! Vă trimitem oferta pe email.'],
      ],
      [
        [
          'inbound',
          '2026-01-05T09:00:00+02:00',
          'Buna, cat ar costa ursitoarele pentru un botez pe 1 februarie?',
        ],
        ['outbound', '2026-01-05T09:10:00+02:00', 'Bună! Ursitoarele: 700 lei.'],
        ['inbound', '2026-01-05T09:30:00+02:00', 'Vorbesc cu sotul si va anunt.'],
      ],
    ];
    for (const lines of notBookings) {
      const out = extractOffline(chat(lines));
      expect(out.draft, lines[0]?.[2]).toBeNull();
      expect(out.reasons[0]).toMatch(/^not a booking/);
      expect(out.sourceMessageIds).toEqual([]);
    }
  });

  it('when an English chat books, then the same rules apply', () => {
    const out = extractOffline(
      chat([
        [
          'inbound',
          '2026-02-02T09:00:00+02:00',
          "Hi! We'd like a princess for our daughter Emma on February 21st, 11am-1pm. She turns 5.",
        ],
        [
          'outbound',
          '2026-02-02T09:10:00+02:00',
          'Hi! Princess, 2 hours: 650 RON. Where will the party be?',
        ],
        [
          'inbound',
          '2026-02-02T09:20:00+02:00',
          'At Kids Planet, Bd. Pipera 1, Voluntari. Around 12 children.',
        ],
      ]),
    );
    expect(out.draft).toMatchObject({
      date: '2026-02-21',
      time: '11:00',
      durationHours: 2,
      characters: ['Prințesă'],
      amount: 650,
      childName: 'Emma',
      childAge: 5,
      guests: 12,
      address: 'Kids Planet, Bd. Pipera 1, Voluntari',
    });
  });

  it('when messages are empty, emoji-only, absurd or very long, then the output still fits the contract', () => {
    const long = 'vrem Spiderman pe 12 mai la 15, 2 ore, 650 lei, str. Lunga 3, sector 1. '.repeat(
      200,
    );
    const odd: Array<readonly Line[]> = [
      [],
      [['inbound', '2026-05-01T10:00:00+03:00', '']],
      [['inbound', '2026-05-01T10:00:00+03:00', '🎉🎈🤡']],
      [
        [
          'inbound',
          '2026-05-01T10:00:00+03:00',
          'vrem un clovn pe 3 mai, 99.999.999 lei, 5000 de copii, 30 de ore',
        ],
      ],
      Array.from({ length: 50 }, (_, i): Line => [
        i % 2 === 0 ? 'inbound' : 'outbound',
        '2026-05-01T10:00:00+03:00',
        long.slice(0, 500 + i),
      ]),
    ];
    for (const lines of odd) {
      const out = extractOffline(chat(lines));
      if (out.draft !== null) expect(DraftEvent.safeParse(out.draft).success).toBe(true);
      expect(out.confidence).toBeGreaterThanOrEqual(0);
      expect(out.confidence).toBeLessThanOrEqual(1);
    }
    const absurd = extractOffline(chat(odd[3] ?? []));
    expect(absurd.draft).toMatchObject({
      amount: null,
      guests: null,
      durationHours: null,
      characters: ['Clovn'],
    });
  });

  it('when used through the port, then the provider is "offline" and answers the same', async () => {
    const provider = new OfflineExtractionProvider();
    const input = chat([
      ['inbound', '2026-06-01T10:00:00+03:00', 'vrem Batman sambata 6 iunie la 11'],
    ]);
    expect(provider.name).toBe('offline');
    expect(await provider.extract(input)).toEqual(extractOffline(input));
  });
});
