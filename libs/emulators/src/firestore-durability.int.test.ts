import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { appendFile, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import { deleteApp, initializeApp, type App } from 'firebase-admin/app';
import { getFirestore, type Firestore } from 'firebase-admin/firestore';
import { Write } from '@firestore-emulator/proto/dist/google/firestore/v1/write.js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFirestoreEmulator } from './firestore-emulator.server.js';
import { waitFor } from './wait-for.util.js';

// Durability of the emulator as the launcher and compose run it: a process of its own, killed
// with SIGKILL (no handler runs), started again on the same data.
const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

beforeAll(() => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
    cwd: packageDir,
    stdio: 'inherit',
  });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wacrm-firestore-durability-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

interface EmulatorProcess {
  child: ChildProcess;
  host: string;
  output(): string;
  sigkill(): Promise<void>;
}

async function startEmulatorProcess(
  snapshotPath: string,
  extraArgs: string[] = [],
): Promise<EmulatorProcess> {
  const child = spawn(
    process.execPath,
    [join(packageDir, 'dist/firestore-emulator.main.js'), '--snapshot', snapshotPath, ...extraArgs],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = once(child, 'exit');
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  await waitFor(() => Promise.resolve(/"msg":"firestore emulator ready"/.test(text)), {
    timeoutMs: 20_000,
    intervalMs: 20,
    what: 'the emulator to be ready',
    abortReason: () => (child.exitCode === null ? undefined : `exited ${child.exitCode}`),
    details: () => text,
  });
  const host = /"host":"([^"]+)"/.exec(text)?.[1] ?? '';
  return {
    child,
    host,
    output: () => text,
    async sigkill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

function adminFirestore(host: string): Firestore {
  process.env.FIRESTORE_EMULATOR_HOST = host;
  const app: App = initializeApp({ projectId: 'demo-durability' }, `durability-${randomUUID()}`);
  cleanups.push(() => deleteApp(app));
  return getFirestore(app);
}

async function writeAcknowledged(db: Firestore, from: number, count: number): Promise<void> {
  // Concurrent writers, as the services are: every set() resolves only once acknowledged.
  const ids = Array.from({ length: count }, (_, i) => from + i);
  for (let i = 0; i < ids.length; i += 25) {
    await Promise.all(
      ids.slice(i, i + 25).map((n) => db.doc(`inbound/m${n}`).set({ n, body: `message ${n}` })),
    );
  }
}

async function storedNumbers(db: Firestore): Promise<number[]> {
  const snapshot = await db.collection('inbound').get();
  return snapshot.docs.map((d) => d.get('n') as number).sort((a, b) => a - b);
}

function range(from: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => from + i);
}

async function logFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.startsWith('firestore.json.wal')).sort();
}

/** Bytes in the log files of `dir`, every generation. */
async function logBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await logFiles(dir)) total += (await stat(join(dir, name))).size;
  return total;
}

/** One log record framed as the log writes it: length, CRC-32 of the payload, payload. */
function frame(payload: Buffer, crc = crc32(payload)): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32LE(payload.length, 0);
  header.writeUInt32LE(crc, 4);
  return Buffer.concat([header, payload]);
}

describe('firestore emulator durability (write-ahead log)', () => {
  it('when acknowledged writes are followed at once by SIGKILL, then all of them are there after a restart', async () => {
    const dir = await tempDir();
    const snapshotPath = join(dir, 'firestore.json');
    const first = await startEmulatorProcess(snapshotPath);
    await writeAcknowledged(adminFirestore(first.host), 0, 300);

    await first.sigkill();
    const second = await startEmulatorProcess(snapshotPath);

    expect(await storedNumbers(adminFirestore(second.host))).toEqual(range(0, 300));
  });

  it('when commits, updates and deletes race compactions and SIGKILL follows, then the restart holds exactly the final state', async () => {
    const dir = await tempDir();
    const snapshotPath = join(dir, 'firestore.json');
    const first = await startEmulatorProcess(snapshotPath, ['--snapshot-interval-ms', '20']);
    const db = adminFirestore(first.host);
    await writeAcknowledged(db, 0, 200);
    await Promise.all(
      range(0, 200).map((n) =>
        n % 3 === 0
          ? db.doc(`inbound/m${n}`).delete()
          : db.doc(`inbound/m${n}`).update({ n: n + 1000 }),
      ),
    );
    await writeAcknowledged(db, 200, 100);

    await first.sigkill();
    const second = await startEmulatorProcess(snapshotPath);

    const expected = [
      ...range(0, 200)
        .filter((n) => n % 3 !== 0)
        .map((n) => n + 1000),
      ...range(200, 100),
    ].sort((a, b) => a - b);
    expect(await storedNumbers(adminFirestore(second.host))).toEqual(expected);
  });

  it.each([
    ['a partial record', frame(Buffer.from('{"documents":[]}')).subarray(0, 11)],
    ['a record whose checksum does not match', frame(Buffer.from('{"documents":[]}'), 12345)],
  ])(
    'when the log ends in %s, then the tail is cut with a log line and the good records load',
    async (_kind, garbage) => {
      const dir = await tempDir();
      const snapshotPath = join(dir, 'firestore.json');
      const first = await startEmulatorProcess(snapshotPath);
      await writeAcknowledged(adminFirestore(first.host), 0, 20);
      await first.sigkill();
      const [log] = await logFiles(dir);
      expect(log).toBeDefined();
      const goodSize = (await stat(join(dir, log!))).size;
      await appendFile(join(dir, log!), garbage);

      const second = await startEmulatorProcess(snapshotPath);

      expect(second.output()).toMatch(/"msg":"firestore log: torn tail cut"/);
      expect(second.output()).toContain(`"droppedBytes":${garbage.length}`);
      expect((await stat(join(dir, log!))).size).toBe(goodSize);
      const db = adminFirestore(second.host);
      expect(await storedNumbers(db)).toEqual(range(0, 20));
      // Records appended after the cut are read back too.
      await writeAcknowledged(db, 20, 5);
      await second.sigkill();
      const third = await startEmulatorProcess(snapshotPath);
      expect(third.output()).not.toMatch(/torn tail/);
      expect(await storedNumbers(adminFirestore(third.host))).toEqual(range(0, 25));
    },
  );

  it('when the snapshot interval passes, then the log is compacted into the snapshot and a restart reads both', async () => {
    const dir = await tempDir();
    const snapshotPath = join(dir, 'firestore.json');
    const emulator = await startFirestoreEmulator({ snapshotPath, snapshotIntervalMs: 100 });
    cleanups.push(() => emulator.stop());
    const db = adminFirestore(emulator.host);
    await writeAcknowledged(db, 0, 50);
    await waitFor(async () => (await logBytes(dir)) === 0, {
      timeoutMs: 10_000,
      what: 'the log to be compacted into the snapshot',
    });
    await writeAcknowledged(db, 50, 10);
    await emulator.stop();
    const again = await startFirestoreEmulator({ snapshotPath });
    cleanups.push(() => again.stop());

    expect(again.restoredDocuments).toBe(60);
    expect(await storedNumbers(adminFirestore(again.host))).toEqual(range(0, 60));
  });

  it('when the log is small next to the snapshot, then the interval leaves the snapshot alone until the log reaches a quarter of it', async () => {
    // A snapshot rewrites the whole database: on a 100,000-message install it took 77 s of CPU
    // (bench:api), and a live install is dirty every few seconds.
    const dir = await tempDir();
    const snapshotPath = join(dir, 'firestore.json');
    const emulator = await startFirestoreEmulator({ snapshotPath, snapshotIntervalMs: 50 });
    cleanups.push(() => emulator.stop());
    const db = adminFirestore(emulator.host);
    await writeAcknowledged(db, 0, 400);
    await emulator.snapshot();
    const written = await stat(snapshotPath);
    await writeAcknowledged(db, 400, 5);
    await new Promise((r) => setTimeout(r, 600));
    const after = await stat(snapshotPath);
    expect(after.mtimeMs).toBe(written.mtimeMs);
    expect(await logBytes(dir)).toBeGreaterThan(0);

    // Enough writes for the log to pass a quarter of the snapshot: compacted at the next tick.
    let n = 405;
    while ((await logBytes(dir)) < written.size / 4) {
      await writeAcknowledged(db, n, 25);
      n += 25;
    }
    await waitFor(async () => (await stat(snapshotPath)).mtimeMs !== written.mtimeMs, {
      timeoutMs: 10_000,
      what: 'the log to be compacted into the snapshot',
    });
    await emulator.stop();
    const again = await startFirestoreEmulator({ snapshotPath });
    cleanups.push(() => again.stop());
    expect(await storedNumbers(adminFirestore(again.host))).toEqual(range(0, n));
  });

  it('when the data dir holds a version 1 snapshot (written before the log), then it loads', async () => {
    const dir = await tempDir();
    const snapshotPath = join(dir, 'firestore.json');
    const legacy = {
      format: 'wacrm.firestore-emulator.snapshot',
      version: 1,
      savedAt: '2025-01-01T00:00:00.000Z',
      documents: [
        {
          path: 'projects/demo-durability/databases/(default)/documents/inbound/m7',
          createTime: '2025-01-01T00:00:00.000Z',
          updateTime: '2025-01-01T00:00:00.000Z',
          fields: { n: { integerValue: '7' } },
        },
      ],
    };
    await writeFile(snapshotPath, JSON.stringify(legacy));

    const emulator = await startFirestoreEmulator({ snapshotPath });
    cleanups.push(() => emulator.stop());

    expect(emulator.restoredDocuments).toBe(1);
    expect(await storedNumbers(adminFirestore(emulator.host))).toEqual([7]);
  });

  it('when a large database is snapshotted, then the event loop keeps turning', async () => {
    const dir = await tempDir();
    const emulator = await startFirestoreEmulator({
      snapshotPath: join(dir, 'firestore.json'),
      snapshotIntervalMs: 3_600_000,
    });
    cleanups.push(() => emulator.stop());
    // Filled directly (bypassing gRPC and the log): 200 parents of 100 documents each, since the
    // emulator's inserts slow down as one collection grows.
    const date = new Date();
    for (let parent = 0; parent < 200; parent++) {
      for (let i = 0; i < 100; i++) {
        const n = parent * 100 + i;
        emulator.state.writeV1Document(
          date,
          Write.fromObject({
            update: {
              name: `projects/demo-bulk/databases/(default)/documents/bulk/p${parent}/items/d${i}`,
              fields: {
                n: { integer_value: n },
                text: { string_value: 'x'.repeat(200) },
                tags: { array_value: { values: [{ string_value: 'a' }, { string_value: 'b' }] } },
                nested: { map_value: { fields: { a: { integer_value: n } } } },
              },
            },
          }),
        );
      }
    }
    let last = performance.now();
    let longestGapMs = 0;
    const ticker = setInterval(() => {
      const now = performance.now();
      longestGapMs = Math.max(longestGapMs, now - last);
      last = now;
    }, 2);

    const started = performance.now();
    await emulator.snapshot();
    clearInterval(ticker);

    const tookMs = performance.now() - started;
    // Other work on a shared machine also delays timers; a whole-database serialisation blocks
    // for the entire snapshot, so the bound is relative to how long the snapshot took.
    expect(longestGapMs, `snapshot took ${Math.round(tookMs)} ms`).toBeLessThan(
      Math.max(60, tookMs / 4),
    );
  });
});
