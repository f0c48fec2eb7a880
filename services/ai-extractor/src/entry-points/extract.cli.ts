import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parseConversations, toExtractionInput } from '../domain/eval/dataset.js';
import { OfflineExtractionProvider } from '../domain/offline/offline-extractor.js';

const USAGE =
  'usage: npm run -s extract -- --in FILE.jsonl   (lines {id, now, messages: [{direction, ts, text}]})';

/**
 * Reads conversations and prints one `{id, draft}` line per valid input line on stdout (draft null
 * when the chat is not a booking). Invalid lines are reported on stderr with their line number and
 * make the exit status 2; the valid ones are still extracted.
 */
async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { in: { type: 'string' } }, strict: true });
  if (values.in === undefined) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const { rows, errors } = parseConversations(await readFile(values.in, 'utf8'));
  const provider = new OfflineExtractionProvider();
  for (const row of rows) {
    const { draft } = await provider.extract(toExtractionInput(row));
    process.stdout.write(`${JSON.stringify({ id: row.id, draft })}\n`);
  }
  for (const error of errors) process.stderr.write(`${values.in}: ${error}\n`);
  return errors.length > 0 ? 2 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `extract: ${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`,
    );
    process.exitCode = 2;
  },
);
