import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waMessageIdFor, type SimulatorSentList } from '@wacrm/contracts';
import {
  crashProcessTree,
  eventually,
  json,
  launcherSetup,
  startLauncher,
  type LauncherProcess,
} from './launcher-process.js';
import { addScannedAccount, connected, ok, systemApi } from './system-api.js';

// Issue 19, done when: "A scheduled message fires within 5 s of its time even when every
// service restarted in between, and once only." `npm start` as real processes: the contact is
// the WhatsApp network emulator, reached by wa-gateway's real Baileys. Twice: every process
// SIGKILLed at once and started again (Redis keeps its append-only file), then the same with
// Redis's data gone as well (the outbox documents are the only record of the schedule).
const CONTACT = '+40722000919';
const AHEAD_MS = 100_000;
const ON_TIME_MS = 5_000;

let dataDir: string;
let env: Record<string, string>;
let emulatorUrl: string;
let launcher: LauncherProcess | undefined;

beforeAll(async () => {
  ({ dataDir, env, emulatorUrl } = await launcherSetup('scheduled'));
});

afterAll(async () => {
  await launcher?.interrupt();
  await rm(dataDir, { recursive: true, force: true });
});

/** What the contact received from the account, by message id (the network emulator's record). */
async function received(accountId: string, requestId: string) {
  const { body } = await json<SimulatorSentList>(`${emulatorUrl}/accounts/${accountId}/sent`);
  return body.messages.filter((m) => m.messageId === waMessageIdFor(requestId));
}

describe('a scheduled message across a restart of everything', () => {
  it('when every process of npm start is SIGKILLed and started again before a scheduled send is due (once keeping Redis, once without it), then the contact receives it within 5 s of its time, once; a cancelled one never', async () => {
    launcher = startLauncher(env);
    let base = await launcher.ready;
    const token = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim();
    let api = await systemApi(base, token);
    const accountId = await addScannedAccount(api, 'Programări');
    await connected(api, [accountId]);

    const schedule = async (requestId: string, text: string, sendAt: Date) => {
      const res = await api.POST('/api/whatsapp/send', {
        body: { accountId, to: CONTACT, text, requestId, sendAt: sendAt.toISOString() },
      });
      expect(res.response.status).toBe(202);
      expect(ok(res).status).toBe('scheduled');
    };

    const figures: Record<string, number> = {};
    for (const round of ['keep-redis', 'redis-lost'] as const) {
      const requestId = `sched-e2e-${round}`;
      const cancelledId = `sched-e2e-${round}-cancelled`;
      const sendAt = new Date(Date.now() + AHEAD_MS);
      await schedule(requestId, `Mesaj programat (${round})`, sendAt);
      await schedule(cancelledId, `Anulat (${round})`, sendAt);
      const cancel = await api.POST('/api/whatsapp/scheduled/{requestId}/cancel', {
        params: { path: { requestId: cancelledId } },
      });
      expect(cancel.response.status).toBe(200);

      const crash = await crashProcessTree(launcher.child.pid!);
      expect(crash.commands.join('\n')).toMatch(/outbox-sender/);
      expect(crash.commands.join('\n')).toMatch(/redis-server/);
      if (round === 'redis-lost') await rm(join(dataDir, 'redis'), { recursive: true });
      const restartedAt = Date.now();
      launcher = startLauncher(env);
      base = await launcher.ready;
      api = await systemApi(base, token);
      await connected(api, [accountId]);
      figures[`${round}.restartS`] = (Date.now() - restartedAt) / 1000;
      // The premise: everything was down and back before the send was due.
      expect(Date.now(), 'restart took longer than the schedule allows').toBeLessThan(
        sendAt.getTime() - 1_000,
      );
      expect(await received(accountId, requestId)).toEqual([]);

      const got = await eventually(
        `${requestId} received`,
        async () => {
          const list = await received(accountId, requestId);
          return list.length > 0 ? list : undefined;
        },
        AHEAD_MS + 30_000,
        100,
      );
      const lateMs = Date.parse(got[0]!.receivedAt) - sendAt.getTime();
      figures[`${round}.lateMs`] = lateMs;
      expect(lateMs).toBeGreaterThanOrEqual(0);
      expect(lateMs).toBeLessThan(ON_TIME_MS);
      // Once only: a few relay passes later there is still exactly one, and no cancelled one.
      await delay(6_000);
      expect(await received(accountId, requestId)).toHaveLength(1);
      expect(await received(accountId, cancelledId)).toEqual([]);
      expect(got[0]).toMatchObject({ to: `${CONTACT.slice(1)}@s.whatsapp.net`, kind: 'text' });
    }
    console.log(JSON.stringify({ scheduledRestart: figures }));
  }, 600_000);
});
