import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import {
  Curve,
  S_WHATSAPP_NET,
  getBinaryNodeChild,
  getBinaryNodeChildBuffer,
  jidDecode,
  proto,
  type BinaryNode,
  type KeyPair,
} from '@whiskeysockets/baileys';
import { WebSocketServer } from 'ws';
import { z } from 'zod';
import type {
  WaEmulatorHistoryBody,
  SimulatorSentMessage,
  WaEmulatorAccountView,
  WaEmulatorInboundBody,
} from '@wacrm/contracts';
import type { Logger } from '@wacrm/observability';
import { buildCertChain } from './cert-chain.js';
import {
  ClientConnection,
  type ConnectionHost,
  type ConnectionLimits,
} from './client-connection.js';
import { handleControlRequest, type FaultKind } from './control-api.routes.js';
import { EmulatorError } from './emulator-error.js';
import { parsePairingQr, signDeviceIdentity, verifyDeviceSignature } from './emulated-phone.js';
import {
  EmulatorStateStore,
  type PendingMessage,
  type StoredAccount,
  type StoredContact,
  type StoredDevice,
  type StoredGroup,
} from './emulator-state.store.js';
import { buildInboundContent } from './inbound-message.builder.js';
import { decryptMedia, encryptMedia, sha256, type EmulatedMediaType } from './media-crypto.js';
import { MediaServer } from './media-server.js';
import { createMediaTlsIdentity, type MediaTlsIdentity } from './media-tls.js';
import {
  linkCodeAdvSecret,
  openKeyBundle,
  unwrapEphemeral,
  wrapEphemeral,
} from './pairing-code.js';
import { padMessage, SignalParty, unpadMessage, type SignalMessageType } from './signal-party.js';
import {
  answerIq,
  IqError,
  iqErrorReply,
  type DirectoryEntry,
  type IqSession,
  type KeyBundle,
} from './iq-responder.js';

export interface WaEmulatorOptions {
  logger: Logger;
  /** Where paired devices and uploaded keys are kept; in memory only when undefined. */
  dataDir?: string;
  /** 0 picks a free port. The emulator listens on 127.0.0.1 only. */
  port?: number;
  /** Largest Noise frame accepted from a client. Default 4 MiB. */
  maxFrameBytes?: number;
  /** Largest inflated size of a compressed frame. Default 8 MiB. */
  maxInflatedBytes?: number;
  /** Largest number of one-time pre-keys a device may keep uploaded. Default 2000. */
  maxPreKeys?: number;
  /** How long the phone waits for a client to answer its iq (pair-success). Default 10 s. */
  requestTimeoutMs?: number;
  /**
   * Delay before a contact's delivery receipt for a message it got. Default 100 ms: a receipt that
   * arrives while Baileys still buffers its own send is folded into that upsert, with no update.
   */
  deliveredMs?: number;
  /** Delay before its read receipt. Default 300 ms. */
  readMs?: number;
  /** Port of the media CDN (HTTPS on 127.0.0.1); 0 picks a free port. */
  mediaPort?: number;
  /** Largest encrypted media file uploaded or served. Default 20 MiB. */
  maxMediaFileBytes?: number;
  /** Largest total of media kept (memory, and `media/` under dataDir). Default 512 MiB. */
  maxStoredMediaBytes?: number;
  /** Largest number of unreceipted messages kept per device. Default 20,000. */
  maxPendingPerDevice?: number;
  /** Messages per downloaded history chunk. Default 100. */
  historyChunkMessages?: number;
  /**
   * Delay between a login's offline backlog and the `<ib><offline>` marker that ends it (Baileys
   * buffers its events until the marker). Default 0; a test may change `offlineMarkerDelayMs`.
   */
  offlineMarkerDelayMs?: number;
}

/** File under dataDir holding the media CDN's certificate (PEM): `NODE_EXTRA_CA_CERTS` for clients. */
export const MEDIA_CA_FILE_NAME = 'wa-emulator-media-ca.pem';
const MEDIA_TLS_FILE_NAME = 'wa-emulator-media-tls.json';
const MediaTlsFile = z.object({ certPem: z.string().max(8192), keyPem: z.string().max(8192) });

/** A pairing-code request a client made: what the phone needs once the user types the code. */
interface LinkCodeRequest {
  connection: ClientConnection;
  phone: string;
  wrappedCompanionEphemeral: Buffer;
  ref: Buffer;
  /** Set while the phone waits for the client's companion_finish; true when the bundle opens. */
  finished?: (bundle: Buffer, companionIdentity: Buffer) => boolean;
}

const DEFAULT_ACCOUNT = 'default';
/** The server part of phone-number JIDs (Baileys' S_WHATSAPP_NET carries a leading '@'). */
const PN_SERVER = 's.whatsapp.net';
const WS_PATHS = new Set(['/ws', '/ws/chat']);
/** Stream errors after which WhatsApp no longer knows the device: its creds never log in again. */
const DEVICE_REMOVING_CODES = new Set([401, 411, 500]);

/**
 * A WhatsApp network for Baileys on loopback: the Noise handshake with a test-root certificate,
 * QR pairing by an emulated phone, registered logins and the queries that follow, and faults on
 * demand. One HTTP server carries both the client WebSocket (`/ws?account=<accountId>`) and the
 * JSON control API.
 */
export class WaEmulator implements ConnectionHost {
  readonly logger: Logger;
  readonly limits: ConnectionLimits;
  readonly serverStatic: KeyPair = Curve.generateKeyPair();
  readonly certChain: Uint8Array;
  private readonly maxPreKeys: number;
  private readonly deliveredMs: number;
  private readonly readMs: number;
  /** See {@link WaEmulatorOptions.offlineMarkerDelayMs}. */
  offlineMarkerDelayMs: number;
  /**
   * The current WhatsApp Web revision (`[2, 3000, revision]`), served as `client_revision` at
   * `GET /sw.js` as web.whatsapp.com does. When set, a client of an older version is refused with
   * `<failure reason="405">`; null (default) accepts every version, and `/sw.js` names the one
   * Baileys bundles. A test may change it.
   */
  currentClientRevision: number | null = null;
  /** What contacts received from each account, decrypted, by message id (bounded). */
  private readonly sentLog = new Map<string, Map<string, SimulatorSentMessage>>();
  private readonly connections = new Set<ClientConnection>();
  /** The logged-in connection of each device, keyed `accountId:deviceId`. */
  private readonly live = new Map<string, ClientConnection>();
  private replacedCount = 0;
  /**
   * Receipts for each device (by liveKey, in memory) that its client has not acked yet
   * (`<ack class="receipt">`), keyed by {@link receiptAckKey}: as WhatsApp does, sent again at
   * every login until acked, so a receipt lost with a dying socket still arrives.
   */
  private readonly unackedReceipts = new Map<string, Map<string, BinaryNode>>();

  /** Open sockets replaced by a newer login of the same device (440), since start. */
  get replacedSockets(): number {
    return this.replacedCount;
  }
  private readonly server: Server;
  private readonly wss: WebSocketServer;
  private port = 0;
  /** Signal participants by key (`phone:<accountId>`, `contact:<phone>`); sessions live here. */
  private readonly parties = new Map<string, SignalParty>();
  /** Receipts the account's clients sent, newest last, bounded. */
  private readonly receiptLog = new Map<string, ReceiptRecord[]>();
  /** Decrypted bytes of media contacts received from each account, by message id (bounded). */
  private readonly sentMedia = new Map<string, Buffer>();
  /**
   * What each account's phone keeps of the media messages it received (in memory, bounded),
   * keyed `accountId:messageId`: the phone can upload an expired file again when a linked
   * device asks (`<receipt type="server-error">`, Baileys' media retry request).
   */
  private readonly phoneMedia = new Map<string, PhoneMedia>();
  private sentMediaBytes = 0;
  /** Inbound messages still to corrupt (fault `corrupt-inbound`), by account. */
  private readonly corruptNext = new Map<string, number>();
  /** Outbound messages the contacts still fail to decrypt (fault `corrupt-outbound`), by account. */
  private readonly corruptOutNext = new Map<string, number>();
  /** Receipts still to lose with their socket (fault `drop-on-receipt`), by account. */
  private readonly dropOnReceipt = new Map<string, number>();
  /** Retry receipts a contact sent for an outbound message (`accountId:id`), bounded. */
  private readonly outboundRetries = new Map<string, number>();
  /** Per device: serialises sends so a backlog goes out in order before new messages. */
  private readonly sendChains = new Map<string, Promise<void>>();
  private readonly linkCodes = new Map<ClientConnection, LinkCodeRequest>();
  /** The connection each queued message last went out on (`accountId:deviceId:id`), bounded. */
  private readonly sentOn = new Map<string, number>();
  private readonly maxPendingPerDevice: number;
  private readonly historyChunkMessages: number;
  private readonly mediaAuth = randomBytes(18).toString('base64url');
  private media!: MediaServer;

  private constructor(
    options: WaEmulatorOptions,
    private readonly store: EmulatorStateStore,
  ) {
    this.logger = options.logger;
    this.limits = {
      maxFrameBytes: options.maxFrameBytes ?? 4 * 1024 * 1024,
      maxInflatedBytes: options.maxInflatedBytes ?? 8 * 1024 * 1024,
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
    };
    this.maxPreKeys = options.maxPreKeys ?? 2000;
    this.deliveredMs = options.deliveredMs ?? 100;
    this.readMs = Math.max(options.readMs ?? 300, this.deliveredMs);
    this.offlineMarkerDelayMs = options.offlineMarkerDelayMs ?? 0;
    this.maxPendingPerDevice = options.maxPendingPerDevice ?? 20_000;
    this.historyChunkMessages = options.historyChunkMessages ?? 100;
    this.certChain = buildCertChain(this.serverStatic);
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.limits.maxFrameBytes + 4096,
    });
    this.server = createServer((req, res) => {
      handleControlRequest(this, req, res).catch((error: unknown) => {
        this.logger.error({ err: error }, 'control request failed');
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
    this.server.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (!WS_PATHS.has(url.pathname)) {
        socket.destroy();
        return;
      }
      const account = url.searchParams.get('account') ?? undefined;
      // A label the client's operator chose (tests: the gateway instance), shown per device.
      const client = url.searchParams.get('client') ?? undefined;
      if (
        (account !== undefined && !/^[\w.-]{1,128}$/.test(account)) ||
        (client !== undefined && !/^[\w.-]{1,128}$/.test(client))
      ) {
        socket.destroy();
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        const connection = new ClientConnection(ws, this, account, client);
        this.connections.add(connection);
      });
    });
  }

  /** Loads the state under `dataDir` and listens on 127.0.0.1. */
  static async start(options: WaEmulatorOptions): Promise<WaEmulator> {
    const store = await EmulatorStateStore.open(options.dataDir);
    const emulator = new WaEmulator(options, store);
    emulator.media = await MediaServer.start(
      {
        logger: options.logger,
        tls: await loadMediaTls(options.dataDir),
        dataDir: options.dataDir,
        maxFileBytes: options.maxMediaFileBytes ?? 20 * 1024 * 1024,
        maxTotalBytes: options.maxStoredMediaBytes ?? 512 * 1024 * 1024,
        uploadAuth: emulator.mediaAuth,
      },
      options.mediaPort ?? 0,
    );
    try {
      await new Promise<void>((resolve, reject) => {
        emulator.server.once('error', reject);
        emulator.server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
      });
    } catch (error) {
      await emulator.media.stop();
      throw error;
    }
    emulator.port = (emulator.server.address() as AddressInfo).port;
    return emulator;
  }

  /** `127.0.0.1:<port>` of the media CDN (HTTPS), as media_conn hands it out. */
  get mediaHost(): string {
    return this.media.host;
  }

  /**
   * The media CDN's self-signed certificate (PEM). A client trusts it for uploads
   * (`fetchAgent: new https.Agent({ ca })`) and downloads (`options.dispatcher`); history chunks
   * are fetched from https://mmg.whatsapp.net, so that dispatcher must also route there.
   */
  get mediaCertPem(): string {
    return this.media.certPem;
  }

  /** The WebSocket URL a Baileys client of `accountId` connects to (`waWebSocketUrl`). */
  socketUrl(accountId: string): string {
    return `ws://127.0.0.1:${this.port}/ws?account=${encodeURIComponent(accountId)}`;
  }

  /** Base URL of the control API. */
  get controlUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    for (const connection of [...this.connections]) connection.drop();
    this.wss.close();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
    await this.media.stop();
    await Promise.allSettled([...this.sendChains.values()]);
    this.store.markChanged();
    await this.store.flush();
  }

  // ---- control operations ----

  /**
   * The account's phone scans `qr`: it signs a device identity for the waiting client, which
   * answers with its own signature; the pairing is stored, then the stream restarts (515).
   */
  async scan(accountId: string, qr: string): Promise<{ jid: string; lid: string }> {
    const parsed = parsePairingQr(qr);
    if (!parsed) throw new EmulatorError(400, 'not a pairing QR');
    const connection = [...this.connections].find(
      (c) =>
        c.open &&
        c.registration?.refs.includes(parsed.ref) &&
        (c.accountHint ?? DEFAULT_ACCOUNT) === accountId,
    );
    if (!connection?.registration) {
      throw new EmulatorError(409, 'no client of this account shows that QR');
    }
    const registration = connection.registration;
    if (
      !parsed.noiseKey.equals(registration.noiseKey) ||
      !parsed.identityKey.equals(registration.identityKey)
    ) {
      throw new EmulatorError(409, 'the QR keys do not match the waiting client');
    }
    return this.completePairing(connection, accountId, parsed.advSecret);
  }

  /**
   * The phone's side of linking, once it knows the adv secret (from the QR, or derived by the
   * pairing-code exchange): it signs a device identity for the waiting client, which answers with
   * its own signature; the pairing is stored, then the stream restarts (515).
   */
  private async completePairing(
    connection: ClientConnection,
    accountId: string,
    advSecret: Buffer,
  ): Promise<{ jid: string; lid: string }> {
    const registration = connection.registration!;
    const account = this.store.ensureAccount(accountId);
    const deviceId = account.nextDeviceId;
    const keyIndex = account.nextKeyIndex;
    const { container, details } = signDeviceIdentity(
      account,
      keyIndex,
      registration.identityKey,
      advSecret,
    );
    const jid = `${account.phone}:${deviceId}@${PN_SERVER}`;
    const lid = `${account.lid}:${deviceId}@lid`;
    let answer: BinaryNode;
    try {
      answer = await connection.request({
        tag: 'iq',
        attrs: { from: S_WHATSAPP_NET, type: 'set', t: unixNow() },
        content: [
          {
            tag: 'pair-success',
            attrs: {},
            content: [
              { tag: 'device-identity', attrs: {}, content: container },
              { tag: 'platform', attrs: { name: 'android' } },
              { tag: 'device', attrs: { jid, lid } },
            ],
          },
        ],
      });
    } catch (error) {
      throw new EmulatorError(504, `the client did not answer pair-success: ${String(error)}`);
    }
    const signed = findChild(findChild(answer, 'pair-device-sign'), 'device-identity');
    const reply = signed?.content;
    if (
      !(reply instanceof Uint8Array) ||
      !verifyDeviceSignature(account, details, registration.identityKey, reply)
    ) {
      connection.failure(401);
      throw new EmulatorError(409, 'the client did not countersign the device identity');
    }
    account.nextDeviceId = deviceId + 1;
    account.nextKeyIndex = keyIndex + 1;
    account.devices[String(deviceId)] = {
      deviceId,
      keyIndex,
      noiseKey: registration.noiseKey.toString('base64'),
      identityKey: registration.identityKey.toString('base64'),
      registrationId: registration.registrationId,
      signedPreKey: {
        id: registration.signedPreKey.id,
        public: registration.signedPreKey.public.toString('base64'),
        signature: registration.signedPreKey.signature.toString('base64'),
      },
      preKeys: {},
      platform: registration.platform,
      pairedAt: new Date().toISOString(),
      historySent: false,
    };
    this.store.markChanged();
    // Durable before the client is told to restart: its next login must find the device.
    await this.store.flush();
    this.logger.info({ accountId, jid }, 'device paired');
    connection.streamError(515);
    return { jid, lid };
  }

  /** Closes the account's connections with a stream error; 401, 411 and 500 forget the device. */
  async disconnect(accountId: string, code: number): Promise<number> {
    const targets = this.accountConnections(accountId);
    if (targets.length === 0) throw new EmulatorError(409, 'account not connected');
    if (DEVICE_REMOVING_CODES.has(code)) {
      const account = this.store.account(accountId);
      for (const connection of targets) {
        if (account && connection.deviceId !== null) {
          delete account.devices[String(connection.deviceId)];
          // A removed device never logs in again: what was queued for it goes with it.
          this.store.dropPending(accountId, connection.deviceId);
        }
      }
      this.store.markChanged();
      await this.store.flush();
    }
    for (const connection of targets) {
      connection.streamError(
        code,
        code === 401
          ? { tag: 'conflict', attrs: { type: 'device_removed' } }
          : code === 440
            ? { tag: 'conflict', attrs: { type: 'replaced' } }
            : undefined,
      );
    }
    return targets.length;
  }

  /**
   * Contacts took every one-time pre-key of the account's devices (a contact's first message
   * consumes one): the next login finds none on the server, and the client uploads new ones.
   * Returns how many were taken.
   */
  async takePreKeys(accountId: string): Promise<number> {
    const account = this.store.account(accountId);
    if (!account) throw new EmulatorError(409, 'account not paired');
    let taken = 0;
    for (const device of Object.values(account.devices)) {
      taken += Object.keys(device.preKeys).length;
      device.preKeys = {};
    }
    this.store.markChanged();
    await this.store.flush();
    return taken;
  }

  /** The ids of the one-time pre-keys the account's devices have uploaded and nobody took. */
  preKeyIds(accountId: string): number[] {
    const account = this.store.account(accountId);
    return Object.values(account?.devices ?? {})
      .flatMap((device) => Object.keys(device.preKeys).map(Number))
      .sort((a, b) => a - b);
  }

  /** Injects a fault on every connection of the account. */
  async fault(accountId: string, fault: FaultKind): Promise<number> {
    if (fault.kind === 'stream-error') return this.disconnect(accountId, fault.code);
    if (fault.kind === 'corrupt-inbound') {
      if (!this.store.account(accountId)) throw new EmulatorError(409, 'account not paired');
      this.corruptInbound(accountId, fault.count);
      return fault.count;
    }
    if (fault.kind === 'drop-on-receipt') {
      if (!this.store.account(accountId)) throw new EmulatorError(409, 'account not paired');
      this.dropOnReceipt.set(accountId, (this.dropOnReceipt.get(accountId) ?? 0) + fault.count);
      return fault.count;
    }
    if (fault.kind === 'corrupt-outbound') {
      if (!this.store.account(accountId)) throw new EmulatorError(409, 'account not paired');
      this.corruptOutNext.set(accountId, (this.corruptOutNext.get(accountId) ?? 0) + fault.count);
      return fault.count;
    }
    const targets = this.accountConnections(accountId);
    if (targets.length === 0) throw new EmulatorError(409, 'account not connected');
    for (const connection of targets) {
      if (fault.kind === 'drop') connection.drop();
      else connection.silenced = true;
    }
    return targets.length;
  }

  refusesClientVersion(version: readonly number[]): boolean {
    if (this.currentClientRevision === null) return false;
    const [primary = 0, secondary = 0, tertiary = 0] = version;
    const current = [2, 3000, this.currentClientRevision];
    const mine = [primary, secondary, tertiary];
    for (let i = 0; i < 3; i++) {
      if (mine[i]! !== current[i]!) return mine[i]! < current[i]!;
    }
    return false;
  }

  accountViews(): WaEmulatorAccountView[] {
    const waiting = new Set(
      [...this.connections]
        .filter((c) => c.open && c.registration)
        .map((c) => c.accountHint ?? DEFAULT_ACCOUNT),
    );
    const views: WaEmulatorAccountView[] = this.store.accounts().map((account) => ({
      accountId: account.accountId,
      phone: account.phone,
      lid: account.lid,
      devices: Object.values(account.devices).map((d) => {
        const live = this.live.get(liveKey(account.accountId, d.deviceId));
        const connected = live?.open === true;
        return {
          deviceId: d.deviceId,
          jid: `${account.phone}:${d.deviceId}@${PN_SERVER}`,
          platform: d.platform,
          preKeys: Object.keys(d.preKeys).length,
          connected,
          client: connected ? (live?.clientLabel ?? null) : null,
        };
      }),
      awaitingScan: waiting.delete(account.accountId),
    }));
    for (const accountId of waiting) {
      views.push({ accountId, phone: '', lid: '', devices: [], awaitingScan: true });
    }
    return views;
  }

  // ---- ConnectionHost ----

  onRegistering(connection: ClientConnection): void {
    connection.logger.debug('unregistered client waiting for a scan');
  }

  onLogin(connection: ClientConnection, phone: string, deviceId: number): void {
    const account = this.store.accountByPhone(phone);
    const device = account?.devices[String(deviceId)];
    if (!account || !device || device.noiseKey !== connection.clientStatic?.toString('base64')) {
      connection.logger.info({ phone, deviceId }, 'login refused: device not paired');
      connection.failure(401);
      return;
    }
    if (connection.accountHint !== undefined && connection.accountHint !== account.accountId) {
      connection.logger.warn(
        { accountId: account.accountId },
        'login for another account than the URL names; the login decides',
      );
    }
    connection.accountId = account.accountId;
    connection.deviceId = deviceId;
    const key = liveKey(account.accountId, deviceId);
    const previous = this.live.get(key);
    this.live.set(key, connection);
    if (previous && previous !== connection && previous.open) {
      // One session per device: the older socket is replaced, as WhatsApp does (440).
      this.replacedCount += 1;
      previous.streamError(440, { tag: 'conflict', attrs: { type: 'replaced' } });
    }
    connection.sendNode({
      tag: 'success',
      attrs: {
        t: unixNow(),
        props: '1',
        abprops: '1',
        location: 'emulator',
        creation: String(Math.floor(Date.parse(device.pairedAt) / 1000)),
        lid: `${account.lid}:${deviceId}@lid`,
      },
    });
    connection.logger.info({ accountId: account.accountId, deviceId }, 'device logged in');
    // What arrived while the device was away (and what it never receipted), then the marker
    // that tells the client the offline backlog is complete.
    this.enqueueSend(account.accountId, deviceId, async () => {
      const backlog = [...this.store.pending(account.accountId, deviceId)];
      for (const entry of backlog) {
        if (!connection.open) return;
        await this.deliver(connection, account, device, entry, true);
      }
      // Sessions and sender keys advanced: durable, so a restart continues them.
      this.saveSoon();
      // Kept until the client acks them: sent again at each login until then.
      const receipts = this.unackedReceipts.get(liveKey(account.accountId, deviceId));
      for (const receipt of receipts?.values() ?? []) {
        if (!connection.open) return;
        connection.sendNode({ ...receipt, attrs: { ...receipt.attrs, offline: '1' } });
      }
      if (this.offlineMarkerDelayMs > 0) {
        await new Promise((r) => setTimeout(r, this.offlineMarkerDelayMs));
        if (!connection.open) return;
      }
      connection.sendNode({
        tag: 'ib',
        attrs: { from: S_WHATSAPP_NET },
        content: [{ tag: 'offline', attrs: { count: String(backlog.length) } }],
      });
      if (backlog.length > 0) {
        connection.logger.info({ count: backlog.length }, 'offline backlog delivered');
      }
    });
  }

  onStanza(connection: ClientConnection, node: BinaryNode): void {
    if (node.tag === 'ack') {
      if (node.attrs.class === 'receipt' && connection.accountId !== null) {
        const key = liveKey(connection.accountId, connection.deviceId ?? 0);
        this.unackedReceipts
          .get(key)
          ?.delete(receiptAckKey({ ...node.attrs, from: node.attrs.to }));
      }
      return;
    }
    if (node.tag === 'receipt') {
      this.recordReceipt(connection, node);
      return;
    }
    if (node.tag === 'message') {
      this.onOutboundMessage(connection, node).catch((error: unknown) =>
        connection.logger.warn({ err: error }, 'outbound message not delivered to its contact'),
      );
      return;
    }
    if (node.tag !== 'iq') {
      connection.logger.trace({ tag: node.tag }, 'stanza not modelled; ignored');
      return;
    }
    const linkCode = getBinaryNodeChild(node, 'link_code_companion_reg');
    if (linkCode && node.attrs.xmlns === 'md' && connection.registration) {
      this.onLinkCodeIq(connection, node, linkCode);
      return;
    }
    const session = this.iqSession(connection);
    if (!session) {
      connection.sendNode(iqErrorReply(node, new IqError(401, 'not-authorized')));
      return;
    }
    try {
      connection.sendNode(answerIq(node, session));
    } catch (error) {
      if (!(error instanceof IqError)) throw error;
      connection.sendNode(iqErrorReply(node, error));
      return;
    }
    const uploaded = node.attrs.xmlns === 'encrypt' && node.attrs.type === 'set';
    if (uploaded && !session.device.historySent) {
      // Like a phone after linking: the initial history bootstrap, once the keys to encrypt it exist.
      this.sendHistoryBootstrap(connection, session.account, session.device).catch(
        (error: unknown) => connection.logger.error({ err: error }, 'history bootstrap failed'),
      );
    }
  }

  onClosed(connection: ClientConnection): void {
    this.connections.delete(connection);
    this.linkCodes.delete(connection);
    if (connection.accountId !== null && connection.deviceId !== null) {
      const key = liveKey(connection.accountId, connection.deviceId);
      if (this.live.get(key) === connection) this.live.delete(key);
    }
  }

  private iqSession(connection: ClientConnection): IqSession | undefined {
    if (connection.accountId === null || connection.deviceId === null) return undefined;
    const account = this.store.account(connection.accountId);
    const device = account?.devices[String(connection.deviceId)];
    if (!account || !device) return undefined;
    const changed = () => {
      this.store.markChanged();
      this.store.flush().catch((error: unknown) => {
        this.logger.error({ err: error }, 'saving emulator state failed');
      });
    };
    return {
      account,
      device,
      maxPreKeys: this.maxPreKeys,
      mediaHost: this.media.host,
      mediaAuth: this.mediaAuth,
      groupNode: (jid) => {
        const group = this.store.group(jid);
        return group?.accounts.includes(account.accountId) ? this.groupNode(group) : undefined;
      },
      groupNodes: () =>
        this.store
          .groups()
          .filter((g) => g.accounts.includes(account.accountId))
          .slice(0, 1024)
          .map((g) => this.groupNode(g)),
      lookup: (jid) => this.lookup(jid),
      takeBundle: (user, server, deviceId) => this.takeBundle(user, server, deviceId, changed),
      changed,
      removeDevice: () => {
        delete account.devices[String(connection.deviceId)];
        if (connection.deviceId !== null)
          this.store.dropPending(account.accountId, connection.deviceId);
        changed();
      },
    };
  }

  private findAccount(user: string, server: string): StoredAccount | undefined {
    if (server === 'lid') return this.store.accounts().find((a) => a.lid === user);
    if (server === PN_SERVER) return this.store.accountByPhone(user);
    return undefined;
  }

  private lookup(jid: string): DirectoryEntry | undefined {
    const decoded = jidDecode(jid);
    if (!decoded) return undefined;
    const account = this.findAccount(decoded.user, decoded.server);
    if (account) {
      return {
        phone: account.phone,
        lid: account.lid,
        devices: [
          { id: 0, keyIndex: 0 },
          ...Object.values(account.devices).map((d) => ({ id: d.deviceId, keyIndex: d.keyIndex })),
        ],
      };
    }
    const contact = this.findContact(decoded.user, decoded.server);
    if (!contact) return undefined;
    return { phone: contact.phone, lid: contact.lid, devices: [{ id: 0, keyIndex: 0 }] };
  }

  private findContact(user: string, server: string): StoredContact | undefined {
    if (server === 'lid') return this.store.contactByLid(user);
    // Every phone number is on this network: a contact (identity, LID) is made at first sight, so
    // an account can write first to a number that never wrote to it.
    if (server === PN_SERVER) {
      return /^\d{6,15}$/.test(user) ? this.store.ensureContact(user, undefined) : undefined;
    }
    return undefined;
  }

  private takeBundle(
    user: string,
    server: string,
    deviceId: number,
    changed: () => void,
  ): KeyBundle | undefined {
    const account = this.findAccount(user, server);
    if (!account) {
      const contact = this.findContact(user, server);
      return contact && deviceId === 0 ? this.contactParty(contact).bundle() : undefined;
    }
    if (deviceId === 0) return this.phoneParty(account).bundle();
    const device = account.devices[String(deviceId)];
    if (!device) return undefined;
    const [preKeyId] = Object.keys(device.preKeys)
      .map(Number)
      .sort((a, b) => a - b);
    let preKey: KeyBundle['preKey'];
    if (preKeyId !== undefined) {
      preKey = { id: preKeyId, public: Buffer.from(device.preKeys[String(preKeyId)]!, 'base64') };
      delete device.preKeys[String(preKeyId)];
      changed();
    }
    return {
      registrationId: device.registrationId,
      identityKey: Buffer.from(device.identityKey, 'base64'),
      signedPreKey: {
        id: device.signedPreKey.id,
        public: Buffer.from(device.signedPreKey.public, 'base64'),
        signature: Buffer.from(device.signedPreKey.signature, 'base64'),
      },
      ...(preKey ? { preKey } : {}),
    };
  }

  private phoneParty(account: StoredAccount): SignalParty {
    const key = `phone:${account.accountId}`;
    let party = this.parties.get(key);
    if (!party) {
      if (!account.phoneSignal) {
        account.phoneSignal = SignalParty.create().stored;
        this.saveSoon();
      }
      party = SignalParty.restore(account.phoneSignal);
      party.onChange = () => this.store.markChanged();
      this.parties.set(key, party);
    }
    return party;
  }

  private contactParty(contact: StoredContact): SignalParty {
    const key = `contact:${contact.phone}`;
    let party = this.parties.get(key);
    if (!party) {
      party = SignalParty.restore(contact.signal);
      party.onChange = () => this.store.markChanged();
      this.parties.set(key, party);
    }
    return party;
  }

  private saveSoon(): void {
    this.store.markChanged();
    this.store.flush().catch((error: unknown) => {
      this.logger.error({ err: error }, 'saving emulator state failed');
    });
  }

  /** Encrypts `message` from `party` for one companion device and sends it as a `<message>`. */
  private async sendEncrypted(
    connection: ClientConnection,
    party: SignalParty,
    account: StoredAccount,
    device: StoredDevice,
    attrs: Record<string, string>,
    message: proto.IMessage,
  ): Promise<void> {
    const plaintext = padMessage(proto.Message.encode(message).finish());
    const { type, ciphertext } = await party.encrypt(account.lid, device.deviceId, plaintext, () =>
      this.takeBundle(account.lid, 'lid', device.deviceId, () => this.saveSoon()),
    );
    connection.sendNode({
      tag: 'message',
      attrs,
      content: [{ tag: 'enc', attrs: { v: '2', type }, content: ciphertext }],
    });
  }

  private async sendHistoryBootstrap(
    connection: ClientConnection,
    account: StoredAccount,
    device: StoredDevice,
  ): Promise<void> {
    device.historySent = true;
    this.saveSoon();
    const syncType = proto.HistorySync.HistorySyncType.INITIAL_BOOTSTRAP;
    const history = proto.HistorySync.encode({
      syncType,
      conversations: [],
      chunkOrder: 1,
      progress: 100,
    }).finish();
    await this.sendEncrypted(
      connection,
      this.phoneParty(account),
      account,
      device,
      {
        from: `${account.phone}@${PN_SERVER}`,
        id: messageId(),
        t: unixNow(),
        type: 'text',
        category: 'peer',
      },
      {
        protocolMessage: {
          type: proto.Message.ProtocolMessage.Type.HISTORY_SYNC_NOTIFICATION,
          historySyncNotification: {
            syncType,
            chunkOrder: 1,
            progress: 100,
            initialHistBootstrapInlinePayload: deflateSync(history),
          },
        },
      },
    );
  }

  /**
   * A contact sends a message to the account (or to a group the account is in): built as a real
   * `proto.Message` (media encrypted and put on the CDN), queued durably for every paired device of
   * the account, and sent at once to those connected; the others get it at their next login. Each
   * copy is kept until that device receipts it.
   */
  async inbound(
    accountId: string,
    input: InboundInput,
  ): Promise<{ messageId: string; devices: number; queued: number }> {
    const account = this.store.account(accountId);
    const devices = account ? Object.values(account.devices) : [];
    if (!account || devices.length === 0) {
      throw new EmulatorError(409, 'account not paired: scan its QR first');
    }
    for (const device of devices) {
      if (this.store.pending(accountId, device.deviceId).length >= this.maxPendingPerDevice) {
        throw new EmulatorError(507, 'too many undelivered messages for a device of this account');
      }
    }
    const body: WaEmulatorInboundBody = { ...input, kind: input.kind ?? 'text' };
    const phone = body.from.replace(/^\+/, '');
    const contact = this.store.ensureContact(phone, body.name);
    const group = body.groupId !== undefined ? `${body.groupId}@g.us` : undefined;
    if (group !== undefined) {
      const known = this.store.group(group);
      if (known && !known.contacts.includes(phone) && known.contacts.length >= MAX_GROUP_CONTACTS) {
        throw new EmulatorError(409, 'the group is full');
      }
      const stored = this.store.ensureGroup(group, accountId);
      if (!stored.contacts.includes(phone)) stored.contacts.push(phone);
    }
    const id = body.messageId ?? messageId();
    const message = await buildInboundContent(body, {
      chatJid: group ?? `${account.lid}@lid`,
      accountJid: `${account.lid}@lid`,
      isGroup: group !== undefined,
      targetFromAccount:
        body.targetMessageId !== undefined &&
        (this.sentLog.get(accountId)?.has(body.targetMessageId) ?? false),
      storeMedia: (file) => this.media.put(file),
    });
    this.rememberPhoneMedia(accountId, id, message);
    const entry: PendingMessage = {
      id,
      from: contact.phone,
      ...(group !== undefined ? { group } : {}),
      t: Math.floor(Date.now() / 1000),
      type: stanzaType(message),
      message: Buffer.from(proto.Message.encode(message).finish()).toString('base64'),
      sends: 0,
    };
    this.queueForDevices(account, entry);
    // Durable before the caller hears "accepted": a restart now still delivers it.
    await this.store.flush();
    let live = 0;
    for (const device of devices) {
      if (this.live.get(liveKey(accountId, device.deviceId))?.open) live += 1;
      this.sendPendingSoon(account, device, entry.id);
    }
    return { messageId: id, devices: live, queued: devices.length - live };
  }

  /** The account's phone sends `threads` chats × `messagesPerThread` messages as history chunks. */
  async history(
    accountId: string,
    input: Pick<WaEmulatorHistoryBody, 'threads' | 'messagesPerThread'> &
      Partial<Pick<WaEmulatorHistoryBody, 'syncType'>>,
  ): Promise<{ chunks: number; messages: number; messageIds: string[] }> {
    const account = this.store.account(accountId);
    const devices = account ? Object.values(account.devices) : [];
    if (!account || devices.length === 0) {
      throw new EmulatorError(409, 'account not paired: scan its QR first');
    }
    const total = input.threads * input.messagesPerThread;
    if (total > 100_000) throw new EmulatorError(413, 'at most 100,000 history messages at once');
    const now = Math.floor(Date.now() / 1000);
    const threads = Array.from({ length: input.threads }, (_, t) => {
      const contact = this.store.ensureContact(historyPhone(accountId, t), `Client ${t + 1}`);
      return { contact, index: t };
    });
    // Messages oldest first, grouped into chunks of at most historyChunkMessages.
    type Item = { contact: StoredContact; thread: number; message: proto.IWebMessageInfo };
    const items: Item[] = [];
    for (const { contact, index } of threads) {
      for (let i = 0; i < input.messagesPerThread; i++) {
        const fromMe = i % 3 === 2;
        items.push({
          contact,
          thread: index,
          message: {
            key: {
              remoteJid: `${contact.lid}@lid`,
              fromMe,
              id: historyMessageId(accountId, contact.phone, i),
            },
            message: {
              conversation: fromMe
                ? `Mesaj trimis ${i} către ${contact.phone}`
                : `Bună ziua! Mesajul ${i} din istoric`,
            },
            messageTimestamp: now - (input.messagesPerThread - i) * 60 - index,
            status: fromMe
              ? proto.WebMessageInfo.Status.READ
              : proto.WebMessageInfo.Status.DELIVERY_ACK,
          },
        });
      }
    }
    const chunks: Item[][] = [];
    for (let i = 0; i < items.length; i += this.historyChunkMessages) {
      chunks.push(items.slice(i, i + this.historyChunkMessages));
    }
    const entries: PendingMessage[] = [];
    for (const [index, chunk] of chunks.entries()) {
      const byThread = new Map<number, Item[]>();
      for (const item of chunk)
        byThread.set(item.thread, [...(byThread.get(item.thread) ?? []), item]);
      const contacts = [...new Set(chunk.map((item) => item.contact))];
      const progress = Math.round(((index + 1) / chunks.length) * 100);
      const syncType = proto.HistorySync.HistorySyncType[input.syncType ?? 'RECENT'];
      const history = proto.HistorySync.encode({
        syncType,
        chunkOrder: index + 1,
        progress,
        conversations: [...byThread.values()].map((list) => {
          const contact = list[0]!.contact;
          return {
            id: `${contact.lid}@lid`,
            pnJid: `${contact.phone}@${PN_SERVER}`,
            lidJid: `${contact.lid}@lid`,
            name: contact.name,
            conversationTimestamp: Number(list.at(-1)!.message.messageTimestamp),
            unreadCount: 0,
            messages: list.map((item, order) => ({ message: item.message, msgOrderId: order + 1 })),
          };
        }),
        phoneNumberToLidMappings: contacts.map((c) => ({
          pnJid: `${c.phone}@${PN_SERVER}`,
          lidJid: `${c.lid}@lid`,
        })),
      }).finish();
      const encrypted = encryptMedia(deflateSync(history), 'md-msg-hist');
      const stored = await this.media.put(encrypted.file);
      const notification: proto.IMessage = {
        protocolMessage: {
          type: proto.Message.ProtocolMessage.Type.HISTORY_SYNC_NOTIFICATION,
          historySyncNotification: {
            fileSha256: encrypted.fileSha256,
            fileLength: encrypted.fileLength,
            mediaKey: encrypted.mediaKey,
            fileEncSha256: encrypted.fileEncSha256,
            directPath: stored.directPath,
            syncType,
            chunkOrder: index + 1,
            progress,
          },
        },
      };
      entries.push({
        id: messageId(),
        from: PHONE_SENDER,
        t: now,
        type: 'text',
        message: Buffer.from(proto.Message.encode(notification).finish()).toString('base64'),
        sends: 0,
      });
    }
    for (const entry of entries) this.queueForDevices(account, entry);
    await this.store.flush();
    for (const device of devices) {
      for (const entry of entries) this.sendPendingSoon(account, device, entry.id);
    }
    return {
      chunks: entries.length,
      messages: items.length,
      messageIds: items.map((item) => item.message.key!.id!),
    };
  }

  private rememberPhoneMedia(accountId: string, id: string, message: proto.IMessage): void {
    const content =
      message.imageMessage ??
      message.videoMessage ??
      message.audioMessage ??
      message.documentMessage ??
      message.stickerMessage;
    if (!content?.mediaKey || !content.directPath) return;
    const key = `${accountId}:${id}`;
    this.phoneMedia.delete(key);
    this.phoneMedia.set(key, {
      mediaKey: Buffer.from(content.mediaKey),
      directPath: content.directPath,
      lost: false,
      silent: false,
    });
    while (this.phoneMedia.size > MAX_PHONE_MEDIA) {
      this.phoneMedia.delete(this.phoneMedia.keys().next().value!);
    }
  }

  /**
   * The CDN drops the file of a message the account received (410 from then on); with
   * `phoneHasIt: false` the account's phone has lost its copy too; with `phoneAnswers: false` it
   * never answers a re-upload request for it.
   */
  async expireMedia(
    accountId: string,
    input: { messageId: string; phoneHasIt: boolean; phoneAnswers?: boolean },
  ): Promise<{ directPath: string }> {
    const media = this.phoneMedia.get(`${accountId}:${input.messageId}`);
    if (!media) throw new EmulatorError(404, 'no media message with this id for this account');
    if (!(await this.media.expire(media.directPath))) {
      throw new EmulatorError(404, 'the file is not on the CDN');
    }
    media.lost = !input.phoneHasIt;
    media.silent = input.phoneAnswers === false;
    return { directPath: media.directPath };
  }

  /**
   * A linked device asks the phone to upload a message's media again (Baileys' media retry
   * request: `<receipt type="server-error">` with the message id encrypted under the media key).
   * The phone answers with a `mediaretry` notification: the new direct path (SUCCESS), or
   * NOT_FOUND when it no longer has the file, or DECRYPTION_ERROR for a request it cannot read.
   */
  private async answerMediaRetry(connection: ClientConnection, node: BinaryNode): Promise<void> {
    const accountId = connection.accountId;
    const id = node.attrs.id;
    const rmr = findChild(node, 'rmr');
    if (accountId === null || id === undefined || rmr === undefined) return;
    const media = this.phoneMedia.get(`${accountId}:${id}`);
    if (media?.silent === true) {
      connection.logger.info({ messageId: id }, 'media retry request left unanswered (fault)');
      return;
    }
    const rmrNode: BinaryNode = {
      tag: 'rmr',
      attrs: {
        jid: rmr.attrs.jid ?? '',
        from_me: rmr.attrs.from_me ?? 'false',
        ...(rmr.attrs.participant ? { participant: rmr.attrs.participant } : {}),
      },
    };
    const account = this.store.account(accountId);
    const attrs = {
      from: account ? `${account.phone}@${PN_SERVER}` : S_WHATSAPP_NET,
      type: 'mediaretry',
      id,
      t: unixNow(),
    };
    if (!media) {
      // Not a message this phone received: an error node, as WhatsApp answers unknown ids.
      const code = String(proto.MediaRetryNotification.ResultType.NOT_FOUND);
      connection.sendNode({
        tag: 'notification',
        attrs,
        content: [{ tag: 'error', attrs: { code } }, rmrNode],
      });
      return;
    }
    const retryKey = Buffer.from(
      hkdfSync('sha256', media.mediaKey, Buffer.alloc(0), 'WhatsApp Media Retry Notification', 32),
    );
    const Result = proto.MediaRetryNotification.ResultType;
    let result = Result.SUCCESS;
    let directPath: string | undefined;
    const encrypt = findChild(node, 'encrypt');
    const encP = getBinaryNodeChildBuffer(encrypt, 'enc_p');
    const encIv = getBinaryNodeChildBuffer(encrypt, 'enc_iv');
    try {
      // The request is the message id under the retry key: only a holder of the media key asks.
      const request = proto.ServerErrorReceipt.decode(
        gcmOpen(Buffer.from(encP ?? []), retryKey, Buffer.from(encIv ?? []), id),
      );
      if (request.stanzaId !== id) throw new Error('the request names another message');
    } catch {
      result = Result.DECRYPTION_ERROR;
    }
    if (result === Result.SUCCESS) {
      const uploaded = media.lost ? undefined : await this.media.reupload(media.directPath);
      if (uploaded) {
        media.directPath = uploaded.directPath;
        directPath = uploaded.directPath;
      } else {
        result = Result.NOT_FOUND;
      }
    }
    const plaintext = proto.MediaRetryNotification.encode({
      stanzaId: id,
      result,
      ...(directPath !== undefined ? { directPath } : {}),
    }).finish();
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', retryKey, iv);
    cipher.setAAD(Buffer.from(id));
    const ciphertext = Buffer.concat([
      cipher.update(plaintext),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    connection.logger.info(
      { messageId: id, result: Result[result] },
      'media retry request answered by the phone',
    );
    if (!connection.open) return;
    connection.sendNode({
      tag: 'notification',
      attrs,
      content: [
        {
          tag: 'encrypt',
          attrs: {},
          content: [
            { tag: 'enc_p', attrs: {}, content: ciphertext },
            { tag: 'enc_iv', attrs: {}, content: iv },
          ],
        },
        rmrNode,
      ],
    });
  }

  /** Fault `corrupt-inbound`: the next `count` inbound contact messages arrive undecryptable. */
  corruptInbound(accountId: string, count: number): void {
    this.corruptNext.set(accountId, (this.corruptNext.get(accountId) ?? 0) + count);
  }

  /**
   * The contact cannot decrypt a message the account sent and asks for it again: it drops its
   * session with the sending device and sends `<receipt type="retry">`; Baileys resends the same id
   * (from its cache, or through `getMessage`), and the contact counts the resend.
   */
  retryRequest(accountId: string, id: string): Promise<{ devices: number }> {
    const sent = this.sentLog.get(accountId)?.get(id);
    const account = this.store.account(accountId);
    if (!sent || !account)
      throw new EmulatorError(404, 'no message with this id reached a contact');
    const target = jidDecode(sent.to);
    const contact = target ? this.findContact(target.user, target.server) : undefined;
    if (!contact) throw new EmulatorError(404, 'the message was not sent to an emulated contact');
    const connections = this.accountConnections(accountId).filter((c) => c.deviceId !== null);
    if (connections.length === 0)
      throw new EmulatorError(409, 'no device of the account is connected');
    for (const connection of connections) this.askRetry(connection, account, contact, id, 1);
    return Promise.resolve({ devices: connections.length });
  }

  /**
   * The contact asks the sending device for a message again, as a phone does when it cannot
   * decrypt: it drops its session with that device and sends `<receipt type="retry">` with its
   * registration id and the retry count; the device starts a new session and resends the same id.
   */
  private askRetry(
    connection: ClientConnection,
    account: StoredAccount,
    contact: StoredContact,
    id: string,
    count: number,
  ): void {
    const party = this.contactParty(contact);
    party.resetSession(account.lid, connection.deviceId!);
    connection.sendNode({
      tag: 'receipt',
      attrs: { id, from: `${contact.lid}@lid`, type: 'retry', t: unixNow() },
      content: [
        { tag: 'retry', attrs: { count: String(count), id, t: unixNow(), v: '1' } },
        { tag: 'registration', attrs: {}, content: uint32(party.stored.registrationId) },
      ],
    });
    this.saveSoon();
  }

  /**
   * Pairing by code: the phone's user types the code the client shows. The phone unwraps the
   * client's ephemeral key with it, answers with its own, checks the client's key bundle, derives
   * the adv secret both sides share, then links the device as a QR scan does.
   */
  async pairingCode(accountId: string, code: string): Promise<{ jid: string; lid: string }> {
    const request = [...this.linkCodes.values()].find(
      (r) => r.connection.open && (r.connection.accountHint ?? DEFAULT_ACCOUNT) === accountId,
    );
    if (!request || !request.connection.registration) {
      throw new EmulatorError(409, 'no client of this account asked for a pairing code');
    }
    const existing = this.store.account(accountId);
    if (existing && existing.phone !== request.phone) {
      throw new EmulatorError(409, 'the client asked for a code for another phone number');
    }
    if (!existing && this.store.numberTaken(request.phone)) {
      throw new EmulatorError(409, 'that phone number belongs to another account or contact');
    }
    if (request.finished) throw new EmulatorError(409, 'a code for this client is being checked');
    const account = existing ?? this.store.ensureAccount(accountId, request.phone);
    const phone = this.phoneParty(account).stored;
    const companionEphemeral = await unwrapEphemeral(request.wrappedCompanionEphemeral, code);
    const ephemeral = Curve.generateKeyPair();
    const phoneIdentity = Buffer.from(phone.identity.public, 'base64');
    const registration = request.connection.registration;
    const advSecret = new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new EmulatorError(504, 'the client did not finish the code pairing')),
        this.limits.requestTimeoutMs,
      );
      timer.unref();
      // Checked while the client waits for the answer to companion_finish: a wrong code gives
      // another shared secret, the bundle does not open, and the client hears an error.
      request.finished = (bundle, companionIdentity) => {
        clearTimeout(timer);
        const shared = Curve.sharedKey(ephemeral.private, companionEphemeral);
        let opened: ReturnType<typeof openKeyBundle>;
        try {
          opened = openKeyBundle(bundle, shared);
        } catch {
          reject(new EmulatorError(409, 'the code does not match the one the client shows'));
          return false;
        }
        if (
          !opened.companionIdentity.equals(registration.identityKey) ||
          !opened.companionIdentity.equals(companionIdentity) ||
          !opened.primaryIdentity.equals(phoneIdentity)
        ) {
          reject(new EmulatorError(409, 'the key bundle names other identities'));
          return false;
        }
        const identityShared = Curve.sharedKey(
          Buffer.from(phone.identity.private, 'base64'),
          opened.companionIdentity,
        );
        resolve(linkCodeAdvSecret(shared, identityShared, opened.random));
        return true;
      };
    });
    request.connection.sendNode({
      tag: 'notification',
      attrs: {
        from: S_WHATSAPP_NET,
        type: 'link_code_companion_reg',
        id: messageId(),
        t: unixNow(),
      },
      content: [
        {
          tag: 'link_code_companion_reg',
          attrs: {},
          content: [
            { tag: 'link_code_pairing_ref', attrs: {}, content: request.ref },
            { tag: 'primary_identity_pub', attrs: {}, content: phoneIdentity },
            {
              tag: 'link_code_pairing_wrapped_primary_ephemeral_pub',
              attrs: {},
              content: await wrapEphemeral(ephemeral.public, code),
            },
          ],
        },
      ],
    });
    const secret = await advSecret.finally(() => {
      request.finished = undefined;
    });
    this.linkCodes.delete(request.connection);
    return this.completePairing(request.connection, accountId, secret);
  }

  private onLinkCodeIq(connection: ClientConnection, node: BinaryNode, reg: BinaryNode): void {
    const reply = (error?: IqError) =>
      connection.sendNode(
        error
          ? iqErrorReply(node, error)
          : { tag: 'iq', attrs: { from: S_WHATSAPP_NET, type: 'result', id: node.attrs.id ?? '' } },
      );
    if (reg.attrs.stage === 'companion_hello') {
      const wrapped = getBinaryNodeChildBuffer(
        reg,
        'link_code_pairing_wrapped_companion_ephemeral_pub',
      );
      const serverKey = getBinaryNodeChildBuffer(reg, 'companion_server_auth_key_pub');
      const phone = jidDecode(reg.attrs.jid ?? '');
      if (
        !wrapped ||
        wrapped.length !== 80 ||
        !serverKey ||
        !connection.clientStatic?.equals(Buffer.from(serverKey)) ||
        !phone ||
        phone.server !== PN_SERVER ||
        !/^\d{6,20}$/.test(phone.user)
      ) {
        reply(new IqError(400, 'bad-request'));
        return;
      }
      this.linkCodes.set(connection, {
        connection,
        phone: phone.user,
        wrappedCompanionEphemeral: Buffer.from(wrapped),
        ref: randomBytes(32),
      });
      reply();
      return;
    }
    const request = this.linkCodes.get(connection);
    if (reg.attrs.stage === 'companion_finish' && request?.finished) {
      const bundle = getBinaryNodeChildBuffer(reg, 'link_code_pairing_wrapped_key_bundle');
      const identity = getBinaryNodeChildBuffer(reg, 'companion_identity_public');
      const ref = getBinaryNodeChildBuffer(reg, 'link_code_pairing_ref');
      if (!bundle || !identity || !ref || !request.ref.equals(Buffer.from(ref))) {
        reply(new IqError(400, 'bad-request'));
        return;
      }
      const ok = request.finished(Buffer.from(bundle), Buffer.from(identity));
      reply(ok ? undefined : new IqError(400, 'bad-request'));
      return;
    }
    reply(new IqError(400, 'bad-request'));
  }

  private groupNode(group: StoredGroup): BinaryNode {
    const participants: BinaryNode[] = [];
    for (const accountId of group.accounts) {
      const account = this.store.account(accountId);
      if (!account) continue;
      participants.push({
        tag: 'participant',
        attrs: {
          jid: `${account.lid}@lid`,
          phone_number: `${account.phone}@${PN_SERVER}`,
          ...(accountId === group.accounts[0] ? { type: 'superadmin' } : {}),
        },
      });
    }
    for (const phone of group.contacts) {
      const contact = this.store.contact(phone);
      if (!contact) continue;
      participants.push({
        tag: 'participant',
        attrs: { jid: `${contact.lid}@lid`, phone_number: `${contact.phone}@${PN_SERVER}` },
      });
    }
    const creator = this.store.account(group.accounts[0] ?? '');
    return {
      tag: 'group',
      attrs: {
        id: group.jid.slice(0, group.jid.indexOf('@')),
        subject: group.subject,
        s_t: String(group.creation),
        creation: String(group.creation),
        addressing_mode: 'lid',
        size: String(participants.length),
        ...(creator
          ? { creator: `${creator.lid}@lid`, creator_pn: `${creator.phone}@${PN_SERVER}` }
          : {}),
      },
      content: participants,
    };
  }

  private queueForDevices(account: StoredAccount, entry: PendingMessage): void {
    for (const device of Object.values(account.devices)) {
      this.store.pending(account.accountId, device.deviceId).push({ ...entry });
    }
    this.store.markChanged();
  }

  /** Sends a queued message to the device if it is connected, after what is already going out. */
  private sendPendingSoon(account: StoredAccount, device: StoredDevice, id: string): void {
    this.enqueueSend(account.accountId, device.deviceId, async () => {
      const connection = this.live.get(liveKey(account.accountId, device.deviceId));
      const entry = this.store.pending(account.accountId, device.deviceId).find((e) => e.id === id);
      if (!connection?.open || !entry) return;
      await this.deliver(connection, account, device, entry, false);
      this.saveSoon();
    });
  }

  private enqueueSend(accountId: string, deviceId: number, job: () => Promise<void>): void {
    const key = liveKey(accountId, deviceId);
    const next = (this.sendChains.get(key) ?? Promise.resolve())
      .then(job)
      .catch((error: unknown) =>
        this.logger.warn({ err: error, key }, 'sending to a device failed'),
      );
    this.sendChains.set(key, next);
    void next.then(() => {
      if (this.sendChains.get(key) === next) this.sendChains.delete(key);
    });
  }

  /**
   * Encrypts one queued message for one device and sends it: from a contact (pairwise, or with
   * its sender key in a group, the distribution message alongside) or from the account's phone.
   */
  private async deliver(
    connection: ClientConnection,
    account: StoredAccount,
    device: StoredDevice,
    entry: PendingMessage,
    offline: boolean,
    retryCount?: number,
  ): Promise<void> {
    const sentKey = `${account.accountId}:${device.deviceId}:${entry.id}`;
    if (retryCount === undefined && this.sentOn.get(sentKey) === connection.id) return;
    this.sentOn.delete(sentKey);
    this.sentOn.set(sentKey, connection.id);
    if (this.sentOn.size > 50_000) this.sentOn.delete(this.sentOn.keys().next().value!);
    const message = proto.Message.decode(Buffer.from(entry.message, 'base64'));
    const bundle = () =>
      this.takeBundle(account.lid, 'lid', device.deviceId, () => this.saveSoon());
    const common = {
      id: entry.id,
      t: String(entry.t),
      type: entry.type,
      ...(offline ? { offline: '1' } : {}),
    };
    entry.sends += 1;
    this.store.markChanged();
    if (entry.from === PHONE_SENDER) {
      const party = this.phoneParty(account);
      const plaintext = padMessage(proto.Message.encode(message).finish());
      const { type, ciphertext } = await party.encrypt(
        account.lid,
        device.deviceId,
        plaintext,
        bundle,
      );
      connection.sendNode({
        tag: 'message',
        attrs: { ...common, from: `${account.phone}@${PN_SERVER}`, category: 'peer' },
        content: [{ tag: 'enc', attrs: { v: '2', type }, content: ciphertext }],
      });
      return;
    }
    const contact = this.store.contact(entry.from);
    if (!contact) return;
    const party = this.contactParty(contact);
    const enc: BinaryNode[] = [];
    const countAttr: Record<string, string> =
      retryCount !== undefined ? { count: String(retryCount) } : {};
    if (entry.group !== undefined) {
      const distribution: proto.IMessage = {
        senderKeyDistributionMessage: {
          groupId: entry.group,
          axolotlSenderKeyDistributionMessage: await party.senderKeyDistribution(entry.group),
        },
      };
      const pairwise = await party.encrypt(
        account.lid,
        device.deviceId,
        padMessage(proto.Message.encode(distribution).finish()),
        bundle,
      );
      enc.push({
        tag: 'enc',
        attrs: { v: '2', type: pairwise.type, ...countAttr },
        content: pairwise.ciphertext,
      });
      const grouped = await party.groupEncrypt(
        entry.group,
        padMessage(proto.Message.encode(message).finish()),
      );
      enc.push({ tag: 'enc', attrs: { v: '2', type: 'skmsg', ...countAttr }, content: grouped });
    } else {
      const { type, ciphertext } = await party.encrypt(
        account.lid,
        device.deviceId,
        padMessage(proto.Message.encode(message).finish()),
        bundle,
      );
      enc.push({ tag: 'enc', attrs: { v: '2', type, ...countAttr }, content: ciphertext });
    }
    const corrupt = this.corruptNext.get(account.accountId) ?? 0;
    if (corrupt > 0 && retryCount === undefined) {
      this.corruptNext.set(account.accountId, corrupt - 1);
      for (const node of enc) {
        const bytes = Buffer.from(node.content as Uint8Array);
        // The MAC covers the tail: flipping it makes the message fail authentication.
        bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
        node.content = bytes;
      }
    }
    const sender = `${contact.lid}@lid`;
    connection.sendNode({
      tag: 'message',
      attrs: {
        ...common,
        ...(entry.group !== undefined
          ? {
              from: entry.group,
              participant: sender,
              participant_pn: `${contact.phone}@${PN_SERVER}`,
            }
          : { from: sender, sender_pn: `${contact.phone}@${PN_SERVER}` }),
        addressing_mode: 'lid',
        notify: contact.name,
      },
      content: enc,
    });
  }

  /**
   * A message from the account: the server acks it, the contact decrypts its copy with its own
   * session (and downloads and decrypts any media), records what it got, then sends delivery and
   * read receipts back to the account.
   */
  private async onOutboundMessage(connection: ClientConnection, node: BinaryNode): Promise<void> {
    const id = node.attrs.id ?? '';
    const to = node.attrs.to ?? '';
    if (connection.accountId === null || connection.deviceId === null || !id) return;
    connection.sendNode({
      tag: 'ack',
      attrs: { class: 'message', id, from: to, t: unixNow() },
    });
    const target = jidDecode(to);
    const contact = target ? this.findContact(target.user, target.server) : undefined;
    const account = this.store.account(connection.accountId);
    if (!contact || !account) return;
    const enc = findEncFor(node, contact);
    if (!enc) return;
    const log = this.sentLog.get(account.accountId) ?? new Map<string, SimulatorSentMessage>();
    this.sentLog.set(account.accountId, log);
    const corrupt = this.corruptOutNext.get(account.accountId) ?? 0;
    if (corrupt > 0) {
      this.corruptOutNext.set(account.accountId, corrupt - 1);
      const bytes = Buffer.from(enc.ciphertext);
      // The MAC covers the tail: the contact's copy fails authentication (Bad MAC).
      bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
      enc.ciphertext = bytes;
    }
    // Decrypted even when it is a resend: the contact's session must follow the sender's.
    let plaintext: Buffer;
    try {
      plaintext = await this.contactParty(contact).decrypt(
        account.lid,
        connection.deviceId,
        enc.type,
        enc.ciphertext,
      );
    } catch (error) {
      // A phone that cannot decrypt asks the sender for the message again (up to 5 times).
      const retryKey = `${account.accountId}:${id}`;
      const count = (this.outboundRetries.get(retryKey) ?? 0) + 1;
      this.outboundRetries.delete(retryKey);
      this.outboundRetries.set(retryKey, count);
      if (this.outboundRetries.size > 10_000) {
        this.outboundRetries.delete(this.outboundRetries.keys().next().value!);
      }
      if (count > 5 || !connection.open) throw error;
      connection.logger.info(
        { err: error, id, count },
        'the contact could not decrypt an outbound message; retry asked',
      );
      this.askRetry(connection, account, contact, id, count);
      return;
    }
    this.saveSoon();
    const seen = log.get(id);
    if (seen) {
      // A resend of the same id is the same message: WhatsApp does not deliver it twice.
      seen.resends += 1;
      return;
    }
    const message = proto.Message.decode(unpadMessage(plaintext));
    const received = describeReceived(id, to, message);
    const media = mediaOf(message);
    if (media) {
      try {
        const file = media.content.directPath
          ? await this.media.get(media.content.directPath)
          : media.content.url
            ? await this.media.get(media.content.url)
            : undefined;
        if (!file || !media.content.mediaKey) throw new Error('media not on the emulator CDN');
        const bytes = decryptMedia(file, media.content.mediaKey, media.type, {
          fileSha256: media.content.fileSha256,
          fileEncSha256: media.content.fileEncSha256,
        });
        received.fileSha256Base64 = sha256(bytes).toString('base64');
        received.fileLength = bytes.length;
        this.rememberSentMedia(account.accountId, id, bytes);
      } catch (error) {
        connection.logger.warn({ err: error, id }, 'the contact could not fetch or decrypt media');
      }
    }
    log.set(id, received);
    if (log.size > 1000) log.delete(log.keys().next().value!);
    const receipt = (type: 'delivery' | 'read') => {
      const node: BinaryNode = {
        tag: 'receipt',
        attrs: {
          id,
          // From the address the account wrote to: a chat addressed by phone number is receipted
          // by phone number, a LID-addressed one by LID.
          from:
            jidDecode(to)?.server === 'lid'
              ? `${contact.lid}@lid`
              : `${contact.phone}@${PN_SERVER}`,
          t: unixNow(),
          ...(type === 'read' ? { type: 'read' } : {}),
        },
      };
      this.deliverReceipt(account, node);
    };
    setTimeout(() => receipt('delivery'), this.deliveredMs).unref();
    setTimeout(() => receipt('read'), this.readMs).unref();
  }

  /**
   * A group member receipts the account's message in a group (`<receipt from=group
   * participant=member>`), kept and delivered like a contact's receipt. The emulator does not
   * model the account's group sends; the caller names the message.
   */
  groupReceipt(
    accountId: string,
    input: { groupId: string; from: string; messageId: string; type?: 'read' },
  ): void {
    const account = this.store.account(accountId);
    if (!account) throw new EmulatorError(409, 'account not paired: scan its QR first');
    const contact = this.store.ensureContact(input.from.replace(/^\+/, ''), undefined);
    this.deliverReceipt(account, {
      tag: 'receipt',
      attrs: {
        id: input.messageId,
        from: `${input.groupId}@g.us`,
        participant: `${contact.phone}@${PN_SERVER}`,
        t: unixNow(),
        ...(input.type ? { type: input.type } : {}),
      },
    });
  }

  /**
   * As WhatsApp does, a receipt is kept until the device acks it: a device that is away, or whose
   * socket dies before its ack, gets it when it logs in again.
   */
  private deliverReceipt(account: StoredAccount, node: BinaryNode): void {
    for (const device of Object.values(account.devices)) {
      const key = liveKey(account.accountId, device.deviceId);
      const unacked = this.unackedReceipts.get(key) ?? new Map<string, BinaryNode>();
      unacked.set(receiptAckKey(node.attrs), node);
      if (unacked.size > 1000) unacked.delete(unacked.keys().next().value!);
      this.unackedReceipts.set(key, unacked);
      const live = this.live.get(key);
      const drops = this.dropOnReceipt.get(account.accountId) ?? 0;
      if (live?.open && drops > 0) {
        // The socket dies with the receipt in flight: the client never gets it.
        this.dropOnReceipt.set(account.accountId, drops - 1);
        live.drop();
        continue;
      }
      if (live?.open) live.sendNode(node);
    }
  }

  private rememberSentMedia(accountId: string, id: string, bytes: Buffer): void {
    const key = `${accountId}\n${id}`;
    this.sentMedia.set(key, bytes);
    this.sentMediaBytes += bytes.length;
    while (this.sentMediaBytes > 128 * 1024 * 1024 && this.sentMedia.size > 1) {
      const [oldest, old] = this.sentMedia.entries().next().value!;
      this.sentMedia.delete(oldest);
      this.sentMediaBytes -= old.length;
    }
  }

  /** The decrypted bytes of media a contact received from the account. */
  sentMediaBytesOf(accountId: string, id: string): Buffer | undefined {
    return this.sentMedia.get(`${accountId}\n${id}`);
  }

  /** What contacts received from the account, decrypted, in arrival order. */
  sent(accountId: string): SimulatorSentMessage[] {
    return [...(this.sentLog.get(accountId)?.values() ?? [])];
  }

  /** Receipts for the account's sent messages that its device has not acked yet. */
  unackedReceiptCount(accountId: string, deviceId: number): number {
    return this.unackedReceipts.get(liveKey(accountId, deviceId))?.size ?? 0;
  }

  /** Receipts the account's clients sent, oldest first. */
  receipts(accountId: string): ReceiptRecord[] {
    return [...(this.receiptLog.get(accountId) ?? [])];
  }

  private recordReceipt(connection: ClientConnection, node: BinaryNode): void {
    if (connection.accountId === null) return;
    // A receipt names one message, or several with a <list> of <item id>.
    const list = findChild(node, 'list');
    const listed = Array.isArray(list?.content)
      ? list.content.map((item) => item.attrs.id ?? '')
      : [];
    const ids = [node.attrs.id ?? '', ...listed].filter((id) => id !== '');
    const log = this.receiptLog.get(connection.accountId) ?? [];
    for (const id of ids.slice(0, 256)) {
      log.push({
        messageId: id,
        to: node.attrs.to ?? '',
        type: node.attrs.type ?? 'delivery',
        deviceId: connection.deviceId ?? 0,
        at: new Date().toISOString(),
      });
    }
    this.receiptLog.set(connection.accountId, log.slice(-1000));
    if (node.attrs.type === 'server-error') {
      this.answerMediaRetry(connection, node).catch((error: unknown) =>
        connection.logger.warn({ err: error }, 'media retry request not answered'),
      );
    } else if (connection.deviceId !== null) {
      const accountId = connection.accountId;
      const deviceId = connection.deviceId;
      const pending = this.store.pending(accountId, deviceId);
      if (node.attrs.type === 'retry') {
        // The device could not decrypt: the sender starts a new session and resends the same id.
        const entry = pending.find((e) => e.id === node.attrs.id);
        const account = this.store.account(accountId);
        const device = account?.devices[String(deviceId)];
        if (entry && account && device && entry.sends <= 5) {
          const count = Number(findChild(node, 'retry')?.attrs.count ?? '1') || 1;
          const party =
            entry.from === PHONE_SENDER
              ? this.phoneParty(account)
              : this.store.contact(entry.from) &&
                this.contactParty(this.store.contact(entry.from)!);
          // A fresh pkmsg from the device's uploaded pre-keys (the receipt's own <keys>, sent from
          // the second retry on, name one of those same keys).
          if (party) party.resetSession(account.lid, deviceId);
          this.enqueueSend(accountId, deviceId, async () => {
            if (!connection.open) return;
            await this.deliver(connection, account, device, entry, false, count);
            this.saveSoon();
          });
        }
      } else {
        const acked = new Set(ids);
        const kept = pending.filter((e) => !acked.has(e.id));
        if (kept.length !== pending.length) {
          pending.splice(0, pending.length, ...kept);
          this.saveSoon();
        }
      }
    }
    // The server acknowledges every receipt, as WhatsApp does.
    connection.sendNode({
      tag: 'ack',
      attrs: {
        id: node.attrs.id ?? '',
        class: 'receipt',
        from: node.attrs.to ?? S_WHATSAPP_NET,
        ...(node.attrs.type ? { type: node.attrs.type } : {}),
      },
    });
  }

  private accountConnections(accountId: string): ClientConnection[] {
    return [...this.connections].filter(
      (c) => c.open && (c.accountId ?? c.accountHint ?? DEFAULT_ACCOUNT) === accountId,
    );
  }
}

/** A receipt a client sent for a message it received. */
export interface ReceiptRecord {
  messageId: string;
  to: string;
  /** `delivery` when the stanza has no type; else `read`, `peer_msg`, `retry`, … */
  type: string;
  deviceId: number;
  at: string;
}

/** What names a receipt in the client's `<ack class="receipt" id to type>`. */
/** A receipt, and the client's ack of it (`to` as `from`), name one unacked receipt. */
function receiptAckKey(attrs: {
  id?: string;
  from?: string;
  participant?: string;
  type?: string;
}): string {
  return [attrs.id, attrs.from, attrs.participant, attrs.type ?? 'delivery']
    .map((part) => part ?? '')
    .join('\n');
}

/** The `<enc>` addressed to the contact: inside `<participants><to jid>` or directly. */
function findEncFor(
  node: BinaryNode,
  contact: StoredContact,
): { type: SignalMessageType; ciphertext: Uint8Array } | undefined {
  const isContact = (jid: string | undefined) => {
    const decoded = jid ? jidDecode(jid) : undefined;
    return (
      decoded !== undefined && (decoded.user === contact.lid || decoded.user === contact.phone)
    );
  };
  const participants = findChild(node, 'participants');
  const holder = Array.isArray(participants?.content)
    ? participants.content.find((to) => to.tag === 'to' && isContact(to.attrs.jid))
    : node;
  const enc = findChild(holder, 'enc');
  const type = enc?.attrs.type;
  if (!enc || !(enc.content instanceof Uint8Array) || (type !== 'pkmsg' && type !== 'msg')) {
    return undefined;
  }
  return { type, ciphertext: enc.content };
}

function describeReceived(id: string, to: string, m: proto.IMessage): SimulatorSentMessage {
  const text = m.conversation ?? m.extendedTextMessage?.text ?? null;
  const media = mediaOf(m);
  const context =
    m.extendedTextMessage?.contextInfo ??
    m.imageMessage?.contextInfo ??
    m.videoMessage?.contextInfo ??
    m.audioMessage?.contextInfo ??
    m.documentMessage?.contextInfo ??
    null;
  return {
    messageId: id,
    to,
    kind: text !== null ? 'text' : (media?.kind ?? 'other'),
    text,
    caption: media?.content.caption ?? null,
    mimetype: media?.content.mimetype ?? null,
    fileName: media?.content.fileName ?? null,
    fileLength: null,
    fileSha256Base64: null,
    quotedMessageId: context?.stanzaId ?? null,
    quotedParticipant: context?.participant ?? null,
    receivedAt: new Date().toISOString(),
    resends: 0,
  };
}

/** Members a group may have besides accounts (WhatsApp's own limit is 1024 in all). */
const MAX_GROUP_CONTACTS = 1000;

/** `PendingMessage.from` of messages the account's own phone sends (history notifications). */
const PHONE_SENDER = 'phone';

/** What `POST /accounts/:id/inbound` takes; `kind` defaults to text. */
export type InboundInput = Omit<WaEmulatorInboundBody, 'kind'> & {
  kind?: WaEmulatorInboundBody['kind'];
};

/** The stanza `type` WhatsApp gives a message of this content. */
function stanzaType(message: proto.IMessage): string {
  if (mediaOf(message)) return 'media';
  if (message.reactionMessage) return 'reaction';
  return 'text';
}

type MediaContent = {
  url?: string | null;
  directPath?: string | null;
  mediaKey?: Uint8Array | null;
  fileSha256?: Uint8Array | null;
  fileEncSha256?: Uint8Array | null;
  mimetype?: string | null;
  caption?: string | null;
  fileName?: string | null;
};

/** The media part of a message, with the media type its keys are derived for. */
function mediaOf(
  m: proto.IMessage,
):
  | { kind: SimulatorSentMessage['kind']; type: EmulatedMediaType; content: MediaContent }
  | undefined {
  if (m.imageMessage) return { kind: 'image', type: 'image', content: m.imageMessage };
  if (m.videoMessage) return { kind: 'video', type: 'video', content: m.videoMessage };
  if (m.audioMessage) return { kind: 'audio', type: 'audio', content: m.audioMessage };
  if (m.documentMessage) return { kind: 'document', type: 'document', content: m.documentMessage };
  if (m.stickerMessage) return { kind: 'other', type: 'sticker', content: m.stickerMessage };
  return undefined;
}

/** A contact of history thread `t` of an account: stable across calls, so replays match. */
function historyPhone(accountId: string, thread: number): string {
  const hash = createHash('sha256').update(`history|${accountId}|${thread}`).digest();
  return `4076${(hash.readUInt32BE(0) % 10_000_000).toString().padStart(7, '0')}`;
}

function historyMessageId(accountId: string, phone: string, index: number): string {
  const hash = createHash('sha256').update(`history|${accountId}|${phone}|${index}`).digest('hex');
  return `3EB0${hash.slice(0, 18).toUpperCase()}`;
}

function uint32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value);
  return buffer;
}

/** The media CDN's TLS identity: kept under dataDir (so a client's trust survives restarts). */
async function loadMediaTls(dataDir: string | undefined): Promise<MediaTlsIdentity> {
  if (dataDir === undefined) return createMediaTlsIdentity();
  const file = join(dataDir, MEDIA_TLS_FILE_NAME);
  try {
    return MediaTlsFile.parse(JSON.parse(await readFile(file, 'utf8')));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const identity = createMediaTlsIdentity();
  await writeFile(file, JSON.stringify(identity), { mode: 0o600 });
  await writeFile(join(dataDir, MEDIA_CA_FILE_NAME), identity.certPem, { mode: 0o644 });
  return identity;
}

/** Media messages whose phone copy each emulator process remembers (oldest forgotten first). */
const MAX_PHONE_MEDIA = 50_000;

interface PhoneMedia {
  mediaKey: Buffer;
  /** Where the CDN has (or had) the file; a re-upload moves it. */
  directPath: string;
  /** The phone no longer has the file: a re-upload request is answered NOT_FOUND. */
  lost: boolean;
  /** The phone never answers a re-upload request for this file (`phoneAnswers: false`). */
  silent: boolean;
}

/** AES-256-GCM open of `ciphertext || tag` (Baileys' aesEncryptGCM layout), with the id as AAD. */
function gcmOpen(data: Buffer, key: Buffer, iv: Buffer, aad: string): Buffer {
  if (data.length < 16 || iv.length !== 12) throw new Error('malformed GCM payload');
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(data.subarray(data.length - 16));
  return Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]);
}

function messageId(): string {
  return `3EB0${randomBytes(9).toString('hex').toUpperCase()}`;
}

function liveKey(accountId: string, deviceId: number): string {
  return `${accountId}:${deviceId}`;
}

function unixNow(): string {
  return String(Math.floor(Date.now() / 1000));
}

function findChild(node: BinaryNode | undefined, tag: string): BinaryNode | undefined {
  return Array.isArray(node?.content) ? node.content.find((c) => c.tag === tag) : undefined;
}
