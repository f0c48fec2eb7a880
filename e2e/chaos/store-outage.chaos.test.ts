import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collections } from '@wacrm/firestore';
import { startChaosRun, underFaults, until, type ChaosRun } from './system.js';

// Issue 16, "Done when": Firestore unreachable for 3 minutes during inbound traffic. The store
// process is frozen (SIGSTOP: it holds every connection and answers nothing, as a partitioned
// database does) while contacts write and sends are in flight; after it returns everything the
// network delivered is stored once and no outbox document is left `sending`.
const OUTAGE_MS = Number(process.env.CHAOS_STORE_DOWN_S ?? 180) * 1_000;
const ACCOUNTS = 2;
const CONTACTS = 6;
/** Inbound messages offered before, during and after the outage. */
const INBOUND = Number(process.env.CHAOS_STORE_INBOUND ?? 300);
const SENDS = 20;
/** How long the system may take to work off its backlog once the store answers again. */
const SETTLE_MS = Number(process.env.CHAOS_SETTLE_S ?? 600) * 1_000;

let run: ChaosRun;
let passed = false;

beforeAll(async () => {
  run = await startChaosRun('chaos-store');
}, 240_000);

afterAll(() => run?.finish(passed), 60_000);

describe('the store unreachable during inbound traffic', () => {
  it(`when the store answers nothing for ${OUTAGE_MS / 1000} s while contacts write and sends are in flight, then everything is stored after it returns and no outbox document is left sending`, async () => {
    const t0 = Date.now();
    const { system, fb } = run;
    const accountIds = await run.pairAccounts(ACCOUNTS, 'Store');

    const inboundIds: string[] = [];
    const offer = async (i: number): Promise<void> => {
      const a = i % ACCOUNTS;
      const messageId = `3EB0D0A5${i.toString(16).toUpperCase().padStart(12, '0')}`;
      await until(
        `inbound ${i}`,
        async () => {
          const r = await run.emulator(`/accounts/${accountIds[a]}/inbound`, {
            from: `+4075${String(a).padStart(2, '0')}${String(i % CONTACTS).padStart(5, '0')}`,
            text: `store outage ${i}`,
            messageId,
          });
          return r.status === 202 ? true : undefined;
        },
        30_000,
      );
      inboundIds.push(messageId);
    };
    const send = async (i: number): Promise<void> => {
      const a = i % ACCOUNTS;
      // A client retries with the same requestId until the send is accepted.
      await until(
        `send ${i}`,
        async () => {
          const r = await underFaults(() =>
            run.api.POST('/api/whatsapp/send', {
              body: {
                accountId: accountIds[a]!,
                to: `+4075${String(a).padStart(2, '0')}${String(i % CONTACTS).padStart(5, '0')}`,
                text: `store outage send ${i}`,
                requestId: `store-outage-${String(i).padStart(3, '0')}`,
              },
            }),
          );
          return r?.response.status === 202 ? true : undefined;
        },
        OUTAGE_MS + 120_000,
        1_000,
      );
    };

    // A third of the traffic before the outage, with the first half of the sends just accepted
    // (in flight when the store stops answering).
    const third = Math.floor(INBOUND / 3);
    for (let i = 0; i < third; i++) await offer(i);
    await Promise.all(Array.from({ length: SENDS / 2 }, (_, i) => send(i)));

    const store = system.store.child()!;
    store.kill('SIGSTOP');
    const down = Date.now();
    // During the outage: a third of the inbound traffic spread over it, and the other sends.
    const during = (async () => {
      for (let i = third; i < 2 * third; i++) {
        await offer(i);
        await delay(OUTAGE_MS / third / 2);
      }
    })();
    const lateSends = Promise.all(Array.from({ length: SENDS / 2 }, (_, i) => send(SENDS / 2 + i)));
    await during;
    // The store did not answer during the outage: a read from it did not come back.
    const probe = await Promise.race([
      collections(fb.db)
        .accounts()
        .get()
        .then(() => 'answered' as const),
      delay(2_000).then(() => 'silent' as const),
    ]);
    const left = OUTAGE_MS - (Date.now() - down);
    if (left > 0) await delay(left);
    const downMs = Date.now() - down;
    store.kill('SIGCONT');
    for (let i = 2 * third; i < INBOUND; i++) await offer(i);
    await lateSends;

    const wanted = new Set(inboundIds);
    const settled = await until(
      'everything stored and no send left in flight',
      async () => {
        const seen = new Map<string, number>();
        for (const t of (await collections(fb.db).threads().get()).docs) {
          for (const m of (await collections(fb.db).messages(t.id).get()).docs) {
            seen.set(m.data().waKey.id, (seen.get(m.data().waKey.id) ?? 0) + 1);
          }
        }
        const outbox = (await collections(fb.db).outbox().get()).docs.map((d) => d.data());
        const statuses: Record<string, number> = {};
        for (const d of outbox) statuses[d.status] = (statuses[d.status] ?? 0) + 1;
        const missing = [...wanted].filter((id) => !seen.has(id)).length;
        const sessions = await fetch(`http://127.0.0.1:${system.gateway.port}/sessions`)
          .then((r) => r.text())
          .catch((e: unknown) => String(e));
        const progress = `${missing} inbound not stored, outbox ${JSON.stringify(statuses)}, gateway sessions ${sessions.slice(0, 400)}`;
        if (missing > 0 || outbox.length < SENDS) throw new Error(progress);
        if (!outbox.every((d) => d.status === 'delivered' || d.status === 'read')) {
          throw new Error(progress);
        }
        return { seen, outbox };
      },
      SETTLE_MS,
      2_000,
    );

    expect(probe).toBe('silent');
    expect(downMs).toBeGreaterThanOrEqual(OUTAGE_MS);
    expect(inboundIds).toHaveLength(INBOUND);
    expect(
      [...settled.seen].filter(([, n]) => n > 1),
      'stored twice',
    ).toEqual([]);
    expect(settled.outbox.filter((d) => d.status === 'sending')).toEqual([]);
    const received = new Map<string, number>();
    for (const accountId of accountIds) {
      const r = await run.emulator(`/accounts/${accountId}/sent`);
      for (const m of r.json.messages as Array<{ text: string | null }>) {
        received.set(m.text ?? '', (received.get(m.text ?? '') ?? 0) + 1);
      }
    }
    for (let i = 0; i < SENDS; i++) expect(received.get(`store outage send ${i}`)).toBe(1);
    passed = true;
    console.log(
      JSON.stringify({
        storeOutage: {
          storeDownS: downMs / 1000,
          inbound: INBOUND,
          storedMessages: settled.seen.size,
          sends: SENDS,
          totalS: (Date.now() - t0) / 1000,
        },
      }),
    );
  }, 900_000);
});
