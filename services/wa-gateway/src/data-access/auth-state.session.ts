import {
  BufferJSON,
  initAuthCreds,
  proto,
  type AuthenticationCreds,
  type AuthenticationState,
  type SignalDataSet,
  type SignalDataTypeMap,
} from '@whiskeysockets/baileys';
import type { Logger } from '@wacrm/observability';
import { sendScope } from '../domain/send-scope.js';
import type { AuthStateStore, BeforeWrite } from './auth-state.store.js';
import { LeaseLostError } from './lease.store.js';

export interface SessionAuth {
  state: AuthenticationState;
  /** True when creds were found in the store (a restored session, no QR needed). */
  restored: boolean;
  revoked: boolean;
  saveCreds(): void;
  /**
   * Writes the creds as they are now, with every key set so far: resolves once stored, rejects
   * when they never will be (lease lost, wiped). Baileys' pre-key upload waits for it.
   */
  storeNow(): Promise<void>;
  /** Resolves once every change so far is written (or given up because the lease was lost). */
  flush(): Promise<void>;
  /** Discards creds and keys, in memory and in the store. */
  wipe(revoked: boolean): Promise<void>;
}

const encode = (value: unknown) => JSON.stringify(value, BufferJSON.replacer);

/**
 * Baileys' AuthenticationState over an AuthStateStore. Everything lives in memory; changes are
 * written behind, serialised per account, keys before creds, each write fenced by the lease.
 * Transient store errors are retried with backoff; a lost lease drops the pending writes.
 */
export async function openSessionAuth(input: {
  accountId: string;
  store: AuthStateStore;
  /** Current fencing token (changes when the lease is re-acquired). */
  token: () => number;
  beforeWrite: BeforeWrite;
  logger: Logger;
  onLeaseLost: () => void;
  /**
   * Every LID↔phone pair Baileys stores (`lid-mapping` keys: `<pn user>` = lid user): the one
   * place it records all it learns, from messages, usync and history, even when its buffered
   * `messaging-history.set` drops `lidPnMappings`.
   */
  onLidMappings?: (mappings: Array<{ lid: string; pn: string }>) => void;
}): Promise<SessionAuth> {
  const { accountId, store, logger } = input;
  // Claimed first: what an older owner writes from now on is refused, and what it wrote before
  // is in what we load.
  await store.claim(accountId, input.token());
  const stored = await store.load(accountId);
  const restored = stored.creds !== null && !stored.revoked;
  const creds = (
    restored ? JSON.parse(stored.creds!, BufferJSON.reviver) : initAuthCreds()
  ) as AuthenticationCreds;
  const keys = new Map<string, unknown>();
  for (const [name, text] of stored.keys) keys.set(name, JSON.parse(text, BufferJSON.reviver));
  // What the store holds (or is being written) per key, encoded: Baileys sets many keys again
  // with the value they already have (device lists, LID mappings, unchanged sessions), and such
  // a set writes nothing.
  const written = new Map<string, string>(stored.keys);

  const pendingKeys = new Map<string, string | null>();
  let credsDirty = false;
  let running: Promise<void> | null = null;
  let wiping = false;

  // Every keys.set is numbered; `durableUpTo` is the newest number whose changes are all stored.
  let generation = 0;
  let durableUpTo = 0;
  /** A write is on its way to the store (its keys are no longer in pendingKeys). */
  let inFlight = false;
  /** Set when the keys will never be stored (lease lost, wiped): waiting is over for good. */
  let abandoned: Error | null = null;
  const waiters: Array<{ upTo: number; resolve: () => void; reject: (e: Error) => void }> = [];
  const settleWaiters = () => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const waiter = waiters[i]!;
      if (abandoned) waiter.reject(abandoned);
      else if (waiter.upTo <= durableUpTo) waiter.resolve();
      else continue;
      waiters.splice(i, 1);
    }
  };
  const whenDurable = (upTo: number): Promise<void> => {
    if (abandoned) return Promise.reject(abandoned);
    if (upTo <= durableUpTo) return Promise.resolve();
    return new Promise((resolve, reject) => waiters.push({ upTo, resolve, reject }));
  };
  const abandon = (reason: string) => {
    abandoned = new Error(`auth-state changes will not be stored: ${reason}`);
    settleWaiters();
  };

  const drain = async () => {
    let attempt = 0;
    while (!wiping && (pendingKeys.size > 0 || credsDirty)) {
      // Everything set up to here is in this change (sets add to pendingKeys synchronously).
      const upTo = generation;
      const change = {
        keys: [...pendingKeys.entries()],
        creds: credsDirty ? encode(state.creds) : null,
      };
      pendingKeys.clear();
      credsDirty = false;
      inFlight = true;
      try {
        await store.write(accountId, input.token(), change, input.beforeWrite);
        attempt = 0;
        inFlight = false;
        // Stored: every set up to `upTo`; with nothing left pending, every set so far (a later
        // set that added nothing only repeated a value this write or an earlier one stored).
        // (Creds set dirty since are written by the next round: storeNow counts on them.)
        durableUpTo = Math.max(
          durableUpTo,
          pendingKeys.size === 0 && !credsDirty ? generation : upTo,
        );
        settleWaiters();
      } catch (error) {
        if (error instanceof LeaseLostError) {
          logger.warn(
            { accountId },
            'auth-state write refused: lease lost; dropping pending writes',
          );
          abandon('lease lost');
          input.onLeaseLost();
          return;
        }
        // Put the change back (newer values win) and retry with backoff.
        for (const [name, value] of change.keys)
          if (!pendingKeys.has(name)) pendingKeys.set(name, value);
        if (change.creds !== null) credsDirty = true;
        inFlight = false;
        attempt += 1;
        // Capped low: a sent message's frame waits for these keys (KEYS_HOLD_MAX_MS).
        const delay = Math.min(4_000, 250 * 2 ** attempt);
        logger.warn(
          { err: error, accountId, retryInMs: delay },
          'auth-state write failed; retrying (check Firestore/Redis reachability)',
        );
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  };
  const schedule = () => {
    running ??= drain().finally(() => {
      running = null;
      if (!wiping && (pendingKeys.size > 0 || credsDirty)) schedule();
    });
  };

  const state: AuthenticationState = {
    creds,
    keys: {
      get<T extends keyof SignalDataTypeMap>(type: T, ids: string[]) {
        const result: Record<string, SignalDataTypeMap[T]> = {};
        for (const id of ids) {
          let value = keys.get(`${type}-${id}`);
          if (value === undefined) continue;
          if (type === 'app-state-sync-key') {
            value = proto.Message.AppStateSyncKeyData.fromObject(value as object);
          }
          result[id] = value as SignalDataTypeMap[T];
        }
        return result;
      },
      set(data: SignalDataSet) {
        const mappings = lidMappingsOf(data['lid-mapping']);
        if (mappings.length > 0) input.onLidMappings?.(mappings);
        for (const [type, entries] of Object.entries(data)) {
          for (const [id, value] of Object.entries(entries ?? {})) {
            const name = `${type}-${id}`;
            if (value === null || value === undefined) {
              keys.delete(name);
              if (!written.has(name) && !pendingKeys.has(name)) continue;
              written.delete(name);
              pendingKeys.set(name, null);
            } else {
              keys.set(name, value);
              const text = encode(value);
              // `written` holds the newest value queued or stored: equal, there is nothing to add.
              if (written.get(name) === text) continue;
              written.set(name, text);
              pendingKeys.set(name, text);
            }
          }
        }
        generation += 1;
        // Nothing new to write and nothing on its way: all set so far is stored already.
        if (pendingKeys.size === 0 && !inFlight && !credsDirty) durableUpTo = generation;
        // A send through Baileys commits the keys it used after writing its frame: the frame
        // waits for this (see SendScope).
        const scope = sendScope.getStore();
        if (scope) {
          const durable = whenDurable(generation);
          // Handled by the send that awaits it; an earlier set's promise of the same send is not.
          durable.catch(() => undefined);
          scope.durable = durable;
        }
        schedule();
      },
      clear() {
        for (const name of keys.keys()) pendingKeys.set(name, null);
        keys.clear();
        written.clear();
        schedule();
      },
    },
  };

  return {
    state,
    restored,
    revoked: stored.revoked,
    saveCreds() {
      credsDirty = true;
      schedule();
    },
    storeNow() {
      credsDirty = true;
      generation += 1;
      const upTo = generation;
      schedule();
      return whenDurable(upTo);
    },
    async flush() {
      while (running) await running;
    },
    async wipe(revoked) {
      wiping = true;
      abandon('auth state wiped');
      while (running) await running;
      pendingKeys.clear();
      credsDirty = false;
      keys.clear();
      written.clear();
      state.creds = initAuthCreds();
      try {
        await store.wipe(accountId, input.token(), revoked, input.beforeWrite);
      } finally {
        wiping = false;
        // Fresh creds from here on (a new pairing): their keys are stored again.
        abandoned = null;
      }
    },
  };
}

/** `lid-mapping` entries as pairs: `<pn user>` → lid user (the `_reverse` entries mirror them). */
function lidMappingsOf(
  entries: SignalDataSet['lid-mapping'] | undefined,
): Array<{ lid: string; pn: string }> {
  const pairs: Array<{ lid: string; pn: string }> = [];
  for (const [id, value] of Object.entries(entries ?? {})) {
    if (id.endsWith('_reverse') || typeof value !== 'string' || value === '') continue;
    pairs.push({ lid: `${value}@lid`, pn: `${id}@s.whatsapp.net` });
  }
  return pairs;
}
