/**
 * The extraction metric of ../shared/eval/score.py, line for line: the same field rules,
 * normalisation, address token F1 (same stop words), null rules and printed lines, so
 * `npm run eval:extract` and `python3 score.py` agree. Python semantics are reproduced where they
 * matter for JSON input: str(), float(), str.strip(), unicodedata.combining, "%" formatting
 * (round-half-even on the exact binary value).
 */

export const FIELDS = [
  'date',
  'time',
  'durationHours',
  'address',
  'characters',
  'amount',
  'advance',
  'childName',
  'childAge',
  'guests',
] as const;
export type ScoredField = (typeof FIELDS)[number];

const ADDRESS_F1 = 0.6;
const NUMERIC_FIELDS: ReadonlySet<string> = new Set([
  'amount',
  'advance',
  'guests',
  'childAge',
  'durationHours',
]);
const STOP_WORDS: ReadonlySet<string> = new Set([
  'nr',
  'str',
  'strada',
  'bl',
  'bloc',
  'sc',
  'scara',
  'ap',
  'apartament',
  'sector',
  'sect',
  'bd',
  'bulevardul',
  'b',
  'dul',
  'calea',
  'sos',
  'soseaua',
  'sala',
  'de',
]);

/** Python's str.isspace() set, which str.strip() removes (JS trim() differs on a few). */
const PY_SPACE =
  '\t\n\u000b\u000c\r\u001c\u001d\u001e\u001f \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000';

export function pyStrip(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && PY_SPACE.includes(text.charAt(start))) start += 1;
  while (end > start && PY_SPACE.includes(text.charAt(end - 1))) end -= 1;
  return text.slice(start, end);
}

/** Python's str() of a JSON value (ints and floats cannot be told apart once parsed by JS). */
export function pyStr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'nan';
    if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  const entries = Object.entries(value as Record<string, unknown>);
  return `{${entries.map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`).join(', ')}}`;
}

function pyRepr(value: unknown): string {
  return typeof value === 'string'
    ? `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
    : pyStr(value);
}

/** Python's float() of a JSON value; NaN where Python raises (the field is then wrong). */
export function pyFloat(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value !== 'string') return Number.NaN;
  const text = pyStrip(value);
  if (/^[+-]?(?:inf|infinity)$/i.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(text)) return Number.NaN;
  const digits = String.raw`\d(?:_?\d)*`;
  const number = new RegExp(
    String.raw`^[+-]?(?:${digits}(?:\.(?:${digits})?)?|\.${digits})(?:[eE][+-]?${digits})?$`,
  );
  return number.test(text) ? Number(text.replace(/_/g, '')) : Number.NaN;
}

/** fold() of score.py: NFKD, drop combining marks, lower case, strip. */
export function fold(value: unknown): string {
  const text = pyStr(value)
    .normalize('NFKD')
    .replace(/\p{Mn}/gu, '');
  return pyStrip(text.toLowerCase());
}

/** tokens() of score.py: alphanumeric runs of the folded text, minus the address stop words. */
export function tokens(value: unknown): string[] {
  const out: string[] = [];
  let word = '';
  for (const c of fold(value)) {
    if (/[\p{L}\p{N}]/u.test(c)) word += c;
    else if (word !== '') {
      out.push(word);
      word = '';
    }
  }
  if (word !== '') out.push(word);
  return out.filter((t) => !STOP_WORDS.has(t));
}

export function addressF1(pred: unknown, gold: unknown): number {
  const p = tokens(pred);
  const g = tokens(gold);
  if (p.length === 0 || g.length === 0) return 0;
  let common = 0;
  const rest = [...g];
  for (const t of p) {
    const at = rest.indexOf(t);
    if (at >= 0) {
      rest.splice(at, 1);
      common += 1;
    }
  }
  if (common === 0) return 0;
  const precision = common / p.length;
  const recall = common / g.length;
  return (2 * precision * recall) / (precision + recall);
}

function isEmpty(value: unknown): boolean {
  return (
    value === null ||
    value === undefined ||
    value === '' ||
    (Array.isArray(value) && value.length === 0)
  );
}

/** Python slicing counts code points, not UTF-16 units. */
function head(text: string, count: number): string {
  return Array.from(text).slice(0, count).join('');
}

export function fieldOk(name: string, pred: unknown, gold: unknown): boolean {
  if (isEmpty(gold)) return isEmpty(pred);
  if (isEmpty(pred)) return false;
  if (NUMERIC_FIELDS.has(name)) return Math.abs(pyFloat(pred) - pyFloat(gold)) < 0.01;
  if (name === 'characters') {
    if (!Array.isArray(pred)) return false;
    const p = new Set(pred.map((x) => fold(x)));
    const g = new Set((Array.isArray(gold) ? gold : Array.from(pyStr(gold))).map((x) => fold(x)));
    return p.size === g.size && [...p].every((x) => g.has(x));
  }
  if (name === 'address') return addressF1(pred, gold) >= ADDRESS_F1;
  if (name === 'time') {
    let text = pyStrip(pyStr(pred));
    const points = Array.from(text);
    if (points.length === 4 && points[1] === ':') text = `0${text}`;
    return typeof gold === 'string' && head(text, 5) === gold;
  }
  if (name === 'date') return typeof gold === 'string' && head(pyStrip(pyStr(pred)), 10) === gold;
  return fold(pred) === fold(gold);
}

/** Python's format(x, '.{digits}%'): x × 100 in floating point, then round-half-even exactly. */
export function pyPercent(x: number, digits = 1): string {
  return `${pyFixed(x * 100, digits)}%`;
}

function pyFixed(value: number, digits: number): string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? 'nan' : value > 0 ? 'inf' : '-inf';
  if (Math.abs(value) >= 1e21) return value.toFixed(digits);
  // toFixed(100) is the exact decimal expansion of the double for the magnitudes seen here.
  const exact = Math.abs(value).toFixed(100);
  const [whole = '0', fraction = ''] = exact.split('.');
  const kept = fraction.slice(0, digits);
  const next = fraction.charAt(digits);
  const beyond = fraction.slice(digits + 1);
  let digitsText = whole + kept;
  const lastDigit = Number(digitsText.charAt(digitsText.length - 1));
  const roundUp = next > '5' || (next === '5' && (/[1-9]/.test(beyond) || lastDigit % 2 === 1));
  if (roundUp) digitsText = (BigInt(digitsText) + 1n).toString().padStart(digitsText.length, '0');
  const intPart = digitsText.slice(0, digitsText.length - digits) || '0';
  const fracPart = digits > 0 ? `.${digitsText.slice(digitsText.length - digits)}` : '';
  const negative = value < 0 || Object.is(value, -0);
  return `${negative ? '-' : ''}${intPart}${fracPart}`;
}

export type JsonRow = Record<string, unknown>;

/** load() of score.py: rows keyed by id, a later duplicate replacing the earlier one in place. */
export function rowsById(rows: readonly JsonRow[]): Map<string, JsonRow> {
  const byId = new Map<string, JsonRow>();
  for (const row of rows) byId.set(JSON.stringify(row.id ?? null), row);
  return byId;
}

export interface ScoreReport {
  lines: string[];
  accuracy: number;
  detection: number;
  perField: Record<ScoredField, { good: number; total: number }>;
  /** 1 when `min` was given and the accuracy is below it, like score.py's exit status. */
  exitCode: number;
}

/** main() of score.py over already parsed gold and prediction rows. */
export function score(
  goldRows: readonly JsonRow[],
  predRows: readonly JsonRow[],
  min?: number,
): ScoreReport {
  const gold = rowsById(goldRows);
  const preds = rowsById(predRows);
  const perField = Object.fromEntries(
    FIELDS.map((f) => [f, { good: 0, total: 0 }]),
  ) as ScoreReport['perField'];
  let detectOk = 0;
  let detectN = 0;
  let exact = 0;
  let bookings = 0;
  const missing = [...gold.keys()].filter((id) => !preds.has(id));
  for (const [id, row] of gold) {
    if (!('gold' in row)) throw new Error(`gold row ${id} has no "gold" field`);
    const expected = row.gold;
    const predRow = preds.get(id);
    const draft = predRow === undefined ? undefined : predRow.draft;
    const draftIsNone = draft === undefined || draft === null;
    detectN += 1;
    if ((expected === null) === draftIsNone) detectOk += 1;
    if (expected === null) continue;
    bookings += 1;
    let allOk = true;
    const goldFields = (typeof expected === 'object' ? expected : {}) as JsonRow;
    const draftFields = (
      typeof draft === 'object' && draft !== null && !Array.isArray(draft) ? draft : {}
    ) as JsonRow;
    for (const name of FIELDS) {
      const ok = !draftIsNone && fieldOk(name, draftFields[name], goldFields[name]);
      perField[name].good += ok ? 1 : 0;
      perField[name].total += 1;
      allOk &&= ok;
    }
    exact += allOk ? 1 : 0;
  }
  if (bookings === 0) throw new Error('ZeroDivisionError: the gold file holds no booking to score');
  const lines: string[] = [];
  for (const name of FIELDS) {
    const { good, total } = perField[name];
    lines.push(
      `${name.padEnd(14)} ${String(good).padStart(3)}/${String(total).padStart(3)}  ${pyPercent(good / total).padStart(6)}`,
    );
  }
  const correct = FIELDS.reduce((sum, f) => sum + perField[f].good, 0);
  const total = FIELDS.reduce((sum, f) => sum + perField[f].total, 0);
  lines.push(`booking detection ${detectOk}/${detectN}  ${pyPercent(detectOk / detectN)}`);
  lines.push(`whole event right ${exact}/${bookings}  ${pyPercent(exact / Math.max(bookings, 1))}`);
  if (missing.length > 0) {
    const shown = missing.slice(0, 5).map((key) => pyStr(JSON.parse(key) as unknown));
    lines.push(`missing predictions: ${missing.length} (${shown.join(', ')}...)`);
  }
  const accuracy = correct / total;
  lines.push(`field accuracy ${pyPercent(accuracy)}`);
  return {
    lines,
    accuracy,
    detection: detectOk / detectN,
    perField,
    exitCode: min !== undefined && accuracy < min ? 1 : 0,
  };
}
