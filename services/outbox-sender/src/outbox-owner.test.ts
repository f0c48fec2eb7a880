import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * Every way production code reaches the outbox collection: the typed accessor, the raw
 * collection name, a document path, and ingest's old ref helper.
 */
const OUTBOX_ACCESS = [
  /\.outbox\(\)/,
  /collection\(\s*['"`]outbox['"`]\s*\)/,
  /\.doc\(\s*['"`]outbox\//,
  /\boutboxRef\b/,
];

/**
 * Who may touch `outbox/*`: outbox-sender's store (every transition after the accept), the
 * accept itself (create-once at the send route, and the read-only lookup ingest uses). The
 * collection map (`collections.ts`) names it without reaching a document.
 */
const ALLOWED = new Set([
  'services/outbox-sender/src/data-access/outbox-store.ts',
  'libs/firestore/src/outbox/outbox.repository.ts',
]);

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (['node_modules', 'dist', 'test', 'test-support', 'bench'].includes(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sources(path));
    else if (/\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name)) out.push(path);
  }
  return out;
}

describe('the outbox has one owner', () => {
  it('when the tree is searched for code that reaches outbox documents, then only outbox-sender (and the accept) do', () => {
    const files = ['libs', 'services', 'tools'].flatMap((top) =>
      readdirSync(join(root, top), { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .flatMap((d) => {
          try {
            return sources(join(root, top, d.name, 'src'));
          } catch {
            return [];
          }
        }),
    );
    const reaching = files
      .map((f) => relative(root, f))
      .filter((f) => {
        // Code only: comments may name `outbox/{requestId}`.
        const code = readFileSync(join(root, f), 'utf8')
          .split('\n')
          .filter((line) => !/^\s*(\*|\/\/|\/\*)/.test(line))
          .join('\n');
        return OUTBOX_ACCESS.some((re) => re.test(code));
      });

    // The search works: it finds the owner and the accept.
    expect(reaching).toEqual(expect.arrayContaining([...ALLOWED]));
    expect(reaching.filter((f) => !ALLOWED.has(f))).toEqual([]);
  });
});
