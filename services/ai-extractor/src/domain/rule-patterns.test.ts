import { readFileSync } from 'node:fs';
import { checkSync } from 'recheck';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

/**
 * `npm run lint` proves every regular expression literal linear with recheck; patterns built at
 * run time (`new RegExp(...)` from rule fragments) are invisible to it. This test records every
 * pattern the extractor, the Ask parser and the scorer construct while reading representative
 * chats, and holds each to the same proof.
 */
/** The options `npm run lint` gives recheck (one file owns them; see eslint.config.js). */
const RECHECK_OPTIONS = JSON.parse(
  readFileSync(new URL('../../../../recheck.options.json', import.meta.url), 'utf8'),
) as Parameters<typeof checkSync>[2];

const built = new Map<string, { source: string; flags: string }>();
const NativeRegExp = globalThis.RegExp;

class RecordingRegExp extends NativeRegExp {
  constructor(pattern: string | RegExp, flags?: string) {
    super(pattern, flags);
    built.set(`/${this.source}/${this.flags}`, { source: this.source, flags: this.flags });
  }
}

const CHATS = [
  'Bună, vreau Elsa și Spiderman pe 24 ianuarie la ora 12, pentru Maria, 5 ani',
  'Ionut face 6 ani, petrecerea e sâmbătă 14 februarie de la 16 la 18, 20 de copii',
  'Adresa: Str. Turnu Magurele 15, bl. M4, sc 2, ap. 60, sector 4, București',
  'de Crăciun, de Sf. Andrei, de 1 iunie, de Paște sau de Moș Nicolae? on Saturday, April 5th',
  'Total 950 lei, avans 200 lei, 2 ore: 650 lei, 350 lei/oră, + 100 lei deplasare',
  'ziua lui Horia, 8 ani; David (6 ani); fetita mea Lara; my daughter Ava is turning 7',
  'o oră și jumătate, 1h30, 30 de minute, între 17-19, la 5 pm, about 15 kids',
];
const QUESTIONS = [
  'Cât a cheltuit clientul în martie 2026?',
  'How many events did the client have in 2025?',
  'Care e următorul eveniment?',
];

beforeAll(async () => {
  globalThis.RegExp = RecordingRegExp as RegExpConstructor;
  vi.resetModules();
  const { extractOffline } = await import('./offline/offline-extractor.js');
  const { parseQuestion } = await import('./ask/ask-intent.js');
  const { pyFloat } = await import('./eval/score.js');
  extractOffline({
    messages: CHATS.map((text, i) => ({
      id: `m${i}`,
      direction: i % 2 === 0 ? ('inbound' as const) : ('outbound' as const),
      ts: '2026-01-10T10:00:00+02:00',
      text,
    })),
    now: '2026-01-10T10:00:00+02:00',
    timeZone: 'Europe/Bucharest',
  });
  for (const question of QUESTIONS) parseQuestion(question, new Date('2026-01-10T10:00:00Z'));
  pyFloat('1_000.5');
  globalThis.RegExp = NativeRegExp;
});

afterAll(() => {
  globalThis.RegExp = NativeRegExp;
});

describe('patterns built at run time', () => {
  it('when the rules read chats and questions, then they build their patterns', () => {
    // The child, date, time, duration, guest, money and street rules all build theirs.
    expect(built.size).toBeGreaterThan(25);
  });

  it('when recheck analyses a catastrophic pattern with these options, then it says vulnerable', () => {
    // The options must be able to fail: with unlimited recall validation recheck calls this safe.
    expect(checkSync('^(\\s*\\d+)+$', '', RECHECK_OPTIONS).status).toBe('vulnerable');
  }, 120_000);

  it('when recheck analyses each built pattern, then every one is linear or safe', () => {
    const unsafe: string[] = [];
    for (const { source, flags } of built.values()) {
      // `d` (match indices) does not change what matches; recheck does not know the flag.
      const result = checkSync(source, flags.replace('d', ''), RECHECK_OPTIONS);
      if (result.status !== 'safe') {
        const why = result.status === 'vulnerable' ? result.complexity.summary : result.status;
        unsafe.push(`/${source}/${flags}: ${why}`);
      }
    }
    expect(unsafe).toEqual([]);
  }, 600_000);
});
