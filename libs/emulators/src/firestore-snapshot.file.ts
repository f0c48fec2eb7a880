import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import type { FirestoreState } from '@firestore-emulator/server';
import {
  iterateDocuments,
  restoreDocument,
  restoreSnapshot,
  SNAPSHOT_FORMAT,
  SNAPSHOT_VERSION,
  validateSnapshotDocument,
  validateSnapshotHeader,
} from './firestore-snapshot.codec.js';

// A version 2 snapshot is one JSON object laid out one document per line, so it is written and
// read a line at a time (no string near V8's limit) and still parses whole with JSON.parse / jq:
//   {"format":…,"version":2,"savedAt":…,"logGeneration":7,"documents":[
//   {"path":…}
//   ,{"path":…}
//   ]}

const CHUNK_CHARS = 256 * 1024;
/** The longest the walk runs before it hands the event loop back (by awaiting a write). */
const SLICE_MS = 8;
const END_LINE = ']}';

/**
 * Writes every document of the state to `path` atomically (temp file, fsync, rename, directory
 * fsync). The state is walked a document at a time and written in chunks; each write awaits the
 * disk, and one is due at least every few milliseconds, so requests are served in between.
 */
export async function writeSnapshotFile(
  state: FirestoreState,
  path: string,
  logGeneration: number,
  now = new Date(),
): Promise<number> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  const file = await open(tmp, 'w');
  let count = 0;
  try {
    const header = JSON.stringify({
      format: SNAPSHOT_FORMAT,
      version: SNAPSHOT_VERSION,
      savedAt: now.toISOString(),
      logGeneration,
    });
    let chunk = `${header.slice(0, -1)},"documents":[\n`;
    let sliceStart = performance.now();
    for (const document of iterateDocuments(state)) {
      chunk += `${count === 0 ? '' : ','}${JSON.stringify(document)}\n`;
      count += 1;
      if (chunk.length >= CHUNK_CHARS || performance.now() - sliceStart >= SLICE_MS) {
        await file.writeFile(chunk);
        chunk = '';
        sliceStart = performance.now();
      }
    }
    await file.writeFile(`${chunk}${END_LINE}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
  // rename() is atomic on POSIX, so a crash leaves either the old or the new file, never half of one.
  await rename(tmp, path);
  await syncDirectory(dirname(path));
  return count;
}

/**
 * Loads the snapshot at `path` into the state, a line at a time. Missing file: nothing loaded.
 * Version 1 files (one JSON line, written before the write-ahead log) load whole.
 */
export async function readSnapshotFile(
  state: FirestoreState,
  path: string,
): Promise<{ documents: number; logGeneration: number }> {
  const lines = createInterface({
    input: createReadStream(path, { encoding: 'utf8' }),
    crlfDelay: Infinity,
  });
  let header: { version: 1 | 2; logGeneration: number } | undefined;
  let documents = 0;
  let ended = false;
  let lineNumber = 0;
  try {
    for await (const line of lines) {
      lineNumber += 1;
      if (header === undefined) {
        if (!line.endsWith('"documents":[')) return await readWholeFile(state, path);
        header = validateSnapshotHeader(JSON.parse(`${line}]}`));
        continue;
      }
      if (ended) throw new Error(`unexpected content after the end at line ${lineNumber}`);
      if (line === END_LINE) {
        ended = true;
        continue;
      }
      const json = documents === 0 ? line : line.replace(/^,/, '');
      restoreDocument(state, validateSnapshotDocument(JSON.parse(json), `line ${lineNumber}`));
      documents += 1;
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { documents: 0, logGeneration: 0 };
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(`Cannot load Firestore snapshot ${path}: ${message}`, { cause: err });
  }
  if (header === undefined) {
    throw new Error(`Cannot load Firestore snapshot ${path}: the file is empty`);
  }
  if (!ended) throw new Error(`Cannot load Firestore snapshot ${path}: the file is truncated`);
  return { documents, logGeneration: header.logGeneration };
}

async function readWholeFile(
  state: FirestoreState,
  path: string,
): Promise<{ documents: number; logGeneration: number }> {
  const snapshot: unknown = JSON.parse(await readFile(path, 'utf8'));
  const { logGeneration } = validateSnapshotHeader(snapshot);
  return { documents: restoreSnapshot(state, snapshot), logGeneration };
}

/** Makes a rename or a new file in `dir` durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
