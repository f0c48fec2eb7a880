import type { WAMessageKey } from '@whiskeysockets/baileys';
import { describe, expect, it } from 'vitest';
import type { MediaReuploadedJob } from '@wacrm/contracts';
import { captureLogger } from '@wacrm/testing';
import type { MediaReuploadDeps } from '../data-access/media-reupload.js';
import type { Lease } from '../data-access/lease.store.js';
import {
  MediaReuploadRefused,
  type MediaRetryAnswer,
  type WaConnection,
} from '../drivers/driver.port.js';
import { AccountSession, NotConnectedError, type SessionDeps } from './account-session.js';

const KEY: WAMessageKey = { id: 'WAID1', remoteJid: '40712345678@s.whatsapp.net', fromMe: false };
const MEDIA_KEY = Buffer.alloc(32, 7);
const COMMAND = { accountId: 'wa-01', threadId: 'wa-01:40712345678', messageId: 'm1' };

/**
 * AccountSession's own re-upload handling over a socket that records the requests it was given;
 * the phone's answers come in as the socket's listener hands them over.
 */
function sessionWith(status: 'connected' | 'connecting') {
  const requests: Array<{ key: WAMessageKey; mediaKey: Buffer }> = [];
  const answers: MediaReuploadedJob[] = [];
  const mediaReupload: MediaReuploadDeps = {
    load: () => Promise.resolve({ key: KEY, mediaKey: MEDIA_KEY, pending: true }),
    answer: (job) => (answers.push(job), Promise.resolve()),
    close: () => Promise.resolve(),
  };
  const deps = {
    logger: captureLogger().logger,
    mediaReupload,
    driver: { name: 'baileys' },
  } as unknown as SessionDeps;
  const session = new AccountSession('wa-01', { token: 1 } as Lease, deps, () => undefined);
  const conn: Partial<WaConnection> = {
    reuploadMedia: (request) => (requests.push(request), Promise.resolve()),
  };
  Object.assign(session, { conn, status });
  const phoneAnswers = (answer: MediaRetryAnswer) =>
    (session as unknown as { onMediaRetryAnswer(a: MediaRetryAnswer): void }).onMediaRetryAnswer(
      answer,
    );
  return { session, requests, answers, phoneAnswers };
}

describe('reupload-media on the account session', () => {
  it('when the socket is not connected, then the command fails to be retried and nothing is sent', async () => {
    const { session, requests } = sessionWith('connecting');
    await expect(session.reuploadMedia(COMMAND)).rejects.toBeInstanceOf(NotConnectedError);
    expect(requests).toHaveLength(0);
  });

  it('when the request is sent, then the command completes at once and is not sent again while unanswered', async () => {
    const { session, requests, answers } = sessionWith('connected');
    await session.reuploadMedia(COMMAND);
    await session.reuploadMedia(COMMAND);
    expect(requests).toEqual([{ key: KEY, mediaKey: MEDIA_KEY }]);
    expect(answers).toHaveLength(0);
  });

  it('when the phone answers later, then its direct path (read under the media key) or its refusal goes to the media worker, once', async () => {
    const { session, requests, answers, phoneAnswers } = sessionWith('connected');
    await session.reuploadMedia(COMMAND);
    const readWith: Buffer[] = [];
    const answer: MediaRetryAnswer = {
      messageId: 'WAID1',
      read: (mediaKey) => (readWith.push(mediaKey), { directPath: '/v/t62/new-path' }),
    };
    phoneAnswers(answer);
    // The same answer twice (or one for a request never sent here) hands nothing more over.
    phoneAnswers(answer);
    phoneAnswers({ messageId: 'OTHER', read: () => ({ directPath: '/x' }) });
    await expect.poll(() => answers.length).toBe(1);
    expect(readWith).toEqual([MEDIA_KEY]);
    expect(answers[0]).toEqual({ ...COMMAND, directPath: '/v/t62/new-path', reason: null });

    // Answered: a new request may be sent, and a refusal carries the phone's reason.
    await session.reuploadMedia(COMMAND);
    expect(requests).toHaveLength(2);
    phoneAnswers({
      messageId: 'WAID1',
      read: () => {
        throw new MediaReuploadRefused('the phone could not upload it again (NOT_FOUND)');
      },
    });
    await expect.poll(() => answers.length).toBe(2);
    expect(answers[1]).toEqual({
      ...COMMAND,
      directPath: null,
      reason: 'the phone could not upload it again (NOT_FOUND)',
    });
  });
});
