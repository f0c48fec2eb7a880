import { describe, expect, it } from 'vitest';
import type { MediaRef, MessageDoc } from '@wacrm/contracts';
import { normalizeForRules } from '../domain/offline/text.js';
import { extractOffline } from '../domain/offline/offline-extractor.js';
import { messageText } from './extraction.repository.js';

const at = new Date('2026-06-01T10:00:00Z');

function message(body: string | null, media: Partial<MediaRef> | null): MessageDoc {
  return {
    accountId: 'wa-01',
    threadId: 't',
    direction: 'inbound',
    body,
    type: media === null ? 'text' : (media.kind ?? 'image'),
    media:
      media === null
        ? null
        : {
            kind: 'image',
            mimetype: null,
            size: null,
            fileName: null,
            caption: null,
            directPath: null,
            url: null,
            mediaKeyBase64: null,
            fileSha256Base64: null,
            seconds: null,
            width: null,
            height: null,
            ...media,
          },
    tsClient: at,
    tsServer: null,
    status: 'received',
    waKey: { id: 'm', remoteJid: 'x@s.whatsapp.net', fromMe: false, participant: null },
    requestId: null,
    source: 'live',
    participant: null,
    senderName: null,
    quotedMessageId: null,
    deleted: false,
    editedBody: null,
    reactions: {},
    location: null,
    createdAt: at,
    updatedAt: at,
  };
}

describe('what the extractor reads of a message with media (issue 17)', () => {
  it('when a client sends a document, then its file name is read (underscores as spaces)', () => {
    const text = messageText(
      message(null, { kind: 'document', fileName: 'Contract_Elsa_12_iulie_2026.pdf' }),
    );
    expect(text).toContain('Contract Elsa 12 iulie 2026.pdf');
  });

  it('when a photo has a caption and the body is empty, then the caption is read', () => {
    expect(messageText(message('', { kind: 'image', caption: 'Sala pentru 15 august' }))).toBe(
      'Sala pentru 15 august',
    );
  });

  it('when a document has both a caption and a name, then both are read, each once', () => {
    const text = messageText(
      message('Avansul', {
        kind: 'document',
        caption: 'Avansul',
        fileName: 'chitanta_300_lei.pdf',
      }),
    );
    expect(text).toBe('Avansul\nchitanta 300 lei.pdf');
  });

  it('when a file name is a stranger’s megabyte, then only a bounded part of it is read', () => {
    const text = messageText(message(null, { kind: 'document', fileName: 'a_'.repeat(500_000) }))!;
    expect(text.length).toBeLessThanOrEqual(300);
    expect(normalizeForRules(text).length).toBeLessThanOrEqual(300);
  });

  it('when a deleted message or media without words, then nothing is read', () => {
    expect(messageText({ ...message('x', null), deleted: true })).toBeNull();
    expect(messageText(message(null, { kind: 'audio' }))).toBeNull();
  });

  it('when the booking date is only in a document name, then the offline rules find it', () => {
    const text = messageText(
      message(null, { kind: 'document', fileName: 'Oferta_Elsa_15_august.pdf' }),
    )!;
    const output = extractOffline({
      messages: [
        { id: 'm', direction: 'inbound', ts: at.toISOString(), text: normalizeForRules(text) },
      ],
      now: at.toISOString(),
      timeZone: 'Europe/Bucharest',
    });
    expect(output.draft?.date).toBe('2026-08-15');
  });
});
