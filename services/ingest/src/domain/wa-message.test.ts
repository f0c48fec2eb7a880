import { describe, expect, it } from 'vitest';
import { raw } from '../test-support/wa-fixtures.js';
import { classify, statusFromWa, unwrapMessage } from './wa-message.js';

const J = '40712345678@s.whatsapp.net';

describe('classify', () => {
  it('when a text arrives inside ephemeral and view-once wrappers, then the inner content is read', () => {
    expect(
      unwrapMessage({
        ephemeralMessage: { message: { viewOnceMessage: { message: { conversation: 'x' } } } },
      }),
    ).toEqual({
      conversation: 'x',
    });
    const item = classify(
      raw('1', J, { ephemeralMessage: { message: { conversation: 'salut' } } }),
    );
    expect(item).toMatchObject({ kind: 'content', content: { type: 'text', body: 'salut' } });
  });

  it('when a reply arrives, then the quoted message id is kept', () => {
    const item = classify(
      raw('1', J, { extendedTextMessage: { text: 'da', contextInfo: { stanzaId: 'Q1' } } }),
    );
    expect(item).toMatchObject({ content: { quotedMessageId: 'Q1', body: 'da' } });
  });

  it('when a document with caption arrives, then mime, size and file name are kept', () => {
    const item = classify(
      raw('1', J, {
        documentWithCaptionMessage: {
          message: {
            documentMessage: {
              mimetype: 'application/pdf',
              fileName: 'a.pdf',
              fileLength: '2048',
              caption: 'c',
            },
          },
        },
      }),
    );
    expect(item).toMatchObject({
      content: {
        type: 'document',
        body: 'c',
        media: { mimetype: 'application/pdf', fileName: 'a.pdf', size: 2048 },
      },
    });
  });

  it('when a revoke or an edit arrives, then it targets the original message', () => {
    expect(classify(raw('2', J, { protocolMessage: { type: 0, key: { id: 'T' } } }))).toMatchObject(
      {
        kind: 'revoke',
        targetId: 'T',
      },
    );
    expect(
      classify(
        raw('3', J, {
          protocolMessage: { type: 14, key: { id: 'T' }, editedMessage: { conversation: 'nou' } },
        }),
      ),
    ).toMatchObject({ kind: 'edit', targetId: 'T', body: 'nou' });
  });

  it('when an empty reaction arrives, then it removes the reactor’s reaction', () => {
    expect(
      classify(raw('4', J, { reactionMessage: { key: { id: 'T' }, text: '' } }, { fromMe: true })),
    ).toMatchObject({ kind: 'reaction', reactor: 'me', emoji: '' });
  });

  it('when a message could not be decrypted, then it becomes a placeholder asking for a resend', () => {
    expect(classify(raw('5', J, null, { undecryptable: true }))).toMatchObject({
      kind: 'content',
      content: { type: 'placeholder' },
      resendRequested: true,
    });
    expect(classify(raw('6', J, null, { messageStubType: 2 }))).toMatchObject({
      resendRequested: true,
    });
  });

  it('when only a key distribution or a vote arrives, then nothing is stored and the reason is given', () => {
    expect(classify(raw('7', J, { senderKeyDistributionMessage: { groupId: 'g' } }))).toMatchObject(
      { kind: 'skip' },
    );
    expect(classify(raw('8', J, { pollUpdateMessage: {} }))).toMatchObject({ kind: 'skip' });
  });

  it('when an unknown kind arrives, then it is kept as unknown rather than dropped', () => {
    expect(classify(raw('9', J, { somethingNewMessage: { a: 1 } }))).toMatchObject({
      kind: 'content',
      content: { type: 'unknown', body: null },
    });
  });

  it('when WhatsApp statuses are mapped, then server ack is sent and played is read', () => {
    expect([0, 1, 2, 3, 4, 5, null].map(statusFromWa)).toEqual([
      'failed',
      'sending',
      'sent',
      'delivered',
      'read',
      'read',
      null,
    ]);
  });
});
