import { proto, type WAMessage } from '@whiskeysockets/baileys';
import { describe, expect, it } from 'vitest';
import { IngestHistoryJob, IngestMessagesJob, MessageUpdatesJob } from '@wacrm/contracts';
import {
  imageMessage,
  ownDeviceProtocolMessage,
  textMessage,
} from '../../test/wa-message.fixture.js';
import { jobsForEvents, toRawMessage } from './inbound-events.js';

const gateway = {
  accountId: 'acc-1',
  instanceId: 'gw-1',
  fencingToken: 3,
  observedAt: new Date(0).toISOString(),
};

describe('toRawMessage', () => {
  it('when a media message is serialised, then longs are numbers and bytes are base64', () => {
    const msg = imageMessage({ id: 'ID1', remoteJid: '40712345678@s.whatsapp.net', size: 2048 });
    const raw = toRawMessage(msg);
    const image = (raw.message as { imageMessage: Record<string, unknown> }).imageMessage;
    expect(image.fileLength).toBe(2048);
    expect(typeof image.mediaKey).toBe('string');
    expect(Buffer.from(image.mediaKey as string, 'base64')).toHaveLength(32);
    expect(raw.key).toEqual({
      id: 'ID1',
      remoteJid: '40712345678@s.whatsapp.net',
      fromMe: false,
      participant: null,
    });
    expect(typeof raw.messageTimestamp).toBe('number');
    expect(raw.undecryptable).toBe(false);
  });

  it('when Baileys could not decrypt a message, then it is marked undecryptable', () => {
    const msg = proto.WebMessageInfo.fromObject({
      key: { remoteJid: '40700000000@s.whatsapp.net', id: 'X', fromMe: false },
      messageStubType: proto.WebMessageInfo.StubType.CIPHERTEXT,
      messageStubParameters: ['No session'],
      messageTimestamp: 1_700_000_000,
    }) as WAMessage;
    expect(toRawMessage(msg)).toMatchObject({
      undecryptable: true,
      message: null,
      messageStubParameters: ['No session'],
      messageTimestamp: 1_700_000_000,
    });
  });

  it('when a group message names a device-specific participant, then the JID is normalised', () => {
    const msg = proto.WebMessageInfo.fromObject({
      key: {
        remoteJid: '1203630@g.us',
        id: 'G',
        fromMe: false,
        participant: '40711111111:12@s.whatsapp.net',
      },
      message: { conversation: 'salut' },
      messageTimestamp: 1,
    }) as WAMessage;
    expect(toRawMessage(msg).key.participant).toBe('40711111111@s.whatsapp.net');
  });
});

describe('jobsForEvents', () => {
  const message = textMessage({ id: 'M1', remoteJid: '40712345678@s.whatsapp.net', text: 'Bună' });

  it('when the same message is delivered twice, then both give the same job id', () => {
    const a = jobsForEvents('acc-1', {
      'messages.upsert': { type: 'notify', messages: [message] },
    });
    const b = jobsForEvents('acc-1', {
      'messages.upsert': { type: 'notify', messages: [message] },
    });
    expect(a).toHaveLength(1);
    expect(a[0]!.jobId).toBe(b[0]!.jobId);
    expect(a[0]!.jobId).not.toContain(':');
    expect(IngestMessagesJob.parse({ ...gateway, ...a[0]!.payload })).toBeTruthy();
    const other = jobsForEvents('acc-2', {
      'messages.upsert': { type: 'notify', messages: [message] },
    });
    expect(other[0]!.jobId).not.toBe(a[0]!.jobId);
  });

  it('when a history chunk arrives, then it is one ingest-history job that satisfies the contract', () => {
    const messages = [0, 1, 2].map((index) =>
      textMessage({
        id: `H${index}`,
        remoteJid: '40722222222@s.whatsapp.net',
        text: `Bună ziua! Mesajul ${index} din istoric`,
        timestamp: 100 + index,
      }),
    );
    const jobs = jobsForEvents('acc-1', {
      'messaging-history.set': {
        chats: [{ id: '40722222222@s.whatsapp.net', name: 'Ion' }],
        contacts: [{ id: '40722222222@s.whatsapp.net', notify: 'Ion' }],
        messages,
        isLatest: true,
        progress: 100,
        syncType: proto.HistorySync.HistorySyncType.ON_DEMAND,
        lidPnMappings: [{ lid: '123@lid', pn: '40722222222@s.whatsapp.net' }],
      },
    });
    expect(jobs.map((j) => j.name)).toEqual(['ingest-history', 'map-identities']);
    const history = IngestHistoryJob.parse({ ...gateway, ...jobs[0]!.payload });
    expect(history.source).toBe('backfill');
    expect(history.messages).toHaveLength(3);
    expect(history.chats[0]).toEqual({
      id: '40722222222@s.whatsapp.net',
      name: 'Ion',
      unreadCount: null,
      conversationTimestamp: null,
    });
  });

  it("when the account's phone sends its devices a protocol message (history sync notification, app-state keys), then it is no ingest-messages job", () => {
    const Type = proto.Message.ProtocolMessage.Type;
    const own = [
      ownDeviceProtocolMessage({
        id: 'P1',
        accountPhone: '40751705912',
        protocolMessage: {
          type: Type.HISTORY_SYNC_NOTIFICATION,
          historySyncNotification: {
            syncType: proto.HistorySync.HistorySyncType.INITIAL_BOOTSTRAP,
            mediaKey: Buffer.alloc(32, 7),
            directPath: '/v/t62.15575-24/history.enc',
            initialHistBootstrapInlinePayload: Buffer.alloc(64, 1),
          },
        },
      }),
      ownDeviceProtocolMessage({
        id: 'P2',
        accountPhone: '40751705912',
        protocolMessage: {
          type: Type.APP_STATE_SYNC_KEY_SHARE,
          appStateSyncKeyShare: {
            keys: [
              { keyId: { keyId: Buffer.alloc(6, 2) }, keyData: { keyData: Buffer.alloc(32, 9) } },
            ],
          },
        },
      }),
    ];
    const jobs = jobsForEvents('acc-1', {
      'messages.upsert': { type: 'notify', messages: [...own, message] },
    });
    // Baileys acts on these itself; their key material never goes on a queue.
    expect(jobs.map((j) => j.name)).toEqual(['ingest-messages']);
    expect(JSON.stringify(jobs)).not.toContain(Buffer.alloc(32, 9).toString('base64'));
    expect(JSON.stringify(jobs)).not.toContain(Buffer.alloc(32, 7).toString('base64'));
  });

  it('when a contact revokes or edits a message, then it is an ingest-messages job', () => {
    const Type = proto.Message.ProtocolMessage.Type;
    const target = { remoteJid: '40712345678@s.whatsapp.net', fromMe: false, id: 'M1' };
    const revoke = proto.WebMessageInfo.fromObject({
      key: { remoteJid: '40712345678@s.whatsapp.net', fromMe: false, id: 'R1' },
      message: { protocolMessage: { type: Type.REVOKE, key: target } },
      messageTimestamp: 1_700_000_000,
    }) as WAMessage;
    const edit = proto.WebMessageInfo.fromObject({
      key: { remoteJid: '40712345678@s.whatsapp.net', fromMe: false, id: 'E1' },
      message: {
        protocolMessage: {
          type: Type.MESSAGE_EDIT,
          key: target,
          editedMessage: { conversation: 'Bună!' },
        },
      },
      messageTimestamp: 1_700_000_000,
    }) as WAMessage;
    const jobs = jobsForEvents('acc-1', {
      'messages.upsert': { type: 'notify', messages: [revoke, edit] },
    });
    expect(jobs.map((j) => j.name)).toEqual(['ingest-messages', 'ingest-messages']);
  });

  it('when delivered then read receipts arrive for a sent message, then they are two distinct jobs', () => {
    const key = { remoteJid: '40733333333@s.whatsapp.net', fromMe: true, id: '3EB0ABC' };
    const delivered = jobsForEvents('acc-1', {
      'messages.update': [{ key, update: { status: 3 } }],
    });
    const read = jobsForEvents('acc-1', { 'messages.update': [{ key, update: { status: 4 } }] });
    expect(delivered[0]!.jobId).not.toBe(read[0]!.jobId);
    expect(MessageUpdatesJob.parse({ ...gateway, ...read[0]!.payload }).updates[0]!.status).toBe(4);
  });
});

describe('jobsForEvents: the phone number behind a LID', () => {
  it('when a message from a LID carries the sender phone (remoteJidAlt), then the mapping is recorded before the message', () => {
    const message = {
      key: {
        remoteJid: '214193872806305@lid',
        remoteJidAlt: '40722333444@s.whatsapp.net',
        id: 'LID1',
        fromMe: false,
      },
      message: { conversation: 'Bună' },
      messageTimestamp: 1_700_000_000,
    } as WAMessage;
    const jobs = jobsForEvents('acc-1', {
      'messages.upsert': { type: 'notify', messages: [message] },
    });
    expect(jobs.map((j) => j.name)).toEqual(['map-identities', 'ingest-messages']);
    expect(jobs[0]!.payload).toEqual({
      mappings: [{ lid: '214193872806305@lid', pn: '40722333444@s.whatsapp.net' }],
    });
  });

  it('when a group message from a LID participant carries participantAlt, then that mapping is recorded', () => {
    const message = {
      key: {
        remoteJid: '120363000000000000@g.us',
        participant: '99887766554433@lid',
        participantAlt: '40711111111@s.whatsapp.net',
        id: 'G1',
        fromMe: false,
      },
      message: { conversation: 'Salut' },
      messageTimestamp: 1_700_000_000,
    } as WAMessage;
    const jobs = jobsForEvents('acc-1', {
      'messages.upsert': { type: 'notify', messages: [message] },
    });
    expect(jobs[0]!.payload).toEqual({
      mappings: [{ lid: '99887766554433@lid', pn: '40711111111@s.whatsapp.net' }],
    });
  });

  it('when a message comes from a phone number with no alternate, then no mapping job is made', () => {
    const message = {
      key: { remoteJid: '40722333444@s.whatsapp.net', id: 'PN1', fromMe: false },
      message: { conversation: 'Bună' },
      messageTimestamp: 1_700_000_000,
    } as WAMessage;
    const jobs = jobsForEvents('acc-1', {
      'messages.upsert': { type: 'notify', messages: [message] },
    });
    expect(jobs.map((j) => j.name)).toEqual(['ingest-messages']);
  });
});
