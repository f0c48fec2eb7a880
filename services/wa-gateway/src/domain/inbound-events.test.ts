import { proto, type WAMessage } from '@whiskeysockets/baileys';
import { describe, expect, it } from 'vitest';
import { IngestHistoryJob, IngestMessagesJob, MessageUpdatesJob } from '@wacrm/contracts';
import { buildHistoryMessage, buildInboundMessage } from '../simulator/message-factory.js';
import { jobsForEvents, toRawMessage } from './inbound-events.js';

const gateway = {
  accountId: 'acc-1',
  instanceId: 'gw-1',
  fencingToken: 3,
  observedAt: new Date(0).toISOString(),
};

describe('toRawMessage', () => {
  it('when a media message is serialised, then longs are numbers and bytes are base64', () => {
    const msg = buildInboundMessage(
      { from: '+40712345678', kind: 'image', media: { mimetype: 'image/jpeg', size: 2048 } },
      'ID1',
      false,
    ) as WAMessage;
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
  const message = buildInboundMessage(
    { from: '+40712345678', kind: 'text', text: 'Bună' },
    'M1',
    false,
  );

  it('when the same message is delivered twice, then both give the same job id', () => {
    const a = jobsForEvents('acc-1', {
      'messages.upsert': { type: 'notify', messages: [message as WAMessage] },
    });
    const b = jobsForEvents('acc-1', {
      'messages.upsert': { type: 'notify', messages: [message as WAMessage] },
    });
    expect(a).toHaveLength(1);
    expect(a[0]!.jobId).toBe(b[0]!.jobId);
    expect(a[0]!.jobId).not.toContain(':');
    expect(IngestMessagesJob.parse({ ...gateway, ...a[0]!.payload })).toBeTruthy();
    const other = jobsForEvents('acc-2', {
      'messages.upsert': { type: 'notify', messages: [message as WAMessage] },
    });
    expect(other[0]!.jobId).not.toBe(a[0]!.jobId);
  });

  it('when a history chunk arrives, then it is one ingest-history job that satisfies the contract', () => {
    const messages = [0, 1, 2].map(
      (index) =>
        buildHistoryMessage({
          accountId: 'acc-1',
          contactPhone: '+40722222222',
          index,
          fromMe: false,
          timestamp: 100 + index,
        }) as WAMessage,
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
