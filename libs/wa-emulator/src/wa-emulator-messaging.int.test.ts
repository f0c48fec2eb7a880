// The preload swaps Baileys' certificate root for the emulator's test root in this process.
import './preload.js';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  downloadMediaMessage,
  proto,
  type UserFacingSocketConfig,
  type WAMessage,
  type WAMessageKey,
} from '@whiskeysockets/baileys';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '@wacrm/observability';
import {
  connectClient,
  emulatorMediaOptions,
  MemoryAuth,
  type ClientRun,
} from './baileys-client.fixture.js';
import { STATE_FILE_NAME } from './emulator-state.store.js';
import { WaEmulator } from './wa-emulator.server.js';

const logger = createLogger({ service: 'wa-emulator', version: 'test', level: 'silent' });

let dataDir: string;
let emulator: WaEmulator;
const runs: ClientRun[] = [];

function connect(
  accountId: string,
  auth: MemoryAuth,
  config: Partial<UserFacingSocketConfig> = {},
): ClientRun {
  const media = emulatorMediaOptions(emulator);
  const run = connectClient(emulator.socketUrl(accountId), auth, {
    config: { fetchAgent: media.fetchAgent, options: media.options, ...config },
  });
  runs.push(run);
  return run;
}

async function control(path: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${emulator.controlUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(`${emulator.controlUrl}${path}`);
  return (await res.json()) as T;
}

async function pair(
  accountId: string,
  config: Partial<UserFacingSocketConfig> = {},
): Promise<{ auth: MemoryAuth; run: ClientRun }> {
  const auth = new MemoryAuth();
  const first = connect(accountId, auth, config);
  const qr = await first.qr;
  expect((await control(`/accounts/${accountId}/scan`, { qr })).status).toBe(202);
  expect(await first.closed).toBe(515);
  const run = connect(accountId, auth, config);
  await run.opened;
  return { auth, run };
}

async function inbound(accountId: string, body: object): Promise<string> {
  const res = await control(`/accounts/${accountId}/inbound`, body);
  expect(res.status, JSON.stringify(res.json)).toBe(202);
  return (res.json as { messageIds: string[] }).messageIds[0]!;
}

function received(run: ClientRun, id: string): Promise<WAMessage> {
  return expect
    .poll(() => run.messages.find((m) => m.key.id === id && m.message), { timeout: 10_000 })
    .toBeDefined()
    .then(() => run.messages.find((m) => m.key.id === id && m.message)!);
}

async function download(message: WAMessage): Promise<Buffer> {
  const { dispatcher } = emulatorMediaOptions(emulator);
  try {
    return await downloadMediaMessage(message, 'buffer', {
      options: { dispatcher },
    });
  } finally {
    await dispatcher.close();
  }
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('base64');
}

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'wa-emulator-msg-'));
  emulator = await WaEmulator.start({ logger, dataDir });
});

afterEach(async () => {
  await Promise.all(runs.splice(0).map((run) => run.socket.end(undefined)));
  await emulator.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('wa-emulator messaging with real Baileys', () => {
  it('when a contact sends media, then Baileys downloads and decrypts the exact bytes from the emulator CDN', async () => {
    const { run } = await pair('acc-media-in');
    const photo = randomBytes(150_000);
    const imageId = await inbound('acc-media-in', {
      from: '+40700000101',
      kind: 'image',
      media: { mimetype: 'image/jpeg', caption: 'Poza', dataBase64: photo.toString('base64') },
    });
    const image = await received(run, imageId);
    expect(image.message?.imageMessage?.caption).toBe('Poza');
    expect(image.message?.imageMessage?.directPath).toMatch(
      /^\/v\/t62\.7118-24\/[0-9a-f]{32}\.enc$/,
    );
    const startedAt = Date.now();
    const bytes = await download(image);
    console.info(
      `[wa-emulator] 150 kB image downloaded and decrypted by Baileys: ${Date.now() - startedAt} ms`,
    );
    expect(bytes.equals(photo)).toBe(true);

    for (const kind of ['video', 'audio', 'document', 'sticker'] as const) {
      const id = await inbound('acc-media-in', {
        from: '+40700000101',
        kind,
        media: { mimetype: 'application/octet-stream', size: 4_000, fileName: 'f.bin' },
      });
      const message = await received(run, id);
      const content =
        message.message?.videoMessage ??
        message.message?.audioMessage ??
        message.message?.documentMessage ??
        message.message?.stickerMessage;
      expect(content, kind).toBeDefined();
      const data = await download(message);
      expect(data.length, kind).toBe(4_000);
      expect(sha256(data), kind).toBe(Buffer.from(content!.fileSha256!).toString('base64'));
    }
    if (run.messages.some((m) => m.messageStubType === proto.WebMessageInfo.StubType.CIPHERTEXT)) {
      throw new Error('a media message did not decrypt');
    }
  });

  it('when a contact sends location, contact, reaction, edit and revoke, then Baileys gets each as real protobuf', async () => {
    const { run } = await pair('acc-kinds');
    const from = '+40700000102';
    const originalId = await inbound('acc-kinds', { from, text: 'Original' });
    await received(run, originalId);
    const contactJid = run.messages.find((m) => m.key.id === originalId)!.key.remoteJid!;
    const sent = await run.socket.sendMessage(contactJid, { text: 'Răspunsul nostru' });

    const locationId = await inbound('acc-kinds', { from, kind: 'location', text: 'Sala' });
    expect((await received(run, locationId)).message?.locationMessage?.name).toBe('Sala');
    const cardId = await inbound('acc-kinds', { from, kind: 'contact', text: 'Maria' });
    expect((await received(run, cardId)).message?.contactMessage?.vcard).toContain('FN:Maria');

    const reactionId = await inbound('acc-kinds', {
      from,
      kind: 'reaction',
      emoji: '❤️',
      targetMessageId: sent!.key.id,
    });
    const reaction = await received(run, reactionId);
    expect(reaction.message?.reactionMessage?.text).toBe('❤️');
    // Written from the contact's side; Baileys turns it to ours: a reaction to our own message.
    expect(reaction.message?.reactionMessage?.key?.id).toBe(sent!.key.id);
    expect(reaction.message?.reactionMessage?.key?.fromMe).toBe(true);

    const editId = await inbound('acc-kinds', {
      from,
      kind: 'edit',
      text: 'Original (corectat)',
      targetMessageId: originalId,
    });
    const edit = await received(run, editId);
    const protocol =
      edit.message?.protocolMessage ?? edit.message?.editedMessage?.message?.protocolMessage;
    expect(protocol?.type).toBe(proto.Message.ProtocolMessage.Type.MESSAGE_EDIT);
    expect(protocol?.key?.id).toBe(originalId);
    expect(protocol?.editedMessage?.conversation).toBe('Original (corectat)');

    const revokeId = await inbound('acc-kinds', {
      from,
      kind: 'revoke',
      targetMessageId: originalId,
    });
    const revoke = await received(run, revokeId);
    expect(revoke.message?.protocolMessage?.type).toBe(proto.Message.ProtocolMessage.Type.REVOKE);
    expect(revoke.message?.protocolMessage?.key?.id).toBe(originalId);
  });

  it('when the account sends media, then Baileys uploads it to the emulator and the contact decrypts the exact bytes', async () => {
    const { run } = await pair('acc-media-out');
    const firstId = await inbound('acc-media-out', {
      from: '+40700000103',
      text: 'Trimite contractul',
    });
    await received(run, firstId);
    const contactJid = run.messages.find((m) => m.key.id === firstId)!.key.remoteJid!;
    const pdf = randomBytes(300_000);
    const startedAt = Date.now();
    const sent = await run.socket.sendMessage(contactJid, {
      document: pdf,
      mimetype: 'application/pdf',
      fileName: 'contract.pdf',
      caption: 'Contractul',
    });
    const id = sent!.key.id!;
    await expect
      .poll(async () => {
        const list = await getJson<{
          messages: Array<{ messageId: string; fileSha256Base64: string | null }>;
        }>('/accounts/acc-media-out/sent');
        return list.messages.find((m) => m.messageId === id)?.fileSha256Base64;
      })
      .toBe(sha256(pdf));
    console.info(
      `[wa-emulator] 300 kB document uploaded, sent and decrypted by the contact: ${Date.now() - startedAt} ms`,
    );
    const list = await getJson<{ messages: Array<Record<string, unknown>> }>(
      '/accounts/acc-media-out/sent',
    );
    expect(list.messages.find((m) => m.messageId === id)).toMatchObject({
      kind: 'document',
      mimetype: 'application/pdf',
      fileName: 'contract.pdf',
      caption: 'Contractul',
      fileLength: pdf.length,
    });
    const res = await fetch(`${emulator.controlUrl}/accounts/acc-media-out/sent/${id}/media`);
    expect(Buffer.from(await res.arrayBuffer()).equals(pdf)).toBe(true);
    await expect.poll(() => run.statuses.get(id)?.at(-1)).toBe(4);
  });

  it('when the device is away as the contact receipts a sent message, then it gets the receipts at its next login', async () => {
    const { auth, run } = await pair('acc-away-receipts');
    const firstId = await inbound('acc-away-receipts', { from: '+40700000104', text: 'Salut' });
    await received(run, firstId);
    const contactJid = run.messages.find((m) => m.key.id === firstId)!.key.remoteJid!;
    const sent = await run.socket.sendMessage(contactJid, { text: 'Trimis, apoi plecat' });
    const id = sent!.key.id!;
    void run.socket.end(undefined);
    await expect
      .poll(async () => {
        const list = await getJson<{ messages: Array<{ messageId: string }> }>(
          '/accounts/acc-away-receipts/sent',
        );
        return list.messages.some((m) => m.messageId === id);
      })
      .toBe(true);
    // Both receipts (100 ms and 300 ms after the contact got it) find no connected device.
    await expect
      .poll(
        () =>
          emulator.accountViews().find((a) => a.accountId === 'acc-away-receipts')?.devices[0]
            ?.connected,
      )
      .toBe(false);
    const again = connect('acc-away-receipts', auth.reloaded());
    await again.opened;
    await expect.poll(() => again.statuses.get(id)?.at(-1), { timeout: 10_000 }).toBe(4);
    expect(run.statuses.get(id) ?? []).not.toContain(4);
  });

  it('when contacts post in a group, then Baileys decrypts their sender-key messages and reads the group metadata', async () => {
    const { run } = await pair('acc-group');
    const groupId = '120363000000000001';
    const first = await inbound('acc-group', {
      from: '+40700000104',
      name: 'Ana',
      text: 'Salut grup',
      groupId,
    });
    const second = await inbound('acc-group', {
      from: '+40700000105',
      name: 'Dan',
      text: 'Bună!',
      groupId,
    });
    const again = await inbound('acc-group', { from: '+40700000104', text: 'Încă unul', groupId });
    const a = await received(run, first);
    expect(a.message?.conversation).toBe('Salut grup');
    expect(a.key.remoteJid).toBe(`${groupId}@g.us`);
    expect(a.key.participant).toMatch(/^2\d{14}@lid$/);
    expect(a.key.participantAlt).toBe('40700000104@s.whatsapp.net');
    expect((await received(run, second)).message?.conversation).toBe('Bună!');
    expect((await received(run, again)).message?.conversation).toBe('Încă unul');

    const metadata = await run.socket.groupMetadata(`${groupId}@g.us`);
    expect(metadata.subject).toBe(`Group ${groupId}`);
    expect(metadata.participants.map((p) => p.phoneNumber).sort()).toEqual(
      [
        `${emulator.accountViews().find((x) => x.accountId === 'acc-group')!.phone}@s.whatsapp.net`,
        '40700000104@s.whatsapp.net',
        '40700000105@s.whatsapp.net',
      ].sort(),
    );
    const all = await run.socket.groupFetchAllParticipating();
    expect(Object.keys(all)).toEqual([`${groupId}@g.us`]);
    await expect(run.socket.groupMetadata('120363999999999999@g.us')).rejects.toThrow();
  });

  it('when the phone syncs 5 chats × 50 messages, then every message reaches messaging-history.set exactly once, with the LID mappings', async () => {
    const { run } = await pair('acc-history');
    const startedAt = Date.now();
    const res = await control('/accounts/acc-history/history', {
      threads: 5,
      messagesPerThread: 50,
    });
    expect(res.status).toBe(202);
    const ids = (res.json as { messageIds: string[] }).messageIds;
    expect(new Set(ids).size).toBe(250);
    await expect
      .poll(() => run.historyMessageIds.length, { timeout: 15_000 })
      .toBeGreaterThanOrEqual(250);
    console.info(
      `[wa-emulator] 250 history messages in 3 downloaded chunks to messaging-history.set: ${Date.now() - startedAt} ms`,
    );
    const counts = new Map<string, number>();
    for (const id of run.historyMessageIds) counts.set(id, (counts.get(id) ?? 0) + 1);
    expect(ids.every((id) => counts.get(id) === 1)).toBe(true);
    expect(run.historyMessageIds).toHaveLength(250);
    // Baileys stores each chunk's phoneNumberToLidMappings in its lid-mapping keys (the merged
    // event it emits while buffering leaves `lidPnMappings` out).
    const lids = [...new Set(run.historyChatIds)];
    expect(lids).toHaveLength(5);
    const pns = await Promise.all(
      lids.map((lid) => run.socket.signalRepository.lidMapping.getPNForLID(lid)),
    );
    expect(new Set(pns.map((pn) => pn?.replace(/:\d+@/, '@'))).size).toBe(5);
    expect(pns.every((pn) => /^4076\d{7}(:\d+)?@s\.whatsapp\.net$/.test(pn ?? ''))).toBe(true);
    console.info(
      `[wa-emulator] lidPnMappings in the emitted history sets: ${run.historyMappings.length}`,
    );
    // Every chunk was receipted (hist_sync), so nothing stays queued for the device.
    await expect
      .poll(async () => {
        const state = JSON.parse(await readFile(join(dataDir, STATE_FILE_NAME), 'utf8')) as {
          pending: Record<string, unknown[]>;
        };
        return state.pending['acc-history:1']?.length;
      })
      .toBe(0);
  });

  it('when messages arrive while the device is offline and the emulator restarts, then the next login gets them all, then the offline marker', async () => {
    const { auth } = await pair('acc-offline');
    const from = '+40700000106';
    const warmup = await inbound('acc-offline', { from, text: 'Înainte' });
    await received(runs.at(-1)!, warmup);
    await Promise.all(runs.splice(0).map((run) => run.socket.end(undefined)));
    const preKeysBefore = emulator.accountViews().find((a) => a.accountId === 'acc-offline')!
      .devices[0]!.preKeys;

    const queued: string[] = [];
    for (const text of ['Unu', 'Doi', 'Trei']) {
      const res = await control('/accounts/acc-offline/inbound', { from, text });
      expect((res.json as { status: string }).status).toBe(
        'delivered to 0 device(s), queued for 1',
      );
      queued.push((res.json as { messageIds: string[] }).messageIds[0]!);
    }
    await emulator.stop();
    emulator = await WaEmulator.start({ logger, dataDir });

    const run = connect('acc-offline', auth.reloaded());
    let pendingDone = false;
    run.socket.ev.on('connection.update', (u) => {
      if (u.receivedPendingNotifications) pendingDone = true;
    });
    await run.opened;
    for (const [i, id] of queued.entries()) {
      expect((await received(run, id)).message?.conversation).toBe(['Unu', 'Doi', 'Trei'][i]);
    }
    await expect.poll(() => pendingDone).toBe(true);
    // The contact's session survived the restart: no new pre-key was taken from the device.
    expect(
      emulator.accountViews().find((a) => a.accountId === 'acc-offline')!.devices[0]!.preKeys,
    ).toBe(preKeysBefore);
    await expect
      .poll(async () => {
        const state = JSON.parse(await readFile(join(dataDir, STATE_FILE_NAME), 'utf8')) as {
          pending: Record<string, unknown[]>;
        };
        return state.pending['acc-offline:1']?.length;
      })
      .toBe(0);
    // Receipted messages are not delivered again on the next login.
    await run.socket.end(undefined);
    const next = connect('acc-offline', auth.reloaded());
    let nextPendingDone = false;
    next.socket.ev.on('connection.update', (u) => {
      if (u.receivedPendingNotifications) nextPendingDone = true;
    });
    await next.opened;
    // The offline marker follows the whole backlog, and a new message goes out after both.
    await expect.poll(() => nextPendingDone).toBe(true);
    await received(next, await inbound('acc-offline', { from, text: 'Patru' }));
    expect(next.messages.filter((m) => queued.includes(m.key.id ?? ''))).toEqual([]);
  });

  it('when 4 contacts send 200 texts concurrently, then Baileys decrypts each exactly once', async () => {
    const { run } = await pair('acc-burst');
    const startedAt = Date.now();
    const ids = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        inbound('acc-burst', { from: `+4070000020${i % 4}`, text: `Mesaj ${i}` }),
      ),
    );
    await expect
      .poll(() => run.messages.filter((m) => m.message?.conversation).length, { timeout: 20_000 })
      .toBe(200);
    const seconds = (Date.now() - startedAt) / 1000;
    console.info(
      `[wa-emulator] 200 inbound texts from 4 contacts decrypted by Baileys: ${(200 / seconds).toFixed(0)} msg/s`,
    );
    const texts = run.messages.filter((m) => m.message?.conversation);
    expect(new Set(texts.map((m) => m.key.id)).size).toBe(200);
    expect(new Set(ids)).toEqual(new Set(texts.map((m) => m.key.id)));
  });

  it('when WhatsApp removes a device (401), then the messages queued for it are dropped with it', async () => {
    await pair('acc-removed');
    expect((await control('/accounts/acc-removed/faults', { kind: 'silence' })).status).toBe(202);
    await inbound('acc-removed', { from: '+40700000109', text: 'Nu va ajunge' });
    const pending = async () => {
      const state = JSON.parse(await readFile(join(dataDir, STATE_FILE_NAME), 'utf8')) as {
        pending: Record<string, unknown[]>;
      };
      return state.pending['acc-removed:1']?.length;
    };
    // Silenced: the client never sees it, so it never receipts it.
    expect(await pending()).toBe(1);
    expect((await control('/accounts/acc-removed/disconnect', { reason: 401 })).status).toBe(202);
    expect(await pending()).toBeUndefined();
  });

  it('when Baileys cannot decrypt a message, then it asks for a retry and the contact resends the same id as a fresh pre-key message', async () => {
    const { run } = await pair('acc-retry-in');
    const from = '+40700000107';
    await received(run, await inbound('acc-retry-in', { from, text: 'Sesiune' }));
    expect(
      (await control('/accounts/acc-retry-in/faults', { kind: 'corrupt-inbound', count: 1 }))
        .status,
    ).toBe(202);
    const id = await inbound('acc-retry-in', { from, text: 'Mesaj stricat apoi retrimis' });
    const message = await received(run, id);
    expect(message.message?.conversation).toBe('Mesaj stricat apoi retrimis');
    const receipts = await getJson<{ receipts: Array<{ messageId: string; type: string }> }>(
      '/accounts/acc-retry-in/receipts',
    );
    expect(receipts.receipts.filter((r) => r.messageId === id).map((r) => r.type)).toContain(
      'retry',
    );
    // The placeholder Baileys emitted first carries the same id: one message, two states.
    const stubs = run.messages.filter((m) => m.key.id === id && !m.message);
    expect(stubs.every((m) => m.messageStubType === proto.WebMessageInfo.StubType.CIPHERTEXT)).toBe(
      true,
    );
  });

  it('when the contact asks for a retry of a sent message, then Baileys resends it through getMessage and the contact decrypts it', async () => {
    const asked: string[] = [];
    const store = new Map<string, proto.IMessage>();
    const { run } = await pair('acc-retry-out', {
      enableRecentMessageCache: false,
      getMessage: (key: WAMessageKey) => {
        asked.push(key.id ?? '');
        return Promise.resolve(store.get(key.id ?? ''));
      },
    });
    const first = await inbound('acc-retry-out', { from: '+40700000108', text: 'Salut' });
    await received(run, first);
    const contactJid = run.messages.find((m) => m.key.id === first)!.key.remoteJid!;
    const sent = await run.socket.sendMessage(contactJid, { text: 'Trimis o dată' });
    const id = sent!.key.id!;
    store.set(id, sent!.message!);
    await expect.poll(() => run.statuses.get(id)?.at(-1)).toBe(4);

    expect((await control('/accounts/acc-retry-out/retry-request', { messageId: id })).status).toBe(
      202,
    );
    await expect
      .poll(async () => {
        const list = await getJson<{
          messages: Array<{ messageId: string; resends: number; text: string }>;
        }>('/accounts/acc-retry-out/sent');
        return list.messages.find((m) => m.messageId === id);
      })
      .toMatchObject({ resends: 1, text: 'Trimis o dată' });
    expect(asked).toContain(id);
    expect(
      (await control('/accounts/acc-retry-out/retry-request', { messageId: 'NOPE' })).status,
    ).toBe(404);
  });

  it('when the contact cannot decrypt a sent message, then it answers with a retry receipt, Baileys resends through getMessage and the contact receives the exact text once', async () => {
    const asked: string[] = [];
    const store = new Map<string, proto.IMessage>();
    const { run } = await pair('acc-bad-mac', {
      enableRecentMessageCache: false,
      getMessage: (key: WAMessageKey) => {
        asked.push(key.id ?? '');
        return Promise.resolve(store.get(key.id ?? ''));
      },
    });
    const first = await inbound('acc-bad-mac', { from: '+40700000109', text: 'Salut' });
    await received(run, first);
    const contactJid = run.messages.find((m) => m.key.id === first)!.key.remoteJid!;
    const send = async (text: string) => {
      const sent = await run.socket.sendMessage(contactJid, { text });
      store.set(sent!.key.id!, sent!.message!);
      return sent!.key.id!;
    };
    const sentTo = async () =>
      (
        await getJson<{ messages: Array<{ messageId: string; resends: number; text: string }> }>(
          '/accounts/acc-bad-mac/sent',
        )
      ).messages;
    const before = await send('Înainte');
    await expect.poll(() => run.statuses.get(before)?.at(-1)).toBe(4);
    expect(
      (await control('/accounts/acc-bad-mac/faults', { kind: 'corrupt-outbound', count: 1 }))
        .status,
    ).toBe(202);
    const id = await send('Mesaj cu Bad MAC la contact');
    await expect
      .poll(async () => (await sentTo()).filter((m) => m.messageId === id), { timeout: 15_000 })
      .toEqual([expect.objectContaining({ resends: 0, text: 'Mesaj cu Bad MAC la contact' })]);
    await expect.poll(() => run.statuses.get(id)?.at(-1)).toBe(4);
    expect(asked).toEqual([id]);
    const after = await send('După');
    await expect.poll(() => run.statuses.get(after)?.at(-1)).toBe(4);
    expect((await sentTo()).map((m) => m.text)).toEqual([
      'Înainte',
      'Mesaj cu Bad MAC la contact',
      'După',
    ]);
  });

  it('when the socket dies with a delivery receipt in flight, then the server keeps the unacked receipt and redelivers it at the next login', async () => {
    // No read receipt during the test: only the delivery receipt can take the status to 3.
    await emulator.stop();
    emulator = await WaEmulator.start({ logger, dataDir, readMs: 3_600_000 });
    const { auth, run } = await pair('acc-receipt-lost');
    const first = await inbound('acc-receipt-lost', { from: '+40700000110', text: 'Salut' });
    await received(run, first);
    const contactJid = run.messages.find((m) => m.key.id === first)!.key.remoteJid!;
    expect(
      (await control('/accounts/acc-receipt-lost/faults', { kind: 'drop-on-receipt', count: 1 }))
        .status,
    ).toBe(202);
    const sent = await run.socket.sendMessage(contactJid, {
      text: 'Livrat chiar înainte de cădere',
    });
    const id = sent!.key.id!;
    // The fault happened: the socket closed as the delivery receipt went out, before any status.
    await run.closed;
    expect(
      emulator.accountViews().find((a) => a.accountId === 'acc-receipt-lost')?.devices,
    ).toEqual([expect.objectContaining({ connected: false })]);
    expect(run.statuses.get(id) ?? []).not.toContain(3);
    await expect
      .poll(async () =>
        (
          await getJson<{ messages: Array<{ messageId: string }> }>(
            '/accounts/acc-receipt-lost/sent',
          )
        ).messages.map((m) => m.messageId),
      )
      .toContain(id);

    expect(emulator.unackedReceiptCount('acc-receipt-lost', 1)).toBe(1);
    const again = connect('acc-receipt-lost', auth);
    await again.opened;
    await expect.poll(() => again.statuses.get(id) ?? [], { timeout: 10_000 }).toContain(3);
    // Acked this time: nothing is kept to send again.
    await expect.poll(() => emulator.unackedReceiptCount('acc-receipt-lost', 1)).toBe(0);
  });

  it('when the client asks for a pairing code and the phone enters it, then the device links and opens without a QR scan', async () => {
    const auth = new MemoryAuth();
    const first = connect('acc-code', auth);
    await first.qr;
    const code = await first.socket.requestPairingCode('40755500011');
    expect(code).toMatch(/^[A-Z0-9]{8}$/);
    const wrong = await control('/accounts/acc-code/pairing-code', {
      code: code === 'AAAAAAAA' ? 'BBBBBBBB' : 'AAAAAAAA',
    });
    expect(wrong.status).toBe(409);
    expect(auth.creds.registered).toBe(false);

    const startedAt = Date.now();
    const res = await control('/accounts/acc-code/pairing-code', { code });
    expect(res.status, JSON.stringify(res.json)).toBe(202);
    expect(await first.closed).toBe(515);
    expect(auth.creds.me?.id).toBe('40755500011:1@s.whatsapp.net');
    const second = connect('acc-code', auth);
    await second.opened;
    console.info(`[wa-emulator] pairing code entered to 'open': ${Date.now() - startedAt} ms`);
    expect(second.qrs).toEqual([]);
    expect(emulator.accountViews().find((a) => a.accountId === 'acc-code')?.phone).toBe(
      '40755500011',
    );
  });
});
