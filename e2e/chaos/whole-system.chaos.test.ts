import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collections } from '@wacrm/firestore';
import { startChaosRun, underFaults, until, type ChaosRun, type Service } from './system.js';

// Issue 16, "Done when": the whole system as real processes — Redis (its own, append-only), the
// embedded store (Firestore emulator with its write-ahead log), the WhatsApp network emulator,
// wa-gateway with real Baileys, ingest, outbox-sender, api-gateway — takes inbound messages from
// the network and sends through the API while ingest, wa-gateway and outbox-sender are each
// SIGKILLed 3 times, Redis is stopped for 30 s and the store is SIGKILLed once. Every message is
// stored exactly once with its thread's counters right, and every send reaches its contact once.
const INBOUND = Number(process.env.CHAOS_INBOUND ?? 2_000);
const SENDS = Number(process.env.CHAOS_SENDS ?? 200);
const REDIS_DOWN_MS = Number(process.env.CHAOS_REDIS_DOWN_S ?? 30) * 1_000;
const ACCOUNTS = 5;
const CONTACTS_PER_ACCOUNT = 8;
/** Inbound messages offered per second (all accounts together): spreads them over the faults. */
const INBOUND_PER_S = Number(process.env.CHAOS_RATE ?? 25);
/** How long the system may take to work off its backlog once the traffic has ended. */
const SETTLE_MS = Number(process.env.CHAOS_SETTLE_S ?? 600) * 1_000;

let run: ChaosRun;
let passed = false;

beforeAll(async () => {
  run = await startChaosRun('chaos');
}, 240_000);

afterAll(async () => {
  await run?.finish(passed);
  // CPU of every process of the run (all were this process's children, reaped): the wall time
  // the run needs at least on an idle machine of N cores is about this divided by N.
  const own = process.cpuUsage();
  const cpu = childrenCpuSeconds() + (own.user + own.system) / 1e6;
  console.log(JSON.stringify({ chaosCpuSeconds: Math.round(cpu) }));
}, 60_000);

/** cutime + cstime of /proc/self/stat: the CPU of every child process that ended. */
function childrenCpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 16 and 17 of stat(5) (cutime, cstime), counted from `state` (field 3) here.
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

function redisAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(1_000);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) => {
      socket.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

const phoneOf = (a: number, c: number): string =>
  `+40731${String(a).padStart(2, '0')}${String(c).padStart(4, '0')}`;

describe('the whole system under SIGKILLs, a Redis outage and a store crash', () => {
  it(`when ${INBOUND} inbound messages from ${ACCOUNTS * CONTACTS_PER_ACCOUNT} contacts over ${ACCOUNTS} accounts and ${SENDS} API sends run while ingest, wa-gateway and outbox-sender are each SIGKILLed 3 times, Redis is down ${REDIS_DOWN_MS / 1000} s and the store is SIGKILLed once, then every message is stored once with right counters and every send is delivered once`, async () => {
    const t0 = Date.now();
    const { system, fb, redis } = run;
    // Five accounts, added through the API and paired by the QR each shows.
    const accountIds = await run.pairAccounts(ACCOUNTS, 'Chaos');
    const pairedAt = Date.now();

    // The traffic: message i goes to account i % 5 from contact (i / 5) % 8 of that account.
    const inbound = Array.from({ length: INBOUND }, (_, i) => {
      const a = i % ACCOUNTS;
      const c = Math.floor(i / ACCOUNTS) % CONTACTS_PER_ACCOUNT;
      return {
        accountId: accountIds[a]!,
        from: phoneOf(a, c),
        messageId: `3EB0C4A05${i.toString(16).toUpperCase().padStart(11, '0')}`,
        text: `chaos inbound ${i}`,
      };
    });
    const sends = Array.from({ length: SENDS }, (_, i) => {
      const a = i % ACCOUNTS;
      const c = Math.floor(i / ACCOUNTS) % CONTACTS_PER_ACCOUNT;
      return {
        accountId: accountIds[a]!,
        to: phoneOf(a, c),
        text: `chaos send ${i}`,
        requestId: `chaos-send-${String(i).padStart(4, '0')}`,
      };
    });

    let injected = 0;
    let accepted = 0;
    const faults = {
      kills: { ingest: 0, 'wa-gateway': 0, 'outbox-sender': 0, store: 0 } as Record<string, number>,
      redisDownMs: 0,
      redisRefusedDuringOutage: false,
      sendRetries: 0,
      inboundRetries: 0,
    };
    const byName: Record<string, Service> = {
      ingest: system.ingest,
      'wa-gateway': system.gateway,
      'outbox-sender': system.sender,
      store: system.store,
    };
    async function killAndRestart(name: string): Promise<void> {
      const svc = byName[name]!;
      if (await svc.kill()) faults.kills[name]! += 1;
      await svc.start();
    }

    // Faults at points of the inbound traffic, so each one lands while work is in flight.
    const plan: Array<[number, () => Promise<void>]> = [
      [0.05, () => killAndRestart('ingest')],
      [0.12, () => killAndRestart('wa-gateway')],
      [0.18, () => killAndRestart('outbox-sender')],
      [0.25, () => killAndRestart('store')],
      [
        0.32,
        async () => {
          await redis.stop();
          const down = Date.now();
          await delay(REDIS_DOWN_MS / 2);
          faults.redisRefusedDuringOutage = !(await redisAnswers(redis.port));
          await delay(REDIS_DOWN_MS / 2);
          faults.redisDownMs = Date.now() - down;
          await redis.restart();
        },
      ],
      [0.55, () => killAndRestart('ingest')],
      [0.62, () => killAndRestart('wa-gateway')],
      [0.68, () => killAndRestart('outbox-sender')],
      [0.78, () => killAndRestart('ingest')],
      [0.85, () => killAndRestart('wa-gateway')],
      [0.92, () => killAndRestart('outbox-sender')],
    ];
    const chaos = (async () => {
      for (const [at, fault] of plan) {
        while (injected < at * INBOUND) await delay(20);
        await fault();
      }
    })();

    // Inbound through the network's control API, paced; sends through the API alongside.
    const injectInbound = (async () => {
      const start = Date.now();
      for (const m of inbound) {
        const due = start + (injected * 1000) / INBOUND_PER_S;
        if (due > Date.now()) await delay(due - Date.now());
        await until(
          `inbound ${m.messageId}`,
          async () => {
            const r = await run.emulator(`/accounts/${m.accountId}/inbound`, {
              from: m.from,
              text: m.text,
              messageId: m.messageId,
            });
            if (r.status !== 202) {
              faults.inboundRetries += 1;
              return undefined;
            }
            return true;
          },
          60_000,
        );
        injected += 1;
      }
    })();
    const injectSends = (async () => {
      for (const [i, s] of sends.entries()) {
        // Spread over the same window as the inbound traffic.
        while (injected < (i / SENDS) * INBOUND) await delay(20);
        // A client retries with the same requestId until the send is accepted (202).
        await until(
          `send ${s.requestId}`,
          async () => {
            const r = await underFaults(() => run.api.POST('/api/whatsapp/send', { body: s }));
            if (r?.response.status === 202) return true;
            faults.sendRetries += 1;
            return undefined;
          },
          90_000,
          500,
        );
        accepted += 1;
      }
    })();
    await Promise.all([chaos, injectInbound, injectSends]);
    const trafficDoneAt = Date.now();

    // The faults happened, as planned, before anything is judged.
    expect(faults.kills).toEqual({ ingest: 3, 'wa-gateway': 3, 'outbox-sender': 3, store: 1 });
    expect(faults.redisDownMs).toBeGreaterThanOrEqual(REDIS_DOWN_MS);
    expect(faults.redisRefusedDuringOutage).toBe(true);
    expect(injected).toBe(INBOUND);
    expect(accepted).toBe(SENDS);

    // Everything settles: every inbound message stored, every send past `sending`.
    const wantedIds = new Set(inbound.map((m) => m.messageId));
    await until(
      'every inbound message stored and every send delivered',
      async () => {
        const threads = await collections(fb.db).threads().get();
        let stored = 0;
        for (const t of threads.docs) {
          if (t.data().mergedInto == null) stored += t.data().messageCount;
        }
        const outbox = await collections(fb.db).outbox().get();
        const statuses: Record<string, number> = {};
        for (const d of outbox.docs)
          statuses[d.data().status] = (statuses[d.data().status] ?? 0) + 1;
        const progress = `${stored} of ${INBOUND + SENDS} messages stored, outbox ${JSON.stringify(statuses)}`;
        if (stored < INBOUND + SENDS) throw new Error(progress);
        // Every send went its way: WhatsApp acknowledged it (sent) or more.
        if ((statuses.queued ?? 0) + (statuses.sending ?? 0) > 0) throw new Error(progress);
        return true;
      },
      SETTLE_MS,
      2_000,
    );
    // Delivery and read receipts follow within seconds of the last send.
    await until(
      'every send delivered',
      async () => {
        const outbox = await collections(fb.db).outbox().get();
        const done = outbox.docs.filter((d) => ['delivered', 'read'].includes(d.data().status));
        return done.length === SENDS ? true : undefined;
      },
      60_000,
      2_000,
    ).catch(() => undefined); // judged below, send by send, with what the contacts received
    const settledAt = Date.now();

    // Inbound: exactly the injected ids, each once, each in its contact's thread.
    const allThreads = await collections(fb.db).threads().get();
    // A contact's first message may come by its LID before the network told the account its
    // phone number: that thread is folded into the phone-number thread (its messages copied
    // there) and kept, marked mergedInto. Such a thread is judged by its copies being there.
    const merged = allThreads.docs.filter((t) => t.data().mergedInto != null);
    const threads = allThreads.docs.filter((t) => t.data().mergedInto == null);
    for (const t of merged) {
      const target = t.data().mergedInto!;
      const copies = new Set(
        (await collections(fb.db).messages(target).get()).docs.map((d) => d.data().waKey.id),
      );
      for (const m of (await collections(fb.db).messages(t.id).get()).docs) {
        expect(copies.has(m.data().waKey.id), `${m.id} of ${t.id} copied into ${target}`).toBe(
          true,
        );
      }
    }
    const seen = new Map<string, number>();
    const threadOf = new Map<string, string>();
    let inboundDocs = 0;
    let outboundDocs = 0;
    for (const t of threads) {
      const thread = t.data();
      const messages = (await collections(fb.db).messages(t.id).get()).docs.map((d) => d.data());
      for (const m of messages) {
        seen.set(m.waKey.id, (seen.get(m.waKey.id) ?? 0) + 1);
        threadOf.set(m.waKey.id, `${thread.accountId} ${thread.phoneE164}`);
        if (m.direction === 'inbound') inboundDocs += 1;
        else outboundDocs += 1;
      }
      // Counters are what the stored messages say.
      const inboundLive = messages.filter((m) => m.direction === 'inbound' && m.source === 'live');
      const newest = [...messages].sort(
        (x, y) => y.tsClient.getTime() - x.tsClient.getTime() || (y.waKey.id > x.waKey.id ? 1 : -1),
      )[0];
      expect(
        {
          messageCount: thread.messageCount,
          unreadCount: thread.unreadCount,
          lastMessageId: thread.lastMessageId,
          lastMessageAt: thread.lastMessageAt?.getTime(),
        },
        `thread ${t.id}`,
      ).toEqual({
        messageCount: messages.length,
        unreadCount: inboundLive.length,
        lastMessageId: newest?.waKey.id,
        lastMessageAt: newest?.tsClient.getTime(),
      });
    }
    const twice = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
    expect(twice, 'messages stored twice').toEqual([]);
    const missing = [...wantedIds].filter((id) => !seen.has(id));
    expect(missing, 'inbound messages never stored').toEqual([]);
    expect(inboundDocs).toBe(INBOUND);
    for (const m of inbound) {
      const where = threadOf.get(m.messageId);
      expect(where, m.messageId).toBe(`${m.accountId} ${m.from}`);
    }
    // One thread per contact: the sends went to the same 40 contacts the messages came from.
    expect(threads.length).toBe(ACCOUNTS * CONTACTS_PER_ACCOUNT);

    // Sends: each outbox document delivered, each message reached its contact once.
    const outbox = await collections(fb.db).outbox().get();
    expect(outbox.size).toBe(SENDS);
    const statuses = new Map<string, number>();
    for (const d of outbox.docs)
      statuses.set(d.data().status, (statuses.get(d.data().status) ?? 0) + 1);
    expect(statuses.get('sending') ?? 0).toBe(0);
    let resends = 0;
    const received = new Map<string, number>();
    for (const accountId of accountIds) {
      const sent = (await run.emulator(`/accounts/${accountId}/sent`)).json.messages as Array<{
        messageId: string;
        text: string | null;
        resends: number;
      }>;
      for (const m of sent) {
        received.set(m.text ?? '', (received.get(m.text ?? '') ?? 0) + 1);
        resends += m.resends;
      }
    }
    // A send WhatsApp acknowledged that its contact never decrypted is lost all the same.
    const notReceived = sends.filter((x) => received.get(x.text) !== 1).map((x) => x.requestId);
    expect(notReceived, 'sends not received exactly once by their contact').toEqual([]);
    for (const x of sends) {
      const doc = outbox.docs.find((d) => d.id === x.requestId)?.data();
      expect(['delivered', 'read'], x.requestId).toContain(doc?.status);
      expect(seen.get(doc!.waMessageId), `${x.requestId} stored as a message`).toBe(1);
    }
    expect([...received.values()].reduce((a, b) => a + b, 0)).toBe(SENDS);
    expect(outboundDocs).toBe(SENDS);

    passed = true;
    console.log(
      JSON.stringify({
        chaos: {
          pairingS: (pairedAt - t0) / 1000,
          trafficS: (trafficDoneAt - pairedAt) / 1000,
          settleS: (settledAt - trafficDoneAt) / 1000,
          totalS: (Date.now() - t0) / 1000,
          kills: faults.kills,
          redisDownS: faults.redisDownMs / 1000,
          inbound: inboundDocs,
          outbound: outboundDocs,
          threads: threads.length,
          mergedLidThreads: merged.length,
          sendRetries: faults.sendRetries,
          inboundRetries: faults.inboundRetries,
          resends,
          outboxStatuses: Object.fromEntries(statuses),
        },
      }),
    );
  }, 1_800_000);
});
