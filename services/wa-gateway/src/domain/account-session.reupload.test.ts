import type { WAMessageKey } from '@whiskeysockets/baileys';
import { describe, expect, it } from 'vitest';
import type { MediaReuploadedJob, ReuploadMediaCommand } from '@wacrm/contracts';
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
/** What outlives a gateway process: the requests recorded as asked (Redis in production). */
function durableAsked() {
  return new Map<string, ReuploadMediaCommand>();
}

function sessionWith(
  status: 'connected' | 'connecting',
  asked = durableAsked(),
  handOff: { down: boolean } = { down: false },
) {
  const requests: Array<{ key: WAMessageKey; mediaKey: Buffer }> = [];
  const answers: MediaReuploadedJob[] = [];
  const mediaReupload: MediaReuploadDeps = {
    load: () => Promise.resolve({ key: KEY, mediaKey: MEDIA_KEY, pending: true }),
    answer: (job) =>
      handOff.down
        ? Promise.reject(new Error('Connection is closed.'))
        : (answers.push(job), Promise.resolve()),
    asked: (accountId, waId, command) => (
      asked.set(`${accountId}/${waId}`, command),
      Promise.resolve()
    ),
    askedFor: (accountId, waId) => Promise.resolve(asked.get(`${accountId}/${waId}`) ?? null),
    answered: (accountId, waId) => (asked.delete(`${accountId}/${waId}`), Promise.resolve()),
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

  it('when the phone answers after the gateway restarted (the request was asked by the process before), then the answer still reaches the media worker', async () => {
    const asked = durableAsked();
    const before = sessionWith('connected', asked);
    await before.session.reuploadMedia(COMMAND);
    expect(before.requests).toHaveLength(1);
    // A new process: nothing in memory, the recorded request is all that is left.
    const after = sessionWith('connected', asked);
    after.phoneAnswers({ messageId: 'WAID1', read: () => ({ directPath: '/v/t62/late-path' }) });
    await expect.poll(() => after.answers.length).toBe(1);
    expect(after.answers[0]).toEqual({ ...COMMAND, directPath: '/v/t62/late-path', reason: null });
    // Handed over: the record goes, a second copy of the answer hands nothing more.
    expect(asked.size).toBe(0);
    after.phoneAnswers({ messageId: 'WAID1', read: () => ({ directPath: '/v/t62/late-path' }) });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(after.answers).toHaveLength(1);
  });

  it('when the answer cannot be handed over (Redis down), then it is retried until Redis is back', async () => {
    const handOff = { down: true };
    const { session, answers, phoneAnswers } = sessionWith('connected', durableAsked(), handOff);
    await session.reuploadMedia(COMMAND);
    phoneAnswers({ messageId: 'WAID1', read: () => ({ directPath: '/v/t62/kept-path' }) });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(answers).toHaveLength(0);
    handOff.down = false;
    await expect.poll(() => answers.length, { timeout: 5_000 }).toBe(1);
    expect(answers[0]).toEqual({ ...COMMAND, directPath: '/v/t62/kept-path', reason: null });
  });
});
