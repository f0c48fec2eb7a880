/**
 * RFC 4180 CSV, safe to open in a spreadsheet. A cell that starts with = + - @ (or a tab or
 * carriage return, which some spreadsheets skip before reading a formula) is prefixed with a
 * single quote so it shows as text and never runs as a formula (OWASP "CSV injection"); a cell
 * holding a comma, quote or line break is quoted, its quotes doubled. Numbers are written as
 * they are (a negative amount stays a number).
 */
export type CsvValue = string | number | boolean | null | undefined;

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

export function csvCell(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A whole document: a header row, then one row per record, CRLF line ends, UTF-8 BOM first
 * (so spreadsheets read Romanian diacritics right). */
export function toCsv(header: readonly string[], rows: ReadonlyArray<readonly CsvValue[]>): string {
  const line = (cells: readonly CsvValue[]) => cells.map(csvCell).join(',');
  return `\uFEFF${[line(header), ...rows.map(line)].join('\r\n')}\r\n`;
}
