import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { csvCell, toCsv } from './csv.js';

describe('CSV', () => {
  it('when a cell starts like a formula, then it is prefixed so a spreadsheet shows it as text', () => {
    for (const cell of ['=1+1', '+40722333444', '-5', '@SUM(A1)', '\t=x', '\r=x']) {
      expect(csvCell(cell).replace(/^"/, '')).toMatch(/^'/);
    }
    expect(csvCell('=HYPERLINK("http://x","y")')).toBe('"\'=HYPERLINK(""http://x"",""y"")"');
    expect(csvCell('Ana')).toBe('Ana');
    // Numbers are numbers: a negative amount is not text.
    expect(csvCell(-5)).toBe('-5');
    expect(csvCell(12.5)).toBe('12.5');
    expect(csvCell(null)).toBe('');
  });

  it('when cells hold commas, quotes, line breaks and diacritics, then a CSV parser reads them back exactly', () => {
    const rows = [
      ['Ștefan, "Piticu"', 'rând 1\nrând 2', 150, null],
      ['=cmd|calc', 'Țară; ăîâ', -20.5, true],
    ];
    const text = toCsv(['name', 'notes', 'amount', 'flag'], rows);
    expect(text.startsWith('\uFEFF')).toBe(true);
    const parsed: string[][] = parse(text, { bom: true });
    expect(parsed).toEqual([
      ['name', 'notes', 'amount', 'flag'],
      ['Ștefan, "Piticu"', 'rând 1\nrând 2', '150', ''],
      ["'=cmd|calc", 'Țară; ăîâ', '-20.5', 'true'],
    ]);
  });
});
