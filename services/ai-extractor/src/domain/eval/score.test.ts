import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { addressF1, fieldOk, pyPercent, score, type JsonRow } from './score.js';

/** The reference scorer beside the repository (../shared/eval/score.py from the repo root). */
const SCORE_PY = fileURLToPath(new URL('../../../../../../shared/eval/score.py', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'wacrm-score-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function booking(i: number): JsonRow {
  return {
    date: `2026-0${1 + (i % 9)}-1${i % 10}`,
    time: `1${i % 10}:30`,
    durationHours: i % 3 === 0 ? 1.5 : 2,
    address:
      i % 4 === 0 ? null : `Str. Ștefan cel Mare nr. ${i}, bl. ${i + 1}, Sector ${1 + (i % 6)}`,
    characters: i % 5 === 0 ? [] : ['Prințesă', 'Moș Crăciun'].slice(0, 1 + (i % 2)),
    amount: 500 + 50 * i,
    advance: i % 2 === 0 ? null : 100,
    childName: i % 3 === 0 ? null : `Ștefania${i}`,
    childAge: i % 3 === 0 ? null : 3 + (i % 7),
    guests: i % 2 === 0 ? 10 + i : null,
  };
}

/** 16 bookings and 2 non-bookings: 1/16 = 6.25% exercises Python's round-half-even. */
const GOLD: JsonRow[] = [
  ...Array.from({ length: 16 }, (_, i) => ({
    id: `g${i}`,
    now: '2026-01-01T10:00:00+02:00',
    messages: [],
    gold: booking(i),
  })),
  { id: 'n1', now: '2026-01-01T10:00:00+02:00', messages: [], gold: null },
  { id: 'n2', now: '2026-01-01T10:00:00+02:00', messages: [], gold: null },
];

/** Predictions that get things right and wrong in the ways the metric distinguishes. */
function perturbed(): JsonRow[] {
  return GOLD.map((row, i) => {
    const gold = row.gold as JsonRow | null;
    if (gold === null)
      return { id: row.id, draft: i === 16 ? null : { date: '2026-01-01', characters: [] } };
    const draft: JsonRow = { ...gold, notes: 'ignored' };
    switch (i) {
      case 0:
        draft.time = '9:30';
        break; // 4-char time is zero-padded, still wrong hour
      case 1:
        draft.date = `${String(gold.date)}T10:00:00`;
        draft.time = ` ${String(gold.time)} `;
        break;
      case 2:
        draft.amount = String(gold.amount);
        draft.guests = ' 12 ';
        break;
      case 3:
        draft.characters = ['prInțesa', 'PRINTESA'];
        draft.childName = 'ștefania3 ';
        break;
      case 4:
        draft.address = 'somewhere';
        draft.advance = 0;
        break;
      case 5:
        draft.characters = 'Prințesă';
        draft.amount = 'abc';
        break;
      case 6:
        draft.address = 'Stefan cel Mare 6';
        draft.durationHours = '1_5';
        break;
      case 7:
        draft.address = '';
        draft.advance = true;
        draft.childAge = '1e1';
        break;
      case 8:
        draft.characters = null;
        draft.guests = 18.004;
        break;
      case 9:
        return { id: row.id, draft: null };
      case 10:
        return { id: `${String(row.id)}-other`, draft: gold };
      case 11:
        draft.amount = 'inf';
        draft.date = 20260101;
        break;
      case 12:
        delete draft.time;
        draft.childName = null;
        break;
      case 13:
        draft.address = 'Sector 2, nr. 13, bl. 14, Stefan';
        break;
      case 14:
        draft.address = 'Stefan cel Mare, Iasi, Romania';
        break; // F1 0.545: wrong
      case 15:
        draft.address = 'Stefan cel Mare Iasi';
        break; // F1 exactly 0.6: right
      default:
        break;
    }
    return { id: row.id, draft };
  });
}

function writeJsonl(name: string, rows: readonly JsonRow[]): string {
  const path = join(dir, name);
  writeFileSync(path, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
  return path;
}

function python(
  gold: string,
  pred: string,
  extra: string[] = [],
): { lines: string[]; status: number | null } {
  const run = spawnSync('python3', [SCORE_PY, gold, pred, ...extra], { encoding: 'utf8' });
  if (run.error !== undefined) throw run.error;
  return { lines: run.stdout.trimEnd().split('\n'), status: run.status };
}

describe('score parity with score.py', () => {
  const goldPath = writeJsonl('gold.jsonl', GOLD);

  it('when predictions are perfect, then both scorers print identical lines and 100%', () => {
    const preds = GOLD.map((r) => ({ id: r.id, draft: r.gold }));
    const ts = score(GOLD, preds);
    expect(ts.lines).toEqual(python(goldPath, writeJsonl('perfect.jsonl', preds)).lines);
    expect(ts.lines.at(-1)).toBe('field accuracy 100.0%');
  });

  it('when predictions are partly wrong in many ways, then both scorers agree line for line', () => {
    const preds = perturbed();
    const ts = score(GOLD, preds);
    const py = python(goldPath, writeJsonl('perturbed.jsonl', preds));
    expect(ts.lines).toEqual(py.lines);
    expect(ts.lines.some((l) => l.startsWith('missing predictions: 1 (g10...)'))).toBe(true);
  });

  it('when most predictions are missing, then the missing line and the --min status agree', () => {
    const preds = perturbed().slice(0, 3);
    const ts = score(GOLD, preds, 0.9);
    const py = python(goldPath, writeJsonl('few.jsonl', preds), ['--min', '0.9']);
    expect(ts.lines).toEqual(py.lines);
    expect(ts.exitCode).toBe(1);
    expect(py.status).toBe(1);
  });

  it('when a field is right once in 16, then the percentage rounds half to even like Python', () => {
    const preds = GOLD.map((r, i) => ({
      id: r.id,
      draft:
        r.gold === null
          ? null
          : { ...(r.gold as JsonRow), amount: i === 0 ? (r.gold as JsonRow).amount : -1 },
    }));
    const ts = score(GOLD, preds);
    expect(ts.lines).toEqual(python(goldPath, writeJsonl('sixteenth.jsonl', preds)).lines);
    expect(ts.lines[5]).toBe('amount           1/ 16    6.2%');
  });
});

describe('score rules', () => {
  it('when percentages sit exactly on a half, then they round to even', () => {
    expect(pyPercent(1 / 16)).toBe('6.2%');
    expect(pyPercent(3 / 16)).toBe('18.8%');
    expect(pyPercent(1 / 8)).toBe('12.5%');
    expect(pyPercent(2 / 3)).toBe('66.7%');
  });

  it('when addresses share enough tokens beyond the stop words, then F1 reaches 0.6', () => {
    expect(addressF1('str. Lizeanu 20, sector 2', 'Str. Lizeanu nr. 20, Sector 2')).toBe(1);
    expect(addressF1('Lizeanu', 'Str. Lizeanu nr. 20, Sector 2')).toBeLessThan(0.6);
  });

  it('when a gold field is null, then only an empty prediction is right', () => {
    expect(fieldOk('advance', null, null)).toBe(true);
    expect(fieldOk('characters', [], null)).toBe(true);
    expect(fieldOk('advance', 0, null)).toBe(false);
  });
});
