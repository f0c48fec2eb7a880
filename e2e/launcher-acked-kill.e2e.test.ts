import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collections, initFirebase, type Firebase } from '@wacrm/firestore';
import {
  crashProcessTree,
  eventually,
  json,
  launcherSetup,
  startLauncher,
  type LauncherProcess,
} from './launcher-process.js';
import { addScannedAccount, connected, systemApi } from './system-api.js';

// Issue 16: "acknowledged means durable" for `npm start` as a whole. Messages the WhatsApp
// network has a delivery receipt for are, as far as the sender is concerned, delivered; a crash
// of every process of `npm start` at that moment (the launcher, redis-server, the store, the
// network emulator and every service, SIGKILLed together) must not lose one of them.
const ACKED = 500;
const OFFERED = 700;
const ACCOUNTS = 2;
const CONTACTS = 10;
const ID_PREFIX = '3EB0A11CE';

let dataDir: string;
let env: Record<string, string>;
let emulatorUrl: string;
let launcher: LauncherProcess | undefined;
let fb: Firebase | undefined;

beforeAll(async () => {
  ({ dataDir, env, emulatorUrl } = await launcherSetup('acked'));
});

afterAll(async () => {
  await fb?.close().catch(() => undefined);
  await launcher?.interrupt();
  await rm(dataDir, { recursive: true, force: true });
});

/** Ids of the messages each account's client sent a delivery receipt for, as the network saw. */
async function receipted(accountIds: string[]): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const accountId of accountIds) {
    const { body } = await json<{ receipts: Array<{ messageId: string; type: string }> }>(
      `${emulatorUrl}/accounts/${accountId}/receipts`,
    );
    for (const r of body.receipts) {
      // A delivery receipt: plain, or 'inactive' when the client is not marked online.
      const delivery = r.type === 'delivery' || r.type === 'inactive';
      if (delivery && r.messageId.startsWith(ID_PREFIX)) ids.add(r.messageId);
    }
  }
  return ids;
}

describe('npm start crashed as a whole after the network has receipts', () => {
  it(`when every process of npm start is SIGKILLed right after ${ACKED} inbound messages were receipted, then after npm start again all of them are stored, once`, async () => {
    const t0 = Date.now();
    launcher = startLauncher(env);
    const base = await launcher.ready;
    const token = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim();
    const api = await systemApi(base, token);
    const accountIds: string[] = [];
    for (let a = 0; a < ACCOUNTS; a++) accountIds.push(await addScannedAccount(api, `Acked ${a}`));
    await connected(api, accountIds);

    // Contacts write; the moment the network holds ACKED delivery receipts, everything dies.
    const accepted = new Map<string, string>();
    let stop = false;
    const senders = Array.from({ length: ACCOUNTS * 2 }, async (_, lane) => {
      for (let i = lane; i < OFFERED && !stop; i += ACCOUNTS * 2) {
        const accountId = accountIds[i % ACCOUNTS]!;
        const messageId = `${ID_PREFIX}${i.toString(16).toUpperCase().padStart(11, '0')}`;
        const res = await fetch(`${emulatorUrl}/accounts/${accountId}/inbound`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            from: `+4074${String(i % CONTACTS).padStart(7, '0')}`,
            text: `acked ${i}`,
            messageId,
          }),
        }).catch(() => undefined);
        if (res?.status === 202) accepted.set(messageId, accountId);
      }
    });
    let acked = new Set<string>();
    while (acked.size < ACKED) {
      acked = await receipted(accountIds);
      await delay(20);
    }
    const crash = await crashProcessTree(launcher.child.pid!);
    stop = true;
    await Promise.all(senders);
    const crashedAt = Date.now();
    const ackedIds = [...acked];
    // The crash hit every process of npm start: the launcher, redis-server, the store, the
    // network emulator and the services (at least 9), none of them allowed to clean up.
    expect(crash.killed, crash.commands.join('\n')).toBeGreaterThanOrEqual(9);
    expect(crash.commands.join('\n')).toMatch(/redis-server/);
    expect(crash.commands.join('\n')).toMatch(/firestore-emulator\.main\.js/);
    expect(ackedIds.length).toBeGreaterThanOrEqual(ACKED);

    launcher = startLauncher(env);
    await launcher.ready;
    expect(launcher.output()).not.toMatch(/in use by/);
    fb = initFirebase({
      projectId: env.FIREBASE_PROJECT_ID!,
      firestoreEmulatorHost: `127.0.0.1:${env.FIRESTORE_EMULATOR_PORT}`,
    });
    const db = fb.db;
    const stored = async (): Promise<Map<string, number>> => {
      const counts = new Map<string, number>();
      for (const t of (await collections(db).threads().get()).docs) {
        for (const m of (await collections(db).messages(t.id).get()).docs) {
          const id = m.data().waKey.id;
          counts.set(id, (counts.get(id) ?? 0) + 1);
        }
      }
      return counts;
    };
    // Every receipted message is stored; what the network had accepted but not yet delivered
    // arrives after the restart as well (the network keeps it until a device receipts it).
    const counts = await eventually(
      'every accepted message stored',
      async () => {
        const c = await stored();
        return [...accepted.keys()].every((id) => c.has(id)) ? c : undefined;
      },
      90_000,
      1_000,
    );
    const lostAcked = ackedIds.filter((id) => !counts.has(id));
    expect(lostAcked, 'receipted but never stored').toEqual([]);
    expect([...counts].filter(([, n]) => n > 1)).toEqual([]);
    console.log(
      JSON.stringify({
        ackedKill: {
          receiptedAtCrash: ackedIds.length,
          acceptedByNetwork: accepted.size,
          processesKilled: crash.killed,
          stored: counts.size,
          crashAfterS: (crashedAt - t0) / 1000,
          recoveredS: (Date.now() - crashedAt) / 1000,
        },
      }),
    );
  }, 300_000);
});
