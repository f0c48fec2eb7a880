// The preload swaps Baileys' certificate root for the emulator's test root in this process.
import '@wacrm/wa-emulator/preload';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestMessagesJob } from '@wacrm/contracts';
import { expectEventually, useTestFirestore, useTestRedis, type TestRedis } from '@wacrm/testing';
import type { InboundPublisher } from './data-access/inbound-publisher.js';
import type { AccountSession } from './domain/account-session.js';
import { EmulatorSessions } from '../test/emulator-session.js';

const firestore = useTestFirestore();
let redis: TestRedis;
let env: EmulatorSessions;

beforeAll(async () => {
  redis = await useTestRedis();
  env = await EmulatorSessions.start(firestore, redis);
});

afterAll(async () => {
  await env?.close();
  await redis?.cleanup();
  await firestore.close();
});

/** Receipts the emulator got from the account's devices for one message. */
async function receiptsFor(accountId: string, messageId: string) {
  const res = await fetch(`${env.emulator.controlUrl}/accounts/${accountId}/receipts`);
  const body = (await res.json()) as { receipts: Array<{ messageId: string; at: string }> };
  return body.receipts.filter((r) => r.messageId === messageId);
}

/** The ingest-messages jobs on wa-inbound that carry the message. */
async function jobsWith(messageId: string) {
  const jobs = await env.inbound.queue.getJobs(['waiting', 'delayed', 'completed', 'failed']);
  return jobs.filter(
    (j) =>
      j.name === 'ingest-messages' &&
      (j.data as IngestMessagesJob).messages.some((m) => m.key.id === messageId),
  );
}

type Publish = InboundPublisher['publish'];

/** The test publisher with its `publish` wrapped by `around`; everything else passes through. */
function publisherAround(
  around: (publish: Publish, ...args: Parameters<Publish>) => ReturnType<Publish>,
) {
  return new Proxy(env.publisher, {
    get(target, prop, receiver) {
      if (prop !== 'publish') {
        const value: unknown = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      }
      return (...args: Parameters<Publish>) =>
        around((...inner) => target.publish(...inner), ...args);
    },
  });
}

/**
 * The publisher, except that events carrying `messageId` cannot be stored (Redis and the spool
 * both refuse) until `failures` attempts have failed; `attempts` counts them.
 */
function failingFor(messageId: string, failures: number) {
  const state = { attempts: 0 };
  const publisher = publisherAround(async (publish, ...args) => {
    if (JSON.stringify(args[1]).includes(messageId)) {
      state.attempts += 1;
      if (state.attempts <= failures) {
        throw new Error('wa-inbound unreachable and the spool refused the write (ENOSPC)');
      }
    }
    return publish(...args);
  });
  return { publisher, state };
}

/**
 * The publisher, except that publishes `holds` picks (by job name and payload) wait until
 * `release()` (the store is slow); `state.held` counts them.
 */
function heldUntilReleased(holds: (name: string, payload: string) => boolean) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const state = { held: 0 };
  const publisher = publisherAround(async (publish, ...args) => {
    if (holds(args[0], JSON.stringify(args[1]))) {
      state.held += 1;
      await released;
    }
    return publish(...args);
  });
  return { publisher, state, release };
}

/** The account's (first) device at the emulator. */
function deviceOf(accountId: string): number {
  return env.emulator.accountViews().find((a) => a.accountId === accountId)!.devices[0]!.deviceId;
}

/**
 * Once the held publish of a receipt's status has begun, WhatsApp still holds the receipt (not
 * acked) until `release` lets the status be stored; then the ack goes and the session stays up.
 */
async function ackedOnlyOnceStored(
  session: AccountSession,
  deviceId: number,
  hold: Pick<ReturnType<typeof heldUntilReleased>, 'state' | 'release'>,
) {
  const id = session.accountId;
  await expectEventually(() => expect(hold.state.held).toBeGreaterThanOrEqual(1), {
    timeoutMs: 15_000,
  });
  // The receipt reached Baileys, its status is not stored: WhatsApp must still hold it.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  expect(env.emulator.unackedReceiptCount(id, deviceId)).toBeGreaterThanOrEqual(1);
  hold.release();
  await expectEventually(() => expect(env.emulator.unackedReceiptCount(id, deviceId)).toBe(0), {
    timeoutMs: 10_000,
  });
  await env.waitStatus(session, 'connected');
}

describe('receipts to WhatsApp only after the message is stored (real Baileys against the emulator)', () => {
  it('when a live message cannot be stored, then WhatsApp gets no receipt for it and redelivers it on the next connection, where it is stored once and only then receipted', async () => {
    const id = 'receipt-fail';
    const target = '3EB0RECEIPTFAIL000001';
    const { publisher, state } = failingFor(target, 1);
    const session = await env.paired(id, { publisher });
    const opensBefore = env.opens.get(id)!;
    const sent = await env.control(`/accounts/${id}/inbound`, {
      from: '+40722555666',
      text: 'Nu mă pierde',
      messageId: target,
    });
    expect(sent.status).toBe(202);
    // The store refused it once.
    await expectEventually(() => expect(state.attempts).toBeGreaterThanOrEqual(1), {
      timeoutMs: 15_000,
    });
    // Then it arrives again and is stored: WhatsApp still had it queued for this device.
    await expectEventually(async () => expect(await jobsWith(target)).toHaveLength(1), {
      timeoutMs: 30_000,
    });
    const [job] = await jobsWith(target);
    await expectEventually(async () => expect(await receiptsFor(id, target)).not.toEqual([]));
    const receipts = await receiptsFor(id, target);
    // Not one receipt went out before the message was on wa-inbound.
    for (const r of receipts) expect(Date.parse(r.at)).toBeGreaterThanOrEqual(job!.timestamp);
    expect(state.attempts).toBe(2);
    expect(env.opens.get(id)).toBeGreaterThan(opensBefore);
    await env.waitStatus(session, 'connected');
  });

  it('when a contact receipts a sent message, then Baileys acks that receipt to WhatsApp only after its status is stored', async () => {
    const id = 'receipt-ack-status';
    const waMessageId = `3EB0ACKSTATUS${Date.now().toString(16).toUpperCase()}`;
    // The status jobs of the sent message wait until `release` (the store is slow).
    const { publisher, state, release } = heldUntilReleased(
      (_name, text) => text.includes(waMessageId) && /"status":[34]\b/.test(text),
    );
    const session = await env.paired(id, { publisher });
    const contact = '+40722555888';
    await env.control(`/accounts/${id}/inbound`, { from: contact, text: 'Bună' });
    const deviceId = deviceOf(id);
    await session.send({
      requestId: `req-${waMessageId}`,
      accountId: id,
      to: contact,
      waMessageId,
      text: 'Confirm',
    });
    await ackedOnlyOnceStored(session, deviceId, { state, release });
  });

  it('when offline messages arrive while Baileys still buffers its events and the session is handed off, then each is stored once before the socket closes', async () => {
    const id = 'receipt-handoff';
    const first = await env.paired(id);
    await first.stop(true);
    // Queued while the device is away; at the next login they come as its offline backlog, and
    // Baileys buffers what it emits until the <ib><offline> marker, held back here for 6 s.
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const sent = await env.control(`/accounts/${id}/inbound`, {
        from: '+40722555777',
        text: `Chiar înainte de predare ${i + 1}`,
      });
      expect(sent.status).toBe(202);
      ids.push((sent.json as { messageIds: string[] }).messageIds[0]!);
    }
    env.emulator.offlineMarkerDelayMs = 6_000;
    try {
      const session = await env.open(id);
      // WhatsApp has Baileys' receipts: nothing is queued for this device any more.
      await expectEventually(
        async () => {
          for (const m of ids) expect(await receiptsFor(id, m)).not.toEqual([]);
        },
        { timeoutMs: 15_000 },
      );
      // Handed off before the marker: no other socket takes over, so what the closed one
      // received must be on wa-inbound.
      await session.stop(true);
    } finally {
      env.emulator.offlineMarkerDelayMs = 0;
    }
    await expectEventually(
      async () => {
        for (const m of ids) expect(await jobsWith(m)).toHaveLength(1);
      },
      { timeoutMs: 5_000 },
    );
  });
  it('when a history chunk arrives, then WhatsApp gets the receipt of its notification only after the chunk’s messages are stored', async () => {
    const id = 'receipt-history';
    // Only the chunk sent below is held: the pairing's own history bootstrap is stored at once.
    let holding = false;
    const { publisher, state, release } = heldUntilReleased(
      (name) => holding && name === 'ingest-history',
    );
    const session = await env.paired(id, { publisher });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const before = env.emulator.receipts(id).length;
    holding = true;
    const history = await env.control(`/accounts/${id}/history`, {
      threads: 2,
      messagesPerThread: 3,
    });
    expect(history.status).toBe(202);
    await expectEventually(() => expect(state.held).toBeGreaterThanOrEqual(1), {
      timeoutMs: 15_000,
    });
    // The chunk was downloaded and handed over, its messages are not stored: WhatsApp must still
    // hold the notification (no receipt for it, delivery or hist_sync).
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(env.emulator.receipts(id).slice(before)).toEqual([]);
    const releasedAt = Date.now();
    release();
    await expectEventually(
      () => expect(env.emulator.receipts(id).slice(before).length).toBeGreaterThan(0),
      { timeoutMs: 10_000 },
    );
    for (const r of env.emulator.receipts(id).slice(before)) {
      expect(Date.parse(r.at)).toBeGreaterThanOrEqual(releasedAt - 5);
    }
    await env.waitStatus(session, 'connected');
  });
  it('when a group member receipts the account’s message in a group, then Baileys acks that receipt to WhatsApp only after it is stored', async () => {
    const id = 'receipt-ack-group';
    const messageId = `3EB0ACKGROUP${Date.now().toString(16).toUpperCase()}`;
    const { publisher, state, release } = heldUntilReleased(
      (name, text) => name === 'apply-receipts' && text.includes(messageId),
    );
    const session = await env.paired(id, { publisher });
    const deviceId = deviceOf(id);
    env.emulator.groupReceipt(id, {
      groupId: '120363000000077',
      from: '+40722555901',
      messageId,
    });
    // Baileys has had the receipt for 2 s and cannot have stored it: WhatsApp must still hold it.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(env.emulator.unackedReceiptCount(id, deviceId)).toBe(1);
    await ackedOnlyOnceStored(session, deviceId, { state, release });
  });
});
