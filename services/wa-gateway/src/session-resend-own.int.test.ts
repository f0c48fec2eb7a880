// The preload swaps Baileys' certificate root for the emulator's test root in this process.
import '@wacrm/wa-emulator/preload';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestMessagesJob } from '@wacrm/contracts';
import { threadIdFor } from '@wacrm/firestore';
import { expectEventually, useTestFirestore, useTestRedis, type TestRedis } from '@wacrm/testing';
import { recordOutbound } from '../../ingest/src/domain/send.handlers.js';
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

interface Sent {
  messageId: string;
  resends: number;
  text: string | null;
}

async function sentList(accountId: string): Promise<Sent[]> {
  const res = await fetch(`${env.emulator.controlUrl}/accounts/${accountId}/sent`);
  return ((await res.json()) as { messages: Sent[] }).messages;
}

describe('a contact asks for a message again after a reconnect (real Baileys against the emulator)', () => {
  it('when the socket was restarted since the send, then the message is answered from Firestore and the contact gets it', async () => {
    const id = 'resend-own';
    const first = await env.paired(id);
    const contact = '+40722777888';
    await env.control(`/accounts/${id}/inbound`, { from: contact, text: 'Aveți liber sâmbătă?' });
    const waMessageId = `3EB0${randomBytes(8).toString('hex').toUpperCase()}`;
    await first.send({
      requestId: `req-${waMessageId}`,
      accountId: id,
      to: contact,
      waMessageId,
      text: 'Da, sâmbătă la 18:00',
    });
    await expectEventually(async () =>
      expect((await sentList(id)).find((m) => m.messageId === waMessageId)).toMatchObject({
        resends: 0,
      }),
    );
    // Ingest stores the sent message from its outbox document, as the send route has it do.
    const to = `${contact.slice(1)}@s.whatsapp.net`;
    await recordOutbound(
      {
        accountId: id,
        requestId: `req-${waMessageId}`,
        threadId: threadIdFor(id, to),
        to,
        waMessageId,
        acceptedAt: new Date().toISOString(),
        content: { body: 'Da, sâmbătă la 18:00', media: null, replyTo: null },
      },
      env.ingestDeps(),
      env.logger,
    );
    // A new socket: Baileys' in-memory copy of the message is gone.
    await first.stop(true);
    const second = await env.open(id);
    await env.waitStatus(second, 'connected');
    const asked = await env.control(`/accounts/${id}/retry-request`, { messageId: waMessageId });
    expect(asked.status).toBe(202);
    await expectEventually(
      async () =>
        expect((await sentList(id)).find((m) => m.messageId === waMessageId)).toMatchObject({
          resends: 1,
          text: 'Da, sâmbătă la 18:00',
        }),
      { timeoutMs: 15_000 },
    );
  });

  it('when the session sends a message, then Baileys does not echo it to wa-inbound (the outbox gives the conversation its copy)', async () => {
    const id = 'send-no-echo';
    const session = await env.paired(id);
    const contact = '+40722777999';
    await env.control(`/accounts/${id}/inbound`, { from: contact, text: 'Bună ziua' });
    const waMessageId = `3EB0${randomBytes(8).toString('hex').toUpperCase()}`;
    await session.send({
      requestId: `req-${waMessageId}`,
      accountId: id,
      to: contact,
      waMessageId,
      text: 'Bună ziua, cu ce vă ajut?',
    });
    // Events are published in the order Baileys emits them: once the contact's answer, written
    // after the send, is on wa-inbound, an echo of the send would be there before it.
    const answer = await env.control(`/accounts/${id}/inbound`, { from: contact, text: 'Mersi' });
    const [answerId] = (answer.json as { messageIds: string[] }).messageIds;
    const carried = async () =>
      (await env.inbound.queue.getJobs(['waiting', 'completed']))
        .filter((j) => j.name === 'ingest-messages')
        .map((j) => j.data as IngestMessagesJob)
        .filter((j) => j.accountId === id)
        .flatMap((j) => j.messages.map((m) => m.key.id));
    await expectEventually(async () => expect(await carried()).toContain(answerId));
    expect(await carried()).not.toContain(waMessageId);
  });
});
