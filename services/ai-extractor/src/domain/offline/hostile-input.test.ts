import { describe, expect, it } from 'vitest';
import { extractOffline } from './offline-extractor.js';
import { parseQuestion } from '../ask/ask-intent.js';

/**
 * Every WhatsApp text is written by a stranger. These bodies are built to make backtracking
 * regular expressions explode (long runs of spaces, separators and digits next to the words the
 * rules look for); each must be read within a CPU budget that a linear scan meets many times over.
 * Before the fix, "ziua" + 400 spaces + "1" alone took 14.5 s.
 */
const KIB = 1024;
const run = (unit: string, length: number): string =>
  unit.repeat(Math.ceil(length / unit.length)).slice(0, length);

const HOSTILE: Array<[string, string]> = [
  ['ziua + 400 spaces + 1', `ziua${run(' ', 400)}1`],
  ['ziua + 5,000 spaces + 1', `ziua${run(' ', 5000)}1`],
  ['64 KiB of spaces', run(' ', 64 * KIB)],
  ['64 KiB of tabs and newlines', run('\t\n ', 64 * KIB)],
  ['64 KiB of digits', run('1', 64 * KIB)],
  ['64 KiB of digits and spaces', run('1 ', 64 * KIB)],
  ['64 KiB of digits and dots', run('1.', 64 * KIB)],
  ['64 KiB of commas and spaces', run(', ', 64 * KIB)],
  ['64 KiB of dashes', run('-', 64 * KIB)],
  ['64 KiB of capitalised words', run('Ana ', 64 * KIB)],
  ['64 KiB of letters', run('a', 64 * KIB)],
  ['street words then spaces', `str. Lizeanu${run(' ', 20 * KIB)}x`],
  ['pentru + spaces + name', `pentru${run(' ', 20 * KIB)}Maria${run(' ', 20 * KIB)}5`],
  [
    'face + spaces + age',
    `Ana${run(' ', 10 * KIB)},${run(' ', 10 * KIB)}face${run(' ', 10 * KIB)}5`,
  ],
  ['money words and separators', `avans${run(' :=-', 20 * KIB)}100`],
  ['lei after long number', `${run('1.', 20 * KIB)} lei`],
  ['nr and block parts', `str. Mare 5${run(' , bl', 20 * KIB)}`],
  ['times', `la ora${run(' ', 20 * KIB)}12${run(':', 20 * KIB)}`],
  ['names and parentheses', `${run('David (', 20 * KIB)}6 ani`],
  ['negations', `${run('nu ', 20 * KIB)}Elsa`],
  ['hours', `${run('2 ore ', 20 * KIB)}650 lei`],
];

function cpuMsOf(work: () => unknown): number {
  const before = process.cpuUsage();
  work();
  const spent = process.cpuUsage(before);
  return (spent.user + spent.system) / 1000;
}

// Generous for a shared 2-core box: a linear pass over 64 KiB takes a few milliseconds, a
// polynomial one takes seconds to hours.
const BUDGET_MS = 1500;

describe('offline extractor on hostile texts', () => {
  for (const [label, text] of HOSTILE) {
    it(`when a client sends ${label}, then the draft is computed within ${BUDGET_MS} ms of CPU`, () => {
      const spent = cpuMsOf(() =>
        extractOffline({
          messages: [{ id: 'm1', direction: 'inbound', ts: '2026-01-10T10:00:00+02:00', text }],
          now: '2026-01-10T10:00:00+02:00',
          timeZone: 'Europe/Bucharest',
        }),
      );
      expect(spent).toBeLessThan(BUDGET_MS);
    });
  }

  it('when a whole chat of hostile texts arrives, then it is read within the budget too', () => {
    const spent = cpuMsOf(() =>
      extractOffline({
        messages: HOSTILE.map(([, text], i) => ({
          id: `m${i}`,
          direction: 'inbound' as const,
          ts: '2026-01-10T10:00:00+02:00',
          text,
        })),
        now: '2026-01-10T10:00:00+02:00',
        timeZone: 'Europe/Bucharest',
      }),
    );
    expect(spent).toBeLessThan(BUDGET_MS * 2);
  });

  it('when an operator asks a hostile question, then it is parsed within the budget', () => {
    for (const [, text] of HOSTILE) {
      const spent = cpuMsOf(() => parseQuestion(text, new Date('2026-01-10T10:00:00Z')));
      expect(spent).toBeLessThan(BUDGET_MS);
    }
  });
});
