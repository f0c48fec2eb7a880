import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FirestoreWriteLog,
  frameRecord,
  listLogFiles,
  logFilePath,
  replayLogFile,
} from './firestore-write-log.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function snapshotPathInTempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wacrm-write-log-'));
  dirs.push(dir);
  return join(dir, 'firestore.json');
}

async function replay(path: string, cutTornTail = true) {
  const payloads: string[] = [];
  const result = await replayLogFile(path, (p) => payloads.push(p.toString()), cutTornTail);
  return { payloads, ...result };
}

describe('firestore write-ahead log', () => {
  it('when many records are appended at once, then each resolves on disk and they replay in order', async () => {
    const snapshotPath = await snapshotPathInTempDir();
    const log = await FirestoreWriteLog.create(snapshotPath, 1);

    await Promise.all(Array.from({ length: 200 }, (_, i) => log.append(Buffer.from(`r${i}`))));
    await log.close();

    const { payloads, records, tornTail } = await replay(logFilePath(snapshotPath, 1));
    expect(records).toBe(200);
    expect(tornTail).toBeUndefined();
    expect(payloads).toEqual(Array.from({ length: 200 }, (_, i) => `r${i}`));
  });

  it('when the log is rotated, then later records go to the next generation and older ones can be removed', async () => {
    const snapshotPath = await snapshotPathInTempDir();
    const log = await FirestoreWriteLog.create(snapshotPath, 3);
    await log.append(Buffer.from('before'));

    const next = await log.rotate();
    await log.append(Buffer.from('after'));
    await log.removeBefore(next);
    await log.close();

    expect(next).toBe(4);
    expect((await listLogFiles(snapshotPath)).map((f) => f.generation)).toEqual([4]);
    expect((await replay(logFilePath(snapshotPath, 4))).payloads).toEqual(['after']);
  });

  it('when a record in the middle fails its checksum, then it and what follows are cut from the last log only', async () => {
    const snapshotPath = await snapshotPathInTempDir();
    const path = logFilePath(snapshotPath, 1);
    const good = frameRecord(Buffer.from('good'));
    const bad = frameRecord(Buffer.from('flipped'));
    bad.writeUInt8(bad.readUInt8(bad.length - 1) ^ 0xff, bad.length - 1);
    await writeFile(path, Buffer.concat([good, bad, frameRecord(Buffer.from('after'))]));

    await expect(replay(path, false)).rejects.toThrow(/damaged at byte 12 \(checksum mismatch\)/);
    const { payloads, tornTail } = await replay(path);

    expect(payloads).toEqual(['good']);
    expect(tornTail).toMatchObject({ offset: good.length, reason: 'checksum mismatch' });
    expect((await stat(path)).size).toBe(good.length);
    await appendFile(path, frameRecord(Buffer.from('next')));
    expect((await replay(path)).payloads).toEqual(['good', 'next']);
    expect((await readFile(path)).length).toBe(good.length + 12);
  });
});
