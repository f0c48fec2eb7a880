/// <reference lib="dom" />
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, isSerious, screenshot } from './browser.js';
import { eventually } from '../launcher-process.js';
import { connectedAccount, ok } from '../system-api.js';
import { signInWithToken, startWebSystem, type WebSystem } from './web-system.js';

// Issue 17 items 4-5 in the browser against the whole system as `npm start` runs it: media a
// contact sends through the WhatsApp network emulator (real Baileys, media-worker, s3rver) shown
// in the chat, and a file the operator attaches in the composer reaching the contact.
// Fixtures made with ffmpeg: photo.jpg (testsrc2 640x480), voice.ogg (6 s of 440 Hz, Opus
// 16 kbit/s mono), clip.mp4 (testsrc 160x120, 2 s, H.264 baseline), upload.png (testsrc 320x240).
const FIXTURES = join(import.meta.dirname, 'fixtures');
const CLIENT = '+40722444555';
const UPLOAD_CAP = 100_000;
const STORE_CAP = 200_000;

let system: WebSystem;
let accountId: string;
let threadId: string;
const files: Record<'photo' | 'voice' | 'video' | 'upload', Buffer> = {
  photo: Buffer.alloc(0),
  voice: Buffer.alloc(0),
  video: Buffer.alloc(0),
  upload: Buffer.alloc(0),
};
/** A real (tiny) PDF: file-type recognises it by its header. */
const pdf = Buffer.from(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n' +
    `% ${randomBytes(600).toString('base64')}\ntrailer<</Root 1 0 R>>\n%%EOF\n`,
  'latin1',
);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  // Small caps so a refused upload (413) and a file too big to keep (failed) are cheap to show.
  system = await startWebSystem('media', {
    MEDIA_UPLOAD_MAX_BYTES: String(UPLOAD_CAP),
    MEDIA_MAX_BYTES: String(STORE_CAP),
  });
  for (const [name, file] of [
    ['photo', 'photo.jpg'],
    ['voice', 'voice.ogg'],
    ['video', 'clip.mp4'],
    ['upload', 'upload.png'],
  ] as const) {
    files[name] = await readFile(join(FIXTURES, file));
  }
}, 240_000);

afterAll(async () => {
  await system?.close();
});

/** A contact's message with real bytes, through the emulator's control API. */
async function inbound(media: Record<string, string>, kind: string, data: Buffer) {
  const res = await fetch(`${system.emulatorUrl}/accounts/${accountId}/inbound`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      from: CLIENT,
      name: 'Maria',
      kind,
      media: { ...media, dataBase64: data.toString('base64') },
    }),
  });
  expect(res.status, await res.clone().text()).toBe(202);
}

async function messages() {
  const { api } = system;
  const threads = ok(await api.GET('/api/threads', { params: { query: { accountId } } }));
  const out = [];
  for (const t of threads.items) {
    const page = await api.GET('/api/threads/{threadId}/messages', {
      params: { path: { threadId: t.id }, query: { limit: 50 } },
    });
    out.push(...ok(page).items);
  }
  return out;
}

/** The message whose media reached `status` with these bytes. */
async function mediaMessage(bytes: Buffer, status: 'stored' | 'failed') {
  const want = sha(bytes);
  return eventually(`media ${want.slice(0, 8)} ${status}`, async () =>
    (await messages()).find(
      (m) => m.media?.status === status && (status === 'failed' ? true : m.media.sha256 === want),
    ),
  );
}

/** Scrolls the chat so the element is in the middle of the list, for its screenshot. */
async function showInChat(element: Locator): Promise<void> {
  await element.evaluate((el) => el.scrollIntoView({ block: 'center' }));
}

describe('media in the chat (issue 17)', () => {
  const ids: Record<string, string> = {};

  it('when a contact sends a photo, a voice note, a PDF and a video, then they are stored', async () => {
    accountId = await connectedAccount(system.api, 'WA-MEDIA');
    await inbound({ mimetype: 'image/jpeg', caption: 'Sala de petrecere' }, 'image', files.photo);
    await inbound({ mimetype: 'audio/ogg; codecs=opus' }, 'audio', files.voice);
    await inbound(
      { mimetype: 'application/pdf', fileName: 'Oferta_Elsa_15_august.pdf' },
      'document',
      pdf,
    );
    await inbound({ mimetype: 'video/mp4', caption: 'Intrarea' }, 'video', files.video);
    for (const [name, bytes] of [
      ['photo', files.photo],
      ['voice', files.voice],
      ['pdf', pdf],
      ['video', files.video],
    ] as const) {
      const m = await mediaMessage(bytes, 'stored');
      ids[name] = m.id;
      threadId = m.threadId;
    }
    // Over MEDIA_MAX_BYTES: kept as failed with its reason, shown as such.
    await inbound(
      { mimetype: 'application/pdf', fileName: 'prea_mare.pdf' },
      'document',
      Buffer.concat([pdf, randomBytes(STORE_CAP)]),
    );
    ids.failed = (await mediaMessage(pdf, 'failed')).id;
  }, 240_000);

  it('when the chat is opened, then the photo, voice note, PDF and video show; the photo opens full size, the audio seeks, the PDF downloads its exact bytes', async () => {
    const { page } = system;
    await signInWithToken(system);
    await page.goto(`/chat/${encodeURIComponent(threadId)}`);
    await page.getByRole('heading', { name: /Maria/ }).waitFor();
    const bubble = (name: string) => page.locator(`li.bubble[data-message-id="${ids[name]}"]`);

    // The photo: its thumbnail inline (fetched with the session's token), full size in a dialog.
    const open = bubble('photo').getByRole('button', {
      name: 'Deschide imaginea: Sala de petrecere',
    });
    // A button's content is presentational to assistive technology: the <img> is found by tag.
    const thumb = open.locator('img');
    await thumb.waitFor();
    expect(await thumb.getAttribute('alt')).toBe('Sala de petrecere');
    await expect.poll(() => thumb.evaluate((i: HTMLImageElement) => i.naturalWidth)).toBe(320);
    expect(await thumb.getAttribute('src')).toMatch(/^blob:/);
    await showInChat(open);
    await screenshot(page, 'media-chat-photo', 'desktop');
    await open.click();
    const viewer = page.getByRole('dialog', { name: 'Imagine: Sala de petrecere' });
    const full = viewer.getByRole('img', { name: 'Sala de petrecere' });
    await full.waitFor();
    await expect.poll(() => full.evaluate((i: HTMLImageElement) => i.naturalWidth)).toBe(640);
    await expect
      .poll(() =>
        viewer
          .getByRole('button', { name: 'Închide' })
          .evaluate((b) => b === document.activeElement),
      )
      .toBe(true);
    await screenshot(page, 'media-photo-viewer', 'desktop');
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);

    // The voice note: a player with its length, and seeking moves it.
    const audio = bubble('voice').getByLabel('Audio', { exact: true });
    await audio.waitFor();
    await expect
      .poll(() => audio.evaluate((a: HTMLAudioElement) => a.readyState))
      .toBeGreaterThanOrEqual(1);
    expect(await audio.evaluate((a: HTMLAudioElement) => a.duration)).toBeCloseTo(6, 0);
    const seekedTo = await audio.evaluate(
      (a: HTMLAudioElement) =>
        new Promise<number>((resolve) => {
          a.addEventListener('seeked', () => resolve(a.currentTime), { once: true });
          a.currentTime = 4.5;
        }),
    );
    expect(seekedTo).toBeCloseTo(4.5, 1);
    // The download route answers a Range with 206 and exactly those bytes.
    const ranged = await system.api.GET('/api/threads/{threadId}/messages/{messageId}/media', {
      params: { path: { threadId, messageId: ids.voice! } },
      headers: { range: 'bytes=1000-1999' },
      parseAs: 'arrayBuffer',
    });
    expect(ranged.response.status).toBe(206);
    expect(ranged.response.headers.get('content-range')).toBe(
      `bytes 1000-1999/${files.voice.length}`,
    );
    expect(Buffer.from(ok(ranged)).equals(files.voice.subarray(1000, 2000))).toBe(true);
    await showInChat(audio);
    await screenshot(page, 'media-chat-voice', 'desktop');

    // The PDF: its name and size, and a download of the exact stored bytes.
    const download = bubble('pdf').getByRole('button', {
      name: /^Descarcă Oferta_Elsa_15_august\.pdf \(\d+ (B|KB)\)$/,
    });
    await showInChat(download);
    await screenshot(page, 'media-chat-pdf', 'desktop');
    const [saved] = await Promise.all([page.waitForEvent('download'), download.click()]);
    expect(saved.suggestedFilename()).toBe('Oferta_Elsa_15_august.pdf');
    expect(sha(await readFile(await saved.path()))).toBe(sha(pdf));

    // The video: a player with the clip's frames and length.
    const video = bubble('video').getByLabel('Video: Intrarea');
    await video.waitFor();
    await expect
      .poll(() => video.evaluate((v: HTMLVideoElement) => v.readyState))
      .toBeGreaterThanOrEqual(1);
    expect(await video.evaluate((v: HTMLVideoElement) => v.videoWidth)).toBe(160);
    expect(await video.evaluate((v: HTMLVideoElement) => v.duration)).toBeCloseTo(2, 0);
    await showInChat(video);
    // The caption is the message's text too: said once.
    expect((await bubble('video').innerText()).split('Intrarea')).toHaveLength(2);
    await screenshot(page, 'media-chat-video', 'desktop');

    // Too big to keep: failed, with the reason.
    const failed = bubble('failed');
    await showInChat(failed);
    expect(await failed.locator('figure').getAttribute('data-media-status')).toBe('failed');
    await expect.poll(() => failed.innerText()).toMatch(/Fișierul nu a putut fi păstrat: \S+/);

    const serious = (await axeViolations(page)).filter(isSerious);
    expect(serious, JSON.stringify(serious, null, 2)).toEqual([]);
    expect(system.pageErrors).toEqual([]);
  }, 180_000);

  it('when the operator attaches files, then a refused one says why (415 by the picker, 413 by paste) and a dropped image is sent and reaches the contact byte for byte', async () => {
    const { page } = system;
    const composer = page.locator('form.composer');

    await page.getByLabel('Atașează un fișier').setInputFiles({
      name: 'nota.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('doar text'),
    });
    await composer
      .getByRole('alert')
      .filter({ hasText: 'Acest tip de fișier nu poate fi trimis pe WhatsApp.' })
      .waitFor();
    await composer.getByRole('button', { name: 'Renunță la fișier' }).click();

    const giveFile = (event: 'paste' | 'drop', name: string, bytes: Buffer, type: string) =>
      page.evaluate(
        ({ event, name, base64, type }) => {
          const data = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
          const transfer = new DataTransfer();
          transfer.items.add(new File([data], name, { type }));
          const init = { bubbles: true, cancelable: true };
          if (event === 'paste') {
            document
              .getElementById('compose')!
              .dispatchEvent(new ClipboardEvent('paste', { ...init, clipboardData: transfer }));
          } else {
            const form = document.querySelector('form.composer')!;
            form.dispatchEvent(new DragEvent('dragover', { ...init, dataTransfer: transfer }));
            form.dispatchEvent(new DragEvent('drop', { ...init, dataTransfer: transfer }));
          }
        },
        { event, name, base64: bytes.toString('base64'), type },
      );

    const big = Buffer.concat([files.upload, randomBytes(UPLOAD_CAP)]);
    await giveFile('paste', 'mare.png', big, 'image/png');
    await composer
      .getByRole('alert')
      .filter({ hasText: 'Fișierul este prea mare pentru a fi trimis.' })
      .waitFor();
    await composer.getByRole('button', { name: 'Renunță la fișier' }).click();

    await giveFile('drop', 'sala.png', files.upload, 'image/png');
    await composer.getByText('Încărcat, gata de trimis').waitFor();
    await page.getByPlaceholder('Descriere (opțional)…').fill('Sala, vedere din față');
    await screenshot(page, 'media-composer-attached', 'desktop');
    await composer.getByRole('button', { name: 'Trimite' }).click();
    await expect.poll(() => composer.getByTestId('attachment').count()).toBe(0);

    const sent = await eventually('the sent image in the chat', async () => {
      const items = await messages();
      return items.find((m) => m.direction === 'outbound');
    });
    const bubble = page.locator(`li.bubble[data-message-id="${sent.id}"]`);
    await bubble.waitFor();
    expect(await bubble.innerText()).toContain('Sala, vedere din față');
    // What the contact's phone decrypted: the uploaded bytes exactly.
    const received = await eventually(
      'the contact received the image',
      async () => {
        const res = await fetch(
          `${system.emulatorUrl}/accounts/${accountId}/sent/${sent.id}/media`,
        );
        return res.status === 200 ? Buffer.from(await res.arrayBuffer()) : undefined;
      },
      30_000,
    );
    expect(sha(received)).toBe(sha(files.upload));
    await showInChat(bubble);
    await screenshot(page, 'media-chat-sent-image', 'desktop');
    expect(system.pageErrors).toEqual([]);
  }, 120_000);
});
