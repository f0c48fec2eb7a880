import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parseConversations, parseJsonLines, toExtractionInput } from '../domain/eval/dataset.js';
import { score, type JsonRow } from '../domain/eval/score.js';
import { OfflineExtractionProvider } from '../domain/offline/offline-extractor.js';

const USAGE =
  'usage: npm run eval:extract -- --in GOLD.jsonl [--pred PRED.jsonl] [--min 0.9]\n' +
  '  without --pred, the offline extractor predicts the gold conversations first';

/** Prints per-field accuracy with score.py's metric; the last line is `field accuracy X%`. */
async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { in: { type: 'string' }, pred: { type: 'string' }, min: { type: 'string' } },
    strict: true,
  });
  if (values.in === undefined) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const min = values.min === undefined ? undefined : Number(values.min);
  if (min !== undefined && !Number.isFinite(min))
    throw new Error(`--min must be a number, got ${values.min}`);

  const goldText = await readFile(values.in, 'utf8');
  const gold = parseJsonLines(goldText);
  if (gold.errors.length > 0) throw new Error(`${values.in}: ${gold.errors.join('; ')}`);

  let predictions: JsonRow[];
  if (values.pred !== undefined) {
    const parsed = parseJsonLines(await readFile(values.pred, 'utf8'));
    if (parsed.errors.length > 0) throw new Error(`${values.pred}: ${parsed.errors.join('; ')}`);
    predictions = parsed.rows.map((r) => r.value as JsonRow);
  } else {
    const conversations = parseConversations(goldText);
    if (conversations.errors.length > 0)
      throw new Error(`${values.in}: ${conversations.errors.join('; ')}`);
    const provider = new OfflineExtractionProvider();
    predictions = [];
    for (const row of conversations.rows) {
      const { draft } = await provider.extract(toExtractionInput(row));
      // Round-trip through JSON so the scorer sees exactly what `extract` prints.
      predictions.push(JSON.parse(JSON.stringify({ id: row.id, draft })) as JsonRow);
    }
  }

  const report = score(
    gold.rows.map((r) => r.value as JsonRow),
    predictions,
    min,
  );
  process.stdout.write(`${report.lines.join('\n')}\n`);
  return report.exitCode;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `eval:extract: ${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`,
    );
    process.exitCode = 2;
  },
);
