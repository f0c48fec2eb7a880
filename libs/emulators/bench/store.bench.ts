import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { deleteApp, initializeApp } from 'firebase-admin/app';
import { getFirestore, type Firestore } from 'firebase-admin/firestore';
import { startFirestoreEmulator } from '../src/firestore-emulator.server.js';

// Writes/s of the embedded store with the write-ahead log (every commit fdatasynced before its
// reply) beside the snapshot-only baseline, in the same run; then restart times after SIGKILL
// (log replay) and after a clean stop (snapshot load); then the CPU of a create into a collection
// of 20,000 documents beside one of 1,000.
//   npm run bench:store [-- SEQUENTIAL CONCURRENT WRITERS RESTART_DOCS]

const SEQUENTIAL = Number(process.argv[2] ?? 300);
const CONCURRENT = Number(process.argv[3] ?? 3_000);
const WRITERS = Number(process.argv[4] ?? 64);
const RESTART_DOCS = Number(process.argv[5] ?? 20_000);
const MAIN = join(dirname(fileURLToPath(import.meta.url)), '../src/firestore-emulator.main.js');

function client(host: string): { db: Firestore; close: () => Promise<void> } {
  const app = initializeApp({ projectId: 'demo-bench' }, `bench-${randomUUID()}`);
  const db = getFirestore(app);
  db.settings({ host, ssl: false });
  return { db, close: () => deleteApp(app) };
}

// 50 parents, as a real data set spreads its writes (createCost measures one growing collection).
const docPath = (run: string, n: number): string => `bench-${run}/p${n % 50}/items/d${n}`;

async function measure(writeAheadLog: boolean) {
  const dir = await mkdtemp(join(tmpdir(), 'wacrm-store-bench-'));
  const emulator = await startFirestoreEmulator({
    snapshotPath: join(dir, 'firestore.json'),
    writeAheadLog,
  });
  const { db, close } = client(emulator.host);
  try {
    // Warm-up: connection, channel, JIT.
    for (let i = 0; i < 50; i++) await db.doc(docPath('warm', i)).set({ i });
    const latencies: number[] = [];
    let started = performance.now();
    for (let i = 0; i < SEQUENTIAL; i++) {
      const t = performance.now();
      await db.doc(docPath('seq', i)).set({ i, body: `message ${i}` });
      latencies.push(performance.now() - t);
    }
    const sequential = SEQUENTIAL / ((performance.now() - started) / 1_000);
    latencies.sort((a, b) => a - b);
    let next = 0;
    started = performance.now();
    await Promise.all(
      Array.from({ length: WRITERS }, async () => {
        for (let i = next++; i < CONCURRENT; i = next++) {
          await db.doc(docPath('con', i)).set({ i, body: `message ${i}` });
        }
      }),
    );
    const concurrent = CONCURRENT / ((performance.now() - started) / 1_000);
    return {
      mode: writeAheadLog ? 'write-ahead log (fdatasync)' : 'snapshot only (baseline)',
      sequential,
      p50: latencies[Math.floor(latencies.length / 2)] ?? 0,
      p99: latencies[Math.floor(latencies.length * 0.99)] ?? 0,
      concurrent,
    };
  } finally {
    await close();
    await emulator.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function startProcess(snapshotPath: string) {
  const started = performance.now();
  // No periodic compaction: what the first process writes stays in the log until SIGKILL.
  const args = [MAIN, '--snapshot', snapshotPath, '--snapshot-interval-ms', '3600000'];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
  const ready = JSON.parse(line) as {
    host: string;
    restoredDocuments: number;
    replayedLogRecords: number;
  };
  return { child, ready, ms: performance.now() - started };
}

async function restartTimes() {
  const dir = await mkdtemp(join(tmpdir(), 'wacrm-store-bench-'));
  const snapshotPath = join(dir, 'firestore.json');
  try {
    const first = await startProcess(snapshotPath);
    const { db, close } = client(first.ready.host);
    for (let start = 0; start < RESTART_DOCS; start += 500) {
      const batch = db.batch();
      for (let n = start; n < Math.min(start + 500, RESTART_DOCS); n++) {
        batch.set(db.doc(docPath('restart', n)), { n, body: `message ${n}`, tags: ['a', 'b'] });
      }
      await batch.commit();
    }
    await close();
    first.child.kill('SIGKILL');
    await once(first.child, 'exit');
    const fromLog = await startProcess(snapshotPath);
    fromLog.child.kill('SIGTERM');
    await once(fromLog.child, 'exit');
    const fromSnapshot = await startProcess(snapshotPath);
    fromSnapshot.child.kill('SIGKILL');
    await once(fromSnapshot.child, 'exit');
    return { fromLog, fromSnapshot };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * CPU ms per document created in one collection that already holds `size` documents, client and
 * store together (both in this process): a create must not cost more as its collection grows
 * (the outbox and webhook records are single collections of tens of thousands on a busy account).
 */
async function createCost(size: number, creates = 500) {
  const emulator = await startFirestoreEmulator({});
  const { db, close } = client(emulator.host);
  try {
    const col = db.collection(`grow-${size}`);
    for (let start = 0; start < size; start += 500) {
      const batch = db.batch();
      for (let n = start; n < Math.min(start + 500, size); n++) {
        batch.set(col.doc(`d${n}`), { n, status: 'sent' });
      }
      await batch.commit();
    }
    for (let i = 0; i < 50; i++) await col.doc(`warm${i}`).set({ i });
    const cpu = process.cpuUsage();
    for (let i = 0; i < creates; i++) await col.doc(`new${i}`).set({ i, status: 'queued' });
    const used = process.cpuUsage(cpu);
    return { size, msPerCreate: (used.user + used.system) / 1000 / creates };
  } finally {
    await close();
    await emulator.stop();
  }
}

// Alternated, twice each, so warm-up and neighbours' load do not favour one mode.
const results = [];
for (const writeAheadLog of [false, true, false, true]) results.push(await measure(writeAheadLog));
const fmt = (n: number, digits = 0): string => n.toFixed(digits).padStart(8);
process.stdout.write(
  `\nEmbedded Firestore store: ${SEQUENTIAL} sequential writes, ${CONCURRENT} by ${WRITERS} concurrent writers\n\n` +
    `${'mode'.padEnd(30)}${'seq w/s'.padStart(8)}${'p50 ms'.padStart(8)}${'p99 ms'.padStart(8)}${'conc w/s'.padStart(10)}\n`,
);
for (const r of results) {
  process.stdout.write(
    `${r.mode.padEnd(30)}${fmt(r.sequential)}${fmt(r.p50, 2)}${fmt(r.p99, 2)}${fmt(r.concurrent).padStart(10)}\n`,
  );
}
const { fromLog, fromSnapshot } = await restartTimes();
const small = await createCost(1_000);
const large = await createCost(20_000);
process.stdout.write(
  `\nRestart after SIGKILL with ${RESTART_DOCS} documents only in the log: ${fmt(fromLog.ms).trim()} ms ` +
    `(${fromLog.ready.replayedLogRecords} records replayed, ${fromLog.ready.restoredDocuments} documents)\n` +
    `Restart from the snapshot the clean stop wrote:               ${fmt(fromSnapshot.ms).trim()} ms ` +
    `(${fromSnapshot.ready.restoredDocuments} documents)\n`,
);
process.stdout.write(
  `\nCPU per create, client and store: ${large.msPerCreate.toFixed(2)} ms into a collection of ` +
    `${large.size} documents, ${small.msPerCreate.toFixed(2)} ms into one of ${small.size} (baseline)\n`,
);
