import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { deleteApp, initializeApp, type App } from 'firebase-admin/app';
import {
  DocumentReference,
  GeoPoint,
  getFirestore,
  Timestamp,
  type DocumentData,
  type Firestore,
  type Query,
} from 'firebase-admin/firestore';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './free-port.util.js';
import {
  startFirestoreEmulator,
  type FirestoreEmulatorHandle,
} from './firestore-emulator.server.js';
import type { FirestoreSnapshot } from './firestore-snapshot.codec.js';
import { waitFor } from './wait-for.util.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wacrm-firestore-test-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function startEmulator(
  options: Parameters<typeof startFirestoreEmulator>[0] = {},
): Promise<FirestoreEmulatorHandle> {
  const handle = await startFirestoreEmulator(options);
  cleanups.push(() => handle.stop());
  return handle;
}

/** A firebase-admin Firestore client for `host`; it reads FIRESTORE_EMULATOR_HOST when created. */
function adminFirestore(
  host: string,
  projectId = 'demo-emulators',
  databaseId?: string,
): Firestore {
  process.env.FIRESTORE_EMULATOR_HOST = host;
  const app: App = initializeApp({ projectId }, `emulators-test-${randomUUID()}`);
  cleanups.push(() => deleteApp(app));
  return databaseId ? getFirestore(app, databaseId) : getFirestore(app);
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolveConnect) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolveConnect(true);
    });
    socket.once('error', () => resolveConnect(false));
  });
}

/** References compare by path: two clients' DocumentReferences differ in their Firestore instance. */
function normalize(value: unknown): unknown {
  if (value instanceof DocumentReference) return { ref: value.path };
  if (Array.isArray(value)) return value.map(normalize);
  if (value instanceof Timestamp || value instanceof GeoPoint || Buffer.isBuffer(value))
    return value;
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalize(v)]));
  }
  return value;
}

function sampleData(db: Firestore): DocumentData {
  return {
    text: 'héllo 👋',
    empty: '',
    int: 42,
    negative: -7,
    maxSafe: Number.MAX_SAFE_INTEGER,
    double: 3.25,
    tiny: 1e-300,
    notANumber: NaN,
    infinite: -Infinity,
    yes: true,
    no: false,
    nothing: null,
    at: new Timestamp(1_700_000_000, 123_456_789),
    bytes: Buffer.from([0, 1, 2, 127, 128, 254, 255]),
    where: new GeoPoint(52.52, 13.405),
    owner: db.doc('users/u1'),
    tags: ['a', 1, 2.5, null, true, { nested: ['x'] }],
    emptyArray: [],
    emptyMap: {},
    profile: { name: 'Ada', address: { city: 'London', zip: '0001' }, scores: [1, 2, 3] },
  };
}

const paths = [
  'users/u1',
  'users/u2',
  'users/u1/messages/m1',
  'users/u1/messages/m1/reactions/r1',
  // The parent of this one never exists; its subcollection data must survive anyway.
  'ghosts/missing/children/c1',
];

describe('startFirestoreEmulator', () => {
  it('when started, then the gRPC port listens on 127.0.0.1 only', async () => {
    const emulator = await startEmulator({ controlPort: 0 });

    expect(emulator.host).toBe(`127.0.0.1:${emulator.port}`);
    expect(await canConnect('127.0.0.1', emulator.port)).toBe(true);
    expect(await canConnect('127.0.0.2', emulator.port)).toBe(false);
    const controlPort = Number(new URL(emulator.controlUrl ?? '').port);
    const listeners = execFileSync('ss', ['-Hltn'], { encoding: 'utf8' })
      .split('\n')
      .map((line) => line.split(/\s+/)[3] ?? '')
      .filter((local) => local.endsWith(`:${emulator.port}`) || local.endsWith(`:${controlPort}`));
    expect(listeners.sort()).toEqual(
      [`127.0.0.1:${emulator.port}`, `127.0.0.1:${controlPort}`].sort(),
    );
  });

  it('when documents of every value type are snapshotted and a new emulator loads the snapshot, then firebase-admin reads identical data', async () => {
    const snapshotPath = join(await tempDir(), 'nested', 'firestore.json');
    const first = await startEmulator({ snapshotPath });
    const db = adminFirestore(first.host);
    const otherDb = adminFirestore(first.host, 'demo-emulators', 'secondary');
    const otherProject = adminFirestore(first.host, 'demo-other');
    for (const path of paths) await db.doc(path).set({ ...sampleData(db), path });
    await otherDb.doc('settings/main').set({ theme: 'dark' });
    await otherProject.doc('teams/t1').set({ members: 3 });
    await db.doc('users/u2').update({ 'profile.name': 'Grace', int: 43 });
    const before = await Promise.all(paths.map((path) => db.doc(path).get()));

    await first.stop();
    const second = await startEmulator({ snapshotPath });
    const db2 = adminFirestore(second.host);

    expect(second.restoredDocuments).toBe(paths.length + 2);
    for (const [i, path] of paths.entries()) {
      const original = before[i];
      const restored = await db2.doc(path).get();
      expect(restored.exists, path).toBe(true);
      expect(normalize(restored.data()), path).toEqual(normalize(original?.data()));
      expect(restored.createTime?.isEqual(original?.createTime ?? Timestamp.now()), path).toBe(
        true,
      );
      expect(restored.updateTime?.isEqual(original?.updateTime ?? Timestamp.now()), path).toBe(
        true,
      );
    }
    expect(before[1]?.createTime?.isEqual(before[1]?.updateTime ?? Timestamp.now())).toBe(false);
    expect((await db2.doc('ghosts/missing').get()).exists).toBe(false);
    const secondDb = adminFirestore(second.host, 'demo-emulators', 'secondary');
    expect((await secondDb.doc('settings/main').get()).data()).toEqual({ theme: 'dark' });
    const secondProject = adminFirestore(second.host, 'demo-other');
    expect((await secondProject.doc('teams/t1').get()).data()).toEqual({ members: 3 });
    // Queries compare restored values with freshly written ones, so both must use the same field types.
    const byInt = await db2.collection('users').where('int', '==', 42).get();
    expect(byInt.docs.map((d) => d.id)).toEqual(['u1']);
    const ordered = await db2.collection('users').orderBy('int', 'desc').get();
    expect(ordered.docs.map((d) => d.id)).toEqual(['u2', 'u1']);
  });

  it('when snapshotIntervalMs passes after a write, then the snapshot file is rewritten atomically with the change', async () => {
    const snapshotPath = join(await tempDir(), 'firestore.json');
    const emulator = await startEmulator({ snapshotPath, snapshotIntervalMs: 50 });
    const db = adminFirestore(emulator.host);

    await db.doc('contacts/c1').set({ name: 'Linus' });

    await waitFor(
      async () => (await readFile(snapshotPath, 'utf8').catch(() => '')).includes('contacts/c1'),
      {
        timeoutMs: 5_000,
        what: 'the periodic snapshot',
      },
    );
    const snapshot = JSON.parse(await readFile(snapshotPath, 'utf8')) as FirestoreSnapshot;
    expect(snapshot).toMatchObject({ format: 'wacrm.firestore-emulator.snapshot', version: 2 });
    expect(snapshot.documents.map(({ path, fields }) => ({ path, fields }))).toEqual([
      {
        path: 'projects/demo-emulators/databases/(default)/documents/contacts/c1',
        fields: { name: { stringValue: 'Linus' } },
      },
    ]);
    expect(new Date(snapshot.documents[0]?.createTime ?? '').getTime()).toBeGreaterThan(0);
    expect(existsSync(`${snapshotPath}.tmp`)).toBe(false);
  });

  it('when POST /clear is sent to the control server, then all documents are gone and /health stays 200', async () => {
    const emulator = await startEmulator({ controlPort: 0 });
    const db = adminFirestore(emulator.host);
    await db.doc('users/u1').set({ a: 1 });

    const cleared = await fetch(`${emulator.controlUrl}/clear`, { method: 'POST' });

    expect(cleared.status).toBe(200);
    expect((await db.doc('users/u1').get()).exists).toBe(false);
    expect((await fetch(`${emulator.controlUrl}/health`)).status).toBe(200);
    expect((await fetch(`${emulator.controlUrl}/nope`)).status).toBe(404);
  });

  it('when a document or collection is named after an Object member, then it reads and writes like any other name', async () => {
    const emulator = await startEmulator();
    const db = adminFirestore(emulator.host);
    // The emulator library looks children up with `name in map`: 'constructor' used to resolve to
    // Object's own member and every read of it failed with UNKNOWN ("reading 'hasExist'").
    for (const id of ['constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
      expect((await db.doc(`performers/${id}`).get()).exists).toBe(false);
      await db.doc(`performers/${id}`).set({ id });
      expect((await db.doc(`performers/${id}`).get()).data()).toEqual({ id });
      await db.doc(`performers/${id}/constructor/toString`).set({ nested: true });
      expect((await db.doc(`performers/${id}/constructor/toString`).get()).data()).toEqual({
        nested: true,
      });
    }
    const all = await db.collection('performers').get();
    expect(all.docs.map((d) => d.id).sort()).toEqual([
      'constructor',
      'hasOwnProperty',
      'toString',
      'valueOf',
    ]);
    expect(({} as Record<string, unknown>).id).toBeUndefined();
  });

  it('when documents are added to a collection, then its map of documents is extended in place, never copied (a copy per create made a create cost O(collection size))', async () => {
    const emulator = await startEmulator();
    const db = adminFirestore(emulator.host);
    await db.doc('outbox/r0').set({ n: 0 });
    const collection = emulator.state
      .getProject('demo-emulators')
      .getDatabase('(default)')
      .getCollection('outbox') as unknown as { documents: Record<string, unknown> };
    const documents = collection.documents;
    const batch = db.batch();
    for (let n = 1; n <= 300; n++) batch.set(db.doc(`outbox/r${n}`), { n });
    await batch.commit();
    await db.doc('outbox/r301').get();
    expect(collection.documents).toBe(documents);
    expect(Object.keys(documents)).toHaveLength(302);
    expect((await db.collection('outbox').get()).size).toBe(301);
  });

  it('when a batch commit is larger than the 4 MiB gRPC default, then it is stored, as Firestore takes requests up to 10 MiB', async () => {
    const emulator = await startEmulator();
    const db = adminFirestore(emulator.host);
    // 400 documents of ~18 KB: ~7 MiB in one commit. It used to hang: grpc-js refused the
    // message past 4 MiB and the client never got an answer (a bench's index load stalled on it).
    const batch = db.batch();
    const entries = (i: number) =>
      Array.from({ length: 300 }, (_, j) => `entry-${i}-${j}-`.padEnd(60, 'x'));
    for (let i = 0; i < 400; i++) batch.set(db.doc(`big/d${i}`), { entries: entries(i) });
    const committed = await Promise.race([
      batch.commit().then(() => 'committed'),
      new Promise((resolve) => setTimeout(() => resolve('no answer in 20 s'), 20_000)),
    ]);
    expect(committed).toBe('committed');
    expect((await db.doc('big/d399').get()).get('entries')).toEqual(entries(399));
  }, 60_000);

  it('when a query selects fields or a get masks them, then only those come back, as Firestore answers (filters and limits still apply)', async () => {
    const emulator = await startEmulator({ controlPort: 0 });
    const db = adminFirestore(emulator.host);
    const when = new Date('2026-01-02T03:04:05.678Z');
    await db.doc('idx/a').set({ id: 'a', words: 'ana', terms: ['an', 'ana'], at: when });
    await db.doc('idx/b').set({ id: 'b', words: 'andrei', terms: ['an', 'and'], at: when });
    await db.doc('idx/c').set({ id: 'c', words: 'cornel', terms: ['co'], at: when });
    const picked = await db
      .collection('idx')
      .where('terms', 'array-contains', 'an')
      .select('id', 'words', 'missing')
      .get();
    expect(picked.docs.map((d) => [d.id, d.data()])).toEqual([
      ['a', { id: 'a', words: 'ana' }],
      ['b', { id: 'b', words: 'andrei' }],
    ]);
    expect(picked.docs[0]!.updateTime.toMillis()).toBeGreaterThan(0);
    const one = await db.collection('idx').orderBy('id', 'desc').limit(1).select('at').get();
    expect(one.docs.map((d) => [d.id, (d.get('at') as Timestamp).toDate()])).toEqual([['c', when]]);
    expect((await db.collection('idx').where('id', '==', 'z').select('id').get()).size).toBe(0);
    // Without a projection, whole documents as before; the queries are counted.
    expect((await db.collection('idx').where('id', '==', 'c').get()).docs[0]!.data()).toEqual({
      id: 'c',
      words: 'cornel',
      terms: ['co'],
      at: Timestamp.fromDate(when),
    });
    const stats = (await (await fetch(`${emulator.controlUrl}/stats`)).json()) as {
      queries: number;
    };
    expect(stats.queries).toBe(4);
    // getAll with a field mask: the masked fields of each document, and the missing ones.
    const got = await db.getAll(db.doc('idx/b'), db.doc('idx/zz'), db.doc('idx/a'), {
      fieldMask: ['words', 'at'],
    });
    expect(got.map((d) => [d.id, d.exists, d.data()])).toEqual([
      ['b', true, { words: 'andrei', at: Timestamp.fromDate(when) }],
      ['zz', false, undefined],
      ['a', true, { words: 'ana', at: Timestamp.fromDate(when) }],
    ]);
    expect((await db.getAll(db.doc('idx/c')))[0]!.data()).toMatchObject({ terms: ['co'] });
  });

  it("when a query is where(array-contains, text) without orderBy, then it answers as the library's own filter does (array-contains-any of that one value): collection order, strings only, limit", async () => {
    const emulator = await startEmulator();
    const db = adminFirestore(emulator.host);
    const docs: Array<[string, DocumentData]> = [
      ['d1', { terms: ['an', 'ana'] }],
      ['d2', { terms: 'an' }],
      ['d3', { terms: [1, 'and', null] }],
      ['d4', { other: ['an'] }],
      ['d5', { terms: [{ an: 'an' }, ['an'], 'an'] }],
      ['d6', { terms: ['5', 'ann'] }],
      ['d7', { terms: [5, 'an'] }],
      ['d8', { terms: [] }],
      ['d9', { terms: ['an'] }],
    ];
    for (const [id, data] of docs) await db.doc(`idx/${id}`).set(data);
    await db.doc('idx/d9').delete();
    await db.doc('idx/d9').set({ terms: ['an'] });
    // A document later given the value, and one that loses it: the stored array decides.
    await db.doc('idx/d6').update({ terms: ['5', 'ann', 'an'] });
    await db.doc('idx/d1').update({ terms: ['ana'] });
    await db.doc('idx/d1/sub/x').set({ terms: ['an'] });
    const ids = async (q: Query) => (await q.get()).docs.map((d) => d.id);
    const idx = db.collection('idx');
    for (const value of ['an', '5', 'ana', 'zz']) {
      for (const limit of [undefined, 1, 2, 10]) {
        const fast = idx.where('terms', 'array-contains', value);
        const library = idx.where('terms', 'array-contains-any', [value]);
        expect(
          await ids(limit === undefined ? fast : fast.limit(limit)),
          `${value} limit ${limit}`,
        ).toEqual(await ids(limit === undefined ? library : library.limit(limit)));
      }
    }
    expect(await ids(idx.where('terms', 'array-contains', 'an'))).toEqual(['d5', 'd6', 'd7', 'd9']);
    expect(await ids(idx.where('terms', 'array-contains', 'an').limit(2))).toEqual(['d5', 'd6']);
    expect(await ids(idx.where('terms', 'array-contains', 5))).toEqual(['d7']);
  });

  it('when clients commit, get and query, then GET /stats counts commits, writes, documents read and queries', async () => {
    const emulator = await startEmulator({ controlPort: 0 });
    const db = adminFirestore(emulator.host);
    const batch = db.batch();
    batch.set(db.doc('users/u1'), { a: 1 });
    batch.set(db.doc('users/u2'), { a: 2 });
    await batch.commit();
    await db.doc('users/u3').set({ a: 3 });
    await db.getAll(db.doc('users/u1'), db.doc('users/u2'));
    await db.collection('users').where('a', '>', 1).get();

    const stats = await (await fetch(`${emulator.controlUrl}/stats`)).json();
    expect(stats).toEqual({
      commits: 2,
      writes: 3,
      documentReads: 2,
      queries: 1,
      writesByCollection: { users: 3 },
    });
  });

  it('when POST /snapshot is sent, then the snapshot file holds the current documents', async () => {
    const snapshotPath = join(await tempDir(), 'firestore.json');
    const emulator = await startEmulator({
      snapshotPath,
      snapshotIntervalMs: 3_600_000,
      controlPort: 0,
    });
    await adminFirestore(emulator.host).doc('users/u9').set({ n: 9 });

    const response = await fetch(`${emulator.controlUrl}/snapshot`, { method: 'POST' });

    expect(response.status).toBe(200);
    expect(await readFile(snapshotPath, 'utf8')).toContain('users/u9');
  });

  it('when the snapshot file is corrupt, then start fails naming the file instead of starting empty', async () => {
    const snapshotPath = join(await tempDir(), 'firestore.json');
    await writeFile(snapshotPath, '{"format":');

    await expect(startFirestoreEmulator({ snapshotPath })).rejects.toThrow(snapshotPath);
  });
});

describe('firestore-emulator.main', () => {
  const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

  beforeAll(() => {
    // The CLI is run the way the launcher runs it: from the compiled output.
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
      cwd: packageDir,
      stdio: 'inherit',
    });
  });

  async function spawnCli(args: string[], withIpc = false) {
    const child = spawn(
      process.execPath,
      [join(packageDir, 'dist/firestore-emulator.main.js'), ...args],
      { stdio: ['ignore', 'pipe', 'inherit', ...(withIpc ? (['ipc'] as const) : [])] },
    );
    cleanups.push(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return Promise.resolve();
    });
    const exited = once(child, 'exit');
    if (!child.stdout) throw new Error('stdout is not piped');
    const [firstLine] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
    return { child, exited, ready: JSON.parse(firstLine) as Record<string, unknown> };
  }

  it('when sent SIGTERM, then it writes the snapshot and exits 0', async () => {
    const snapshotPath = join(await tempDir(), 'firestore.json');
    const [port, controlPort] = [await freePort(), await freePort()];
    const { child, exited, ready } = await spawnCli([
      '--port',
      String(port),
      '--snapshot',
      snapshotPath,
      '--control-port',
      String(controlPort),
    ]);
    expect(ready).toMatchObject({
      level: 'info',
      host: `127.0.0.1:${port}`,
      controlUrl: `http://127.0.0.1:${controlPort}`,
    });
    await adminFirestore(`127.0.0.1:${port}`).doc('chats/c1').set({ unread: 2 });

    child.kill('SIGTERM');

    expect(await exited).toEqual([0, null]);
    expect(await readFile(snapshotPath, 'utf8')).toContain('"unread":{"integerValue":"2"}');
  });

  it('when its parent disconnects the IPC channel, then it snapshots and exits 0', async () => {
    const snapshotPath = join(await tempDir(), 'firestore.json');
    const { child, exited, ready } = await spawnCli(['--snapshot', snapshotPath], true);
    await adminFirestore(String(ready.host)).doc('chats/c2').set({ open: true });

    child.disconnect();

    expect(await exited).toEqual([0, null]);
    expect(await readFile(snapshotPath, 'utf8')).toContain('chats/c2');
  });
});
