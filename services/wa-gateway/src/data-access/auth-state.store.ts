import { mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Firestore, Transaction } from 'firebase-admin/firestore';
import { Collections } from '@wacrm/contracts';
import type { AuthCipher } from '../domain/auth-cipher.js';
import { LeaseLostError } from './lease.store.js';

/** An account's auth state as stored, decrypted to JSON text (BufferJSON form). */
export interface StoredAuth {
  creds: string | null;
  keys: Map<string, string>;
  /** Logged out (401): these creds must never be used again. */
  revoked: boolean;
}

export interface AuthChange {
  /** Signal keys by `${type}-${id}`; null deletes the key. */
  keys: Array<[string, string | null]>;
  creds: string | null;
}

/** Runs immediately before each write commits: the fencing check (throws when the lease is lost). */
export type BeforeWrite = () => Promise<void>;

export interface StoreHealth {
  ok: boolean;
  store: 'firestore' | 'disk';
  sessions_dir_writable?: boolean;
  error?: string;
}

export interface AuthStateStore {
  readonly kind: 'firestore' | 'disk';
  load(accountId: string): Promise<StoredAuth>;
  /**
   * Records `token` as the account's owner before its state is loaded, so every later write of an
   * older owner is refused (LeaseLostError) by the store itself, with or without Redis.
   */
  claim(accountId: string, token: number): Promise<void>;
  /** Writes keys first, then creds: a crash in between never leaves keys older than creds. */
  write(
    accountId: string,
    token: number,
    change: AuthChange,
    beforeWrite: BeforeWrite,
  ): Promise<void>;
  /** Wipes this account's creds and keys (auth state only); `revoked` marks a 401. */
  wipe(accountId: string, token: number, revoked: boolean, beforeWrite: BeforeWrite): Promise<void>;
  health(): Promise<StoreHealth>;
}

const BATCH = 450;

/** Firestore: `authState/{accountId}` (creds) + `authState/{accountId}/keys/{key}`, encrypted. */
export class FirestoreAuthStateStore implements AuthStateStore {
  readonly kind = 'firestore';

  constructor(
    private readonly db: Firestore,
    private readonly cipher: AuthCipher,
    private readonly instanceId: string,
  ) {}

  private doc(accountId: string) {
    return this.db.collection(Collections.authState).doc(accountId);
  }

  async load(accountId: string): Promise<StoredAuth> {
    const [snapshot, keyDocs] = await Promise.all([
      this.doc(accountId).get(),
      this.doc(accountId).collection('keys').get(),
    ]);
    const data = snapshot.data() as { creds?: string | null; revoked?: boolean } | undefined;
    const keys = new Map<string, string>();
    for (const doc of keyDocs.docs) {
      const { name, data: blob } = doc.data() as { name: string; data: string };
      keys.set(name, this.cipher.decrypt(Buffer.from(blob, 'base64'), `${accountId}|key|${name}`));
    }
    const creds =
      typeof data?.creds === 'string'
        ? this.cipher.decrypt(Buffer.from(data.creds, 'base64'), `${accountId}|creds`)
        : null;
    return { creds, keys, revoked: data?.revoked === true };
  }

  async claim(accountId: string, token: number) {
    await this.fenced(accountId, token, (tx, stored) => {
      if (stored === token) return;
      tx.set(
        this.doc(accountId),
        { fencingToken: token, instanceId: this.instanceId, updatedAt: new Date() },
        { merge: true },
      );
    });
  }

  /**
   * Each commit is a transaction that compares the fencing token stored on `authState/{id}` with
   * the writer's and records it: a paused old owner whose lease check passed before a new owner
   * wrote is refused (LeaseLostError) instead of overwriting the new owner's keys.
   */
  async write(accountId: string, token: number, change: AuthChange, beforeWrite: BeforeWrite) {
    const keysRef = this.doc(accountId).collection('keys');
    const chunks: Array<Array<[string, string | null]>> = [];
    for (let i = 0; i < change.keys.length; i += BATCH)
      chunks.push(change.keys.slice(i, i + BATCH));
    if (chunks.length === 0) chunks.push([]);
    for (const [n, chunk] of chunks.entries()) {
      const withCreds = n === chunks.length - 1 && change.creds !== null;
      const creds = withCreds
        ? this.cipher.encrypt(change.creds!, `${accountId}|creds`).toString('base64')
        : null;
      const blobs = chunk.map(([name, value]) => ({
        ref: keysRef.doc(keyDocId(name)),
        name,
        blob:
          value === null
            ? null
            : this.cipher.encrypt(value, `${accountId}|key|${name}`).toString('base64'),
      }));
      await beforeWrite();
      await this.fenced(accountId, token, (tx, stored) => {
        for (const { ref, name, blob } of blobs) {
          if (blob === null) tx.delete(ref);
          else tx.set(ref, { name, data: blob, fencingToken: token });
        }
        if (creds !== null) {
          tx.set(this.doc(accountId), {
            v: 1,
            creds,
            revoked: false,
            fencingToken: token,
            instanceId: this.instanceId,
            updatedAt: new Date(),
          });
        } else if (stored !== token) {
          // The token is recorded once per owner: keys alone (most commits, one or more per
          // send) do not rewrite the account's document when it already holds this token.
          tx.set(
            this.doc(accountId),
            { fencingToken: token, instanceId: this.instanceId, updatedAt: new Date() },
            { merge: true },
          );
        }
      });
    }
  }

  async wipe(accountId: string, token: number, revoked: boolean, beforeWrite: BeforeWrite) {
    const keyDocs = await this.doc(accountId).collection('keys').get();
    for (let i = 0; i < keyDocs.docs.length; i += BATCH) {
      const chunk = keyDocs.docs.slice(i, i + BATCH);
      await beforeWrite();
      await this.fenced(accountId, token, (tx) => {
        for (const doc of chunk) tx.delete(doc.ref);
      });
    }
    await beforeWrite();
    await this.fenced(accountId, token, (tx) =>
      tx.set(this.doc(accountId), {
        v: 1,
        creds: null,
        revoked,
        fencingToken: token,
        instanceId: this.instanceId,
        updatedAt: new Date(),
      }),
    );
  }

  /** Runs `writes` in a transaction that first checks no newer owner has written. */
  private async fenced(
    accountId: string,
    token: number,
    writes: (tx: Transaction, stored: number | null) => void,
  ) {
    await this.db.runTransaction(async (tx) => {
      const current = (await tx.get(this.doc(accountId))).get('fencingToken') as unknown;
      const stored = typeof current === 'number' ? current : null;
      if (stored !== null && stored > token) {
        throw new LeaseLostError(accountId, token);
      }
      writes(tx, stored);
    });
  }

  async health(): Promise<StoreHealth> {
    try {
      await this.db.collection(Collections.authState).doc('_health').get();
      return { ok: true, store: 'firestore' };
    } catch (error) {
      return { ok: false, store: 'firestore', error: (error as Error).message };
    }
  }
}

/** Firestore ids may not contain "/" nor look like `__x__`. */
function keyDocId(name: string): string {
  return `k_${name.replace(/%/g, '%25').replace(/\//g, '%2F')}`;
}

/** Disk under SESSIONS_PATH (the seeds' volume): one directory per account, encrypted files. */
export class DiskAuthStateStore implements AuthStateStore {
  readonly kind = 'disk';

  constructor(
    private readonly root: string,
    private readonly cipher: AuthCipher,
  ) {}

  private dir(accountId: string): string {
    return join(this.root, accountId);
  }

  async load(accountId: string): Promise<StoredAuth> {
    const dir = this.dir(accountId);
    const keys = new Map<string, string>();
    const files = await readdir(join(dir, 'keys')).catch(() => [] as string[]);
    for (const file of files.filter((f) => f.endsWith('.enc'))) {
      const name = decodeURIComponent(file.slice(0, -4));
      const blob = await readFile(join(dir, 'keys', file));
      keys.set(name, this.cipher.decrypt(blob, `${accountId}|key|${name}`));
    }
    const credsBlob = await readFile(join(dir, 'creds.enc')).catch(() => null);
    const creds = credsBlob ? this.cipher.decrypt(credsBlob, `${accountId}|creds`) : null;
    const revoked = await stat(join(dir, 'revoked')).then(
      () => true,
      () => false,
    );
    return { creds, keys, revoked };
  }

  async claim(accountId: string, token: number) {
    const dir = this.dir(accountId);
    await mkdir(dir, { recursive: true });
    if ((await this.fence(accountId)) === token) return;
    await this.assertFence(accountId, token);
    await writeDurably(join(dir, 'fence'), Buffer.from(String(token)));
  }

  /** The token of the newest owner that claimed the account here (null: none yet). */
  private async fence(accountId: string): Promise<number | null> {
    const text = await readFile(join(this.dir(accountId), 'fence'), 'utf8').catch(() => null);
    const token = text === null ? NaN : Number(text);
    return Number.isSafeInteger(token) ? token : null;
  }

  /** Refuses a writer older than the newest owner (one process per volume writes at a time). */
  private async assertFence(accountId: string, token: number) {
    const stored = await this.fence(accountId);
    if (stored !== null && stored > token) throw new LeaseLostError(accountId, token);
  }

  async write(accountId: string, token: number, change: AuthChange, beforeWrite: BeforeWrite) {
    const dir = this.dir(accountId);
    await mkdir(join(dir, 'keys'), { recursive: true });
    await beforeWrite();
    await this.assertFence(accountId, token);
    for (const [name, value] of change.keys) {
      const path = join(dir, 'keys', `${encodeURIComponent(name)}.enc`);
      if (value === null) await unlink(path).catch(() => undefined);
      else await writeDurably(path, this.cipher.encrypt(value, `${accountId}|key|${name}`));
    }
    if (change.creds !== null) {
      await beforeWrite();
      await writeDurably(join(dir, 'fence'), Buffer.from(String(token)));
      await writeDurably(
        join(dir, 'creds.enc'),
        this.cipher.encrypt(change.creds, `${accountId}|creds`),
      );
      await rm(join(dir, 'revoked'), { force: true });
    }
  }

  async wipe(accountId: string, token: number, revoked: boolean, beforeWrite: BeforeWrite) {
    await beforeWrite();
    await this.assertFence(accountId, token);
    const dir = this.dir(accountId);
    await rm(join(dir, 'keys'), { recursive: true, force: true });
    await rm(join(dir, 'creds.enc'), { force: true });
    await mkdir(dir, { recursive: true });
    await writeDurably(join(dir, 'fence'), Buffer.from(String(token)));
    if (revoked) await writeDurably(join(dir, 'revoked'), Buffer.from(new Date().toISOString()));
  }

  async health(): Promise<StoreHealth> {
    try {
      await mkdir(this.root, { recursive: true });
      const probe = join(this.root, `.probe-${process.pid}`);
      await writeDurably(probe, Buffer.from('ok'));
      await unlink(probe);
      return { ok: true, store: 'disk', sessions_dir_writable: true };
    } catch (error) {
      return {
        ok: false,
        store: 'disk',
        sessions_dir_writable: false,
        error: (error as Error).message,
      };
    }
  }
}

/** Write to a temporary file, fsync, rename: a crash leaves the old or the new file, never half. */
async function writeDurably(path: string, data: Buffer): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
}
