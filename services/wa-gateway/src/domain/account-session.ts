import type { AnyMessageContent, proto, WAMessageKey } from '@whiskeysockets/baileys';
import {
  AppError,
  WaRawMessage,
  type AccountStatus,
  type MarkReadCommand,
  type ReuploadMediaCommand,
  type SendMessageCommand,
} from '@wacrm/contracts';
import { Attr, SpanKind, withSpan, type Attributes, type Logger } from '@wacrm/observability';
import { jobIdFrom } from '@wacrm/queue';
import type { AccountStatusWriter } from '../data-access/account-status.js';
import { openSessionAuth, type SessionAuth } from '../data-access/auth-state.session.js';
import type { AuthStateStore } from '../data-access/auth-state.store.js';
import {
  formatWaWebVersion,
  type WaWebVersion,
  type WaWebVersionSource,
} from '../data-access/wa-web-version.js';
import type { MediaReuploadDeps } from '../data-access/media-reupload.js';
import { lidReverseKey } from '../data-access/sent-messages.js';
import { RetryCounts } from './retry-counts.js';
import { InvalidEventError, type InboundPublisher } from '../data-access/inbound-publisher.js';
import { LeaseLostError, type Lease, type LeaseStore } from '../data-access/lease.store.js';
import {
  disconnectCodeOf,
  MediaReuploadRefused,
  type HistoryAnchor,
  type MediaRetryAnswer,
  type WaConnection,
  type WaDriver,
  type WaEvents,
} from '../drivers/driver.port.js';
import { jobsForEvents, mappingJob, type InboundJob } from './inbound-events.js';
import { decideOnClose } from './reconnect-policy.js';

export interface SessionDeps {
  driver: WaDriver;
  store: AuthStateStore;
  leases: LeaseStore;
  publisher: InboundPublisher;
  statusWriter: AccountStatusWriter | null;
  instanceId: string;
  logger: Logger;
  syncFullHistory: boolean;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** The bytes of media sent by URL, fetched under the outbound policy (SSRF-safe, bounded). */
  fetchMedia(url: string): Promise<Buffer>;
  /** The bytes of a file the account uploaded (`POST /api/media`), from object storage. */
  readUpload?(accountId: string, mediaId: string): Promise<Buffer>;
  /**
   * The content of a message this account sent recently, looked up by id in the threads of the
   * given chat addresses (bounded in time; undefined when unknown or too old).
   */
  sentMessage?(
    accountId: string,
    messageId: string,
    chatJids: readonly string[],
  ): Promise<proto.IMessage | undefined>;
  /** Oldest known message per thread, for on-demand history (Baileys needs an anchor). */
  historyAnchors(accountId: string, threads: number): Promise<HistoryAnchor[]>;
  /** The WhatsApp Web version sockets announce; Baileys' bundled one without it. */
  webVersion?: Pick<WaWebVersionSource, 'current' | 'refresh'>;
  /** Asking the phone to upload expired media again (issue 17); without it, every ask is refused. */
  mediaReupload?: MediaReuploadDeps;
}

/** Re-upload requests a session remembers while their answers are due (a silent phone never answers). */
const MAX_REUPLOADS_ASKED = 1_000;

/** A command that cannot run now but may later (socket reconnecting): BullMQ retries it. */
export class NotConnectedError extends Error {
  constructor(accountId: string, status: AccountStatus) {
    super(`account ${accountId} is not connected (status ${status}); will retry`);
    this.name = 'NotConnectedError';
  }
}

/**
 * One owned account: its auth state, its socket, the reconnect policy, and the events it turns
 * into wa-inbound jobs. Lives exactly as long as this instance holds the account's lease.
 */
export class AccountSession {
  status: AccountStatus = 'connecting';
  private auth: SessionAuth | null = null;
  private conn: WaConnection | null = null;
  private attempt = 0;
  private qrShown = false;
  private stopped = false;
  /** Waiting for a human (logged out, QR expired, replaced): no automatic reconnect. */
  private parked = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private statusSeq = 0;
  private lastStatusKey = '';
  private readonly log: Logger;

  constructor(
    readonly accountId: string,
    public lease: Lease,
    private readonly deps: SessionDeps,
    private readonly onLost: (session: AccountSession) => void,
  ) {
    this.log = deps.logger.child({ accountId });
  }

  get connected(): boolean {
    return this.status === 'connected' && this.conn !== null;
  }

  /**
   * Paired means pair-success was received: only then does Baileys hold the signed device
   * identity (`creds.account`). `requestPairingCode` sets `creds.me` and the server's answer sets
   * `creds.registered` before the phone has confirmed anything.
   */
  private get registered(): boolean {
    return this.auth?.state.creds.account !== undefined;
  }

  async start(): Promise<void> {
    this.auth = await openSessionAuth({
      accountId: this.accountId,
      store: this.deps.store,
      token: () => this.lease.token,
      beforeWrite: () => this.fenceCheck(),
      logger: this.log,
      onLeaseLost: () => this.leaseLost(),
      onLidMappings: (mappings) => this.publishMappings(mappings),
    });
    if (this.stopped) return;
    if (this.auth.restored) {
      this.log.info(
        `Session restored from ${this.deps.store.kind === 'firestore' ? 'Firestore' : 'disk'}`,
      );
    }
    if (this.auth.revoked) {
      this.parked = true;
      await this.setStatus('logged_out', { reason: 'logged out; waiting for a connect command' });
      return;
    }
    // A restored session reports `connected` within moments; a fresh one reports its QR. Skipping
    // the intermediate write halves the store round-trips of a mass restart.
    if (!this.auth.restored) await this.setStatus('connecting');
    this.connect();
  }

  private connect(): void {
    if (this.stopped || this.parked || !this.auth) return;
    this.reconnectTimer = null;
    this.qrShown = false;
    this.forgetUnfinishedPairing();
    const version = this.deps.webVersion?.current;
    this.versionInUse = version;
    const auth = this.auth;
    const conn: WaConnection = this.deps.driver.open({
      accountId: this.accountId,
      instanceId: this.deps.instanceId,
      auth: auth.state,
      logger: this.log,
      syncFullHistory: this.deps.syncFullHistory,
      ...(version !== undefined ? { version } : {}),
      getMessage: (key) => this.sentMessage(key),
      msgRetryCounterCache: this.retryCounts,
      onEvents: (events) => this.onEvents(conn, events),
      onMediaRetryAnswer: (answer) => this.onMediaRetryAnswer(answer),
      storeAuthNow: () => auth.storeNow(),
    });
    this.conn = conn;
  }

  /**
   * A pairing code that was never entered leaves `creds.me` set without a pair-success: Baileys
   * would log in with it, WhatsApp would refuse (401) and the account would count as logged out.
   * Until the phone confirms, the next socket registers again and shows a new QR.
   */
  private forgetUnfinishedPairing(): void {
    const creds = this.auth?.state.creds;
    if (!creds || this.registered) return;
    if (creds.me === undefined && creds.pairingCode === undefined && !creds.registered) return;
    delete creds.me;
    delete creds.pairingCode;
    creds.registered = false;
    this.auth?.saveCreds();
  }

  /** The WhatsApp Web version the current socket announced (undefined: Baileys' own). */
  private versionInUse: WaWebVersion | undefined;

  /** Baileys' retry counts per message id: one per session, so a new socket does not reset them. */
  private readonly retryCounts = new RetryCounts();

  /** Answers a contact's retry receipt for a message Baileys no longer holds in memory. */
  private async sentMessage(key: WAMessageKey): Promise<proto.IMessage | undefined> {
    if (!this.deps.sentMessage || !key.id || !key.remoteJid) return undefined;
    const jids = [key.remoteJid, key.remoteJidAlt ?? ''].filter((j) => j !== '');
    // A LID chat: the thread is stored under the phone number Baileys mapped it to.
    const reverse = lidReverseKey(key.remoteJid);
    if (reverse && this.auth) {
      const found = await this.auth.state.keys.get('lid-mapping', [reverse]);
      const pnUser = found[reverse];
      if (typeof pnUser === 'string' && pnUser !== '') jids.push(`${pnUser}@s.whatsapp.net`);
    }
    try {
      return await this.deps.sentMessage(this.accountId, key.id, jids);
    } catch (error) {
      this.log.warn(
        { err: error, messageId: key.id },
        'could not read a sent message for a resend',
      );
      return undefined;
    }
  }

  /** Mappings Baileys stored in its key store, published in the order it stored them. */
  private publishMappings(mappings: Array<{ lid: string; pn: string }>): void {
    const job = mappingJob(this.accountId, mappings);
    this.mappingsPublished = this.mappingsPublished
      .then(() => this.publish(job))
      .catch((error: unknown) =>
        this.log.error({ err: error }, 'could not publish LID mappings from the key store'),
      );
  }

  private mappingsPublished: Promise<void> = Promise.resolve();

  private async publish(job: InboundJob): Promise<void> {
    await this.deps.publisher.publish(
      job.name,
      {
        ...job.payload,
        accountId: this.accountId,
        instanceId: this.deps.instanceId,
        fencingToken: this.lease.token,
        observedAt: new Date().toISOString(),
      },
      job.jobId,
    );
  }

  /**
   * Publishes a job; a message the contract refuses is taken out of its job and kept for
   * inspection, and a job refused as a whole is kept the same way.
   */
  private async publishValid(job: InboundJob): Promise<void> {
    let valid = job;
    if (job.name === 'ingest-messages' || job.name === 'ingest-history') {
      const ok = job.payload.messages.filter((m) => WaRawMessage.safeParse(m).success);
      for (const bad of job.payload.messages.filter((m) => !ok.includes(m))) {
        await this.deps.publisher.reject({
          jobName: job.name,
          jobId: job.jobId,
          accountId: this.accountId,
          reason: WaRawMessage.safeParse(bad).error?.message.slice(0, 2_000) ?? 'invalid',
          payload: JSON.stringify(bad),
        });
      }
      if (ok.length === 0 && job.name === 'ingest-messages') return;
      if (ok.length < job.payload.messages.length) {
        valid = { ...job, payload: { ...job.payload, messages: ok } } as InboundJob;
      }
    }
    try {
      await this.publish(valid);
    } catch (error) {
      if (!(error instanceof InvalidEventError)) throw error;
      await this.deps.publisher.reject({
        jobName: job.name,
        jobId: job.jobId,
        accountId: this.accountId,
        reason: error.issues,
        payload: JSON.stringify(job.payload),
      });
    }
  }

  private async onEvents(conn: WaConnection, events: WaEvents): Promise<void> {
    const creds = events['creds.update'];
    if (creds && this.auth && conn === this.conn) {
      Object.assign(this.auth.state.creds, creds);
      this.auth.saveCreds();
    }
    // Data events are published even from a socket being replaced: they are real messages.
    const jobs = jobsForEvents(this.accountId, events);
    if (jobs.length > 0) {
      // A socket event starts a trace; every wa-inbound job it produces carries it to ingest.
      await withSpan(
        'wa.events',
        { kind: SpanKind.CONSUMER, attributes: eventAttributes(this.accountId, jobs) },
        async () => {
          // Mappings Baileys stored while decrypting these messages go first.
          await this.mappingsPublished;
          // One event the contract refuses is kept aside; the others and the status still go.
          for (const job of jobs) await this.publishValid(job);
        },
      );
    }
    const history = events['messaging-history.set'];
    if (history) {
      this.log.info(
        {
          chats: history.chats.length,
          messages: history.messages.length,
          progress: history.progress ?? null,
          syncType: history.syncType ?? null,
        },
        'messaging-history.set',
      );
    }
    const update = events['connection.update'];
    if (update && conn === this.conn) await this.onConnectionUpdate(update);
  }

  private async onConnectionUpdate(update: NonNullable<WaEvents['connection.update']>) {
    if (update.qr) {
      this.qrShown = true;
      await this.setStatus('qr_ready', { qr: update.qr });
      return;
    }
    if (update.connection === 'open') {
      this.attempt = 0;
      const me = this.auth?.state.creds.me?.id;
      const digits = me ? /^(\d+)/.exec(me)?.[1] : undefined;
      this.log.info({ phone: digits ? `+${digits}` : null }, 'connected');
      await this.setStatus('connected', { phone: digits ? `+${digits}` : null, connected: true });
      return;
    }
    if (update.connection === 'close') {
      this.conn = null;
      if (this.stopped) return;
      const code = disconnectCodeOf(update.lastDisconnect?.error);
      const decision = decideOnClose(
        { code, registered: this.registered, attempt: this.attempt, qrShown: this.qrShown },
        { baseMs: this.deps.backoffBaseMs, maxMs: this.deps.backoffMaxMs, random: Math.random() },
      );
      this.log.info({ code, decision }, 'socket closed');
      switch (decision.action) {
        case 'reconnect':
          this.attempt += 1;
          if (decision.delayMs > 0) {
            await this.setStatus('connecting', { reason: decision.reason, code: code ?? null });
          }
          this.reconnectTimer = setTimeout(() => this.connect(), decision.delayMs);
          return;
        case 'logged-out':
          this.parked = true;
          await this.wipe(true);
          this.log.warn({ code }, 'logged out from the phone; creds wiped, not reconnecting');
          await this.setStatus('logged_out', { reason: decision.reason, code: code ?? null });
          return;
        case 'outdated': {
          const fresh = await this.deps.webVersion?.refresh().catch(() => undefined);
          if (this.stopped) return;
          if (fresh && formatWaWebVersion(fresh) !== formatWaWebVersion(this.versionInUse)) {
            this.log.warn(
              { refused: formatWaWebVersion(this.versionInUse), next: formatWaWebVersion(fresh) },
              'WhatsApp refused our WhatsApp Web version (405); reconnecting with the current one',
            );
            this.attempt += 1;
            this.reconnectTimer = setTimeout(() => this.connect(), 0);
            return;
          }
          this.parked = true;
          this.log.error(
            { code, version: formatWaWebVersion(this.versionInUse) },
            'WhatsApp refused our WhatsApp Web version (405) and no newer one is known; not reconnecting',
          );
          await this.setStatus('outdated_client', { reason: decision.reason, code: code ?? null });
          return;
        }
        case 'needs-qr':
          this.parked = true;
          if (decision.wipeCreds) await this.wipe(false);
          this.log.warn({ code, reason: decision.reason }, 'needs_qr');
          await this.setStatus('needs_qr', { reason: decision.reason, code: code ?? null });
          return;
        case 'stop':
          this.parked = true;
          this.log.error(
            { code, reason: decision.reason },
            'session stopped; send a connect command to resume',
          );
          await this.setStatus('disconnected', { reason: decision.reason, code: code ?? null });
          return;
      }
    }
  }

  private async wipe(revoked: boolean): Promise<void> {
    try {
      await this.auth?.wipe(revoked);
    } catch (error) {
      if (error instanceof LeaseLostError) this.leaseLost();
      else this.log.error({ err: error }, 'could not wipe auth state; will be retried on connect');
    }
  }

  private async setStatus(
    status: AccountStatus,
    extra: {
      qr?: string;
      pairingCode?: string;
      phone?: string | null;
      reason?: string;
      code?: number | null;
      connected?: boolean;
    } = {},
  ): Promise<void> {
    this.status = status;
    const key = `${status}|${extra.qr ?? ''}|${extra.pairingCode ?? ''}|${extra.reason ?? ''}`;
    if (key === this.lastStatusKey) return;
    this.lastStatusKey = key;
    this.statusSeq += 1;
    const now = new Date();
    await this.deps.publisher.publish(
      'update-account',
      {
        accountId: this.accountId,
        instanceId: this.deps.instanceId,
        fencingToken: this.lease.token,
        observedAt: now.toISOString(),
        status,
        qr: extra.qr ?? null,
        pairingCode: extra.pairingCode ?? null,
        phone: extra.phone ?? null,
        disconnectCode: extra.code ?? null,
        reason: extra.reason ?? null,
      },
      jobIdFrom(this.accountId, 'acct', String(this.lease.token), String(this.statusSeq)),
    );
    if (this.deps.statusWriter) {
      try {
        await this.deps.leases.assertHeld(this.lease);
      } catch (error) {
        this.log.warn({ err: error }, 'skipping account status write: lease not confirmed');
        return;
      }
      await this.deps.statusWriter.write({
        accountId: this.accountId,
        status,
        qr: extra.qr ?? null,
        qrExpiresAt: extra.qr ? new Date(now.getTime() + 20_000) : null,
        pairingCode: extra.pairingCode ?? null,
        phone: extra.phone ?? null,
        ownerInstanceId: this.deps.instanceId,
        lastError: extra.reason ?? null,
        connectedAt: extra.connected ? now : null,
      });
    }
  }

  // ---- commands ----

  async send(command: SendMessageCommand): Promise<void> {
    const conn = this.conn;
    if (!conn || this.status !== 'connected')
      throw new NotConnectedError(this.accountId, this.status);
    const quoted = command.replyTo
      ? {
          key: {
            id: command.replyTo.id,
            remoteJid: command.replyTo.remoteJid,
            fromMe: command.replyTo.fromMe,
            ...(command.replyTo.participant ? { participant: command.replyTo.participant } : {}),
          },
          message: { conversation: '' },
        }
      : undefined;
    const media = command.media;
    // Fetched here, under our policy, so Baileys never fetches a URL a caller chose.
    const bytes =
      media === undefined
        ? null
        : media.url !== undefined
          ? await this.deps.fetchMedia(media.url)
          : media.mediaId !== undefined
            ? await this.readUpload(media.mediaId)
            : Buffer.from(media.dataBase64 ?? '', 'base64');
    await conn.sendMessage(recipientJid(command.to), messageContent(command, bytes), {
      messageId: command.waMessageId,
      ...(quoted ? { quoted } : {}),
    });
  }

  private async readUpload(mediaId: string): Promise<Buffer> {
    if (this.deps.readUpload === undefined) {
      throw new AppError('VALIDATION_FAILED', 'this gateway has no object storage for media ids', {
        retryable: false,
      });
    }
    return this.deps.readUpload(this.accountId, mediaId);
  }

  async logout(): Promise<void> {
    if (this.conn && this.registered) {
      await this.conn.logout();
      return;
    }
    this.parked = true;
    void this.conn?.end();
    this.conn = null;
    await this.wipe(true);
    await this.setStatus('logged_out', { reason: 'logout requested' });
  }

  /** Resumes a parked session; after a logout it starts over with fresh creds (a new QR). */
  async resume(): Promise<void> {
    if (this.stopped) return;
    if (this.conn && !this.parked) return;
    if (this.status === 'logged_out' || this.auth?.revoked) {
      await this.auth?.wipe(false);
      if (this.auth) this.auth.revoked = false;
    }
    // Refused as outdated: read the current version again before trying.
    if (this.status === 'outdated_client')
      await this.deps.webVersion?.refresh().catch(() => undefined);
    this.parked = false;
    this.attempt = 0;
    await this.setStatus('connecting');
    this.connect();
  }

  async regenerateQr(): Promise<void> {
    if (this.registered && this.conn) return;
    void this.conn?.end();
    this.conn = null;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    await this.resume();
  }

  async backfill(threads: number, messagesPerThread: number): Promise<void> {
    const conn = this.conn;
    if (!conn || this.status !== 'connected')
      throw new NotConnectedError(this.accountId, this.status);
    const anchors = await this.deps.historyAnchors(this.accountId, threads);
    await conn.fetchHistory({ threads, messagesPerThread, anchors });
  }

  /**
   * Asks the phone to upload a message's expired media again, and completes once the request is
   * sent: the phone's answer (the new direct path, or why it cannot) comes to
   * `onMediaRetryAnswer`, however late, so a silent phone never holds the account's command queue.
   * Retried while the account is not connected; not sent for media no longer pending (the media
   * worker's `MEDIA_REUPLOAD_TIMEOUT_MS` ends the wait with `expired`), nor twice while the
   * phone has not answered.
   */
  async reuploadMedia(command: ReuploadMediaCommand): Promise<void> {
    const reupload = this.deps.mediaReupload;
    if (reupload === undefined) throw new Error('this gateway cannot ask phones to re-upload');
    const found = await reupload.load(this.accountId, command.threadId, command.messageId);
    if (found === null) {
      await this.answerReupload(
        command,
        null,
        'the message or its media key is not stored for this account',
      );
      return;
    }
    if (!found.pending) {
      this.log.info({ messageId: command.messageId }, 'media settled; the phone is not asked');
      return;
    }
    const conn = this.conn;
    if (!conn || this.status !== 'connected') {
      throw new NotConnectedError(this.accountId, this.status);
    }
    if (conn.reuploadMedia === undefined) {
      await this.answerReupload(
        command,
        null,
        `the ${this.deps.driver.name} driver has no phone to ask`,
      );
      return;
    }
    const waId = found.key.id ?? '';
    if (this.reuploadsAsked.has(waId)) {
      this.log.info({ messageId: command.messageId }, 'the phone is already asked for this media');
      return;
    }
    // Recorded before the request leaves: the answer may come after a restart (Redis down: the
    // command fails and is retried, nothing is sent).
    await reupload.asked(this.accountId, waId, command);
    // Known before the request leaves: the answer may come before the send resolves.
    this.reuploadsAsked.set(waId, { command, mediaKey: found.mediaKey });
    while (this.reuploadsAsked.size > MAX_REUPLOADS_ASKED) {
      this.reuploadsAsked.delete(this.reuploadsAsked.keys().next().value!);
    }
    try {
      await conn.reuploadMedia({ key: found.key, mediaKey: found.mediaKey });
    } catch (error) {
      this.reuploadsAsked.delete(waId);
      throw error;
    }
    this.log.info({ messageId: command.messageId }, 'asked the phone to upload the media again');
  }

  /** Re-upload requests sent and not yet answered, by message key id (bounded, oldest dropped). */
  private readonly reuploadsAsked = new Map<
    string,
    { command: ReuploadMediaCommand; mediaKey: Buffer }
  >();

  /** The phone answered a re-upload request: its answer goes to the media worker. */
  private onMediaRetryAnswer(answer: MediaRetryAnswer): void {
    // The same answer again while the first is being handed over hands nothing more.
    if (this.answering.has(answer.messageId)) return;
    this.answering.add(answer.messageId);
    void this.handOver(answer).finally(() => this.answering.delete(answer.messageId));
  }

  /** Answers being handed over, by message key id. */
  private readonly answering = new Set<string>();

  private async handOver(answer: MediaRetryAnswer): Promise<void> {
    const asked = this.reuploadsAsked.get(answer.messageId);
    if (asked !== undefined) {
      this.reuploadsAsked.delete(answer.messageId);
      await this.untilDone('hand the re-upload answer to the media worker', () =>
        this.handOverAnswer(answer, asked.command, asked.mediaKey),
      );
      return;
    }
    // Asked by this account's gateway before (this process restarted, or the account moved):
    // the recorded request says which message, and the message its media key.
    await this.untilDone('hand a re-upload answer asked earlier to the media worker', async () => {
      const reupload = this.deps.mediaReupload;
      const command = await reupload?.askedFor(this.accountId, answer.messageId);
      if (reupload === undefined || command == null) {
        this.log.info(
          { waMessageId: answer.messageId },
          'a re-upload answer nothing here asked for',
        );
        return;
      }
      const found = await reupload.load(this.accountId, command.threadId, command.messageId);
      if (found === null) {
        await this.answerReupload(command, null, 'the message or its media key is not stored');
        await reupload.answered(this.accountId, answer.messageId);
        return;
      }
      await this.handOverAnswer(answer, command, found.mediaKey);
    });
  }

  /** Reads the phone's answer under the media key and hands it to the media worker. */
  private async handOverAnswer(
    answer: MediaRetryAnswer,
    command: ReuploadMediaCommand,
    mediaKey: Buffer,
  ): Promise<void> {
    let directPath: string | null = null;
    let reason: string | null = null;
    try {
      directPath = answer.read(mediaKey).directPath;
      this.log.info({ messageId: command.messageId }, 'the phone uploaded the media again');
    } catch (error) {
      reason =
        error instanceof MediaReuploadRefused
          ? error.message
          : `the phone's answer could not be read (${(error as Error).message})`;
      this.log.warn({ messageId: command.messageId, reason }, 'media lost');
    }
    await this.answerReupload(command, directPath, reason);
    await this.deps.mediaReupload?.answered(this.accountId, answer.messageId);
  }

  /**
   * The phone answers once: a hand-over that fails (Redis down) is tried again, backing off up
   * to 30 s, for as long as the session runs. Stopped first, the recorded request stays and the
   * media worker's deadline ends the wait.
   */
  private async untilDone(what: string, work: () => Promise<void>): Promise<void> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        await work();
        return;
      } catch (error) {
        if (this.stopped) {
          this.log.error({ err: error }, `could not ${what}; the session stopped`);
          return;
        }
        const delayMs = Math.min(30_000, 250 * 2 ** Math.min(attempt, 7));
        this.log.warn({ err: error, attempt, delayMs }, `could not ${what}; trying again`);
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
  }

  private async answerReupload(
    command: ReuploadMediaCommand,
    directPath: string | null,
    reason: string | null,
  ): Promise<void> {
    await this.deps.mediaReupload?.answer({
      accountId: this.accountId,
      threadId: command.threadId,
      messageId: command.messageId,
      directPath,
      reason,
    });
  }

  /**
   * Sends read receipts for received messages (issue 20 item 2); the API decides when, from the
   * account's setting. Retried while the account is not connected.
   */
  async markRead(command: MarkReadCommand): Promise<void> {
    const conn = this.conn;
    if (!conn || this.status !== 'connected') {
      throw new NotConnectedError(this.accountId, this.status);
    }
    const keys = command.keys
      .filter((k) => !k.fromMe)
      .map((k) => ({
        id: k.id,
        remoteJid: k.remoteJid,
        fromMe: false,
        ...(k.participant !== null ? { participant: k.participant } : {}),
      }));
    if (keys.length === 0) return;
    await conn.readMessages(keys);
    this.log.info({ threadId: command.threadId, count: keys.length }, 'read receipts sent');
  }

  async requestPairingCode(phoneE164: string): Promise<void> {
    const conn = this.conn;
    if (!conn || this.registered) throw new NotConnectedError(this.accountId, this.status);
    const code = await conn.requestPairingCode(phoneE164.replace(/^\+/, ''));
    await this.setStatus('qr_ready', { pairingCode: code });
  }

  // ---- ownership ----

  /** Hand-off or shutdown: close the socket, flush auth writes, optionally release the lease. */
  async stop(release: boolean): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const conn = this.conn;
    this.conn = null;
    await conn?.end();
    await this.auth?.flush();
    if (release) await this.deps.leases.release(this.lease).catch(() => undefined);
  }

  /** Whether the last fence check reached Redis (a change is logged once per outage). */
  private fenceReachable = true;

  /** Before each auth-state write: see {@link LeaseStore.assertNotLost}. */
  private async fenceCheck(): Promise<void> {
    const reachable = await this.deps.leases.assertNotLost(this.lease);
    if (reachable === this.fenceReachable) return;
    this.fenceReachable = reachable;
    if (reachable) this.log.info('lease check reaches Redis again');
    else {
      this.log.warn(
        { token: this.lease.token },
        'lease check cannot reach Redis; auth-state writes go on, fenced by the store',
      );
    }
  }

  /** The lease went to someone else: stop at once, write nothing more. */
  leaseLost(): void {
    if (this.stopped) return;
    this.log.warn({ token: this.lease.token }, 'lease lost; closing the socket');
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    // At once: the new owner's socket must not meet this one.
    void this.conn?.end({ drain: false });
    this.conn = null;
    this.onLost(this);
  }
}

/** `+40712345678`, `40712345678` or a JID → the JID to send to. */
export function recipientJid(to: string): string {
  if (to.includes('@')) return to;
  return `${to.replace(/^\+/, '').replace(/\D/g, '')}@s.whatsapp.net`;
}

/** What Baileys sends for a command; `bytes` are the media's, already fetched or decoded. */
export function messageContent(
  command: SendMessageCommand,
  bytes: Buffer | null,
): AnyMessageContent {
  const media = command.media;
  if (!media || bytes === null) return { text: command.text ?? '' };
  const source = bytes;
  const caption = media.caption ?? command.text;
  switch (media.kind) {
    case 'image':
      return { image: source, mimetype: media.mimetype, ...(caption ? { caption } : {}) };
    case 'video':
      return { video: source, mimetype: media.mimetype, ...(caption ? { caption } : {}) };
    case 'audio':
      return { audio: source, mimetype: media.mimetype };
    case 'document':
      return {
        document: source,
        mimetype: media.mimetype,
        fileName: media.fileName ?? 'document',
        ...(caption ? { caption } : {}),
      };
  }
}

/** Span attributes of one batch of socket events: ids and counts, never text or numbers. */
function eventAttributes(accountId: string, jobs: InboundJob[]): Attributes {
  const messageIds = jobs.flatMap((j) =>
    j.name === 'ingest-messages' ? j.payload.messages.map((m) => m.key.id) : [],
  );
  return {
    [Attr.accountId]: accountId,
    [Attr.eventType]: [...new Set(jobs.map((j) => j.name))].join(','),
    [Attr.count]: jobs.length,
    ...(messageIds.length === 1 ? { [Attr.messageId]: messageIds[0] } : {}),
  };
}
