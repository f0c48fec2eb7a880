import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deflateSync } from 'node:zlib';
import {
  Curve,
  S_WHATSAPP_NET,
  jidDecode,
  proto,
  type BinaryNode,
  type KeyPair,
} from '@whiskeysockets/baileys';
import { WebSocketServer } from 'ws';
import type { SimulatorSentMessage, WaEmulatorAccountView } from '@wacrm/contracts';
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
  type StoredAccount,
  type StoredContact,
  type StoredDevice,
} from './emulator-state.store.js';
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
  /** What contacts received from each account, decrypted, by message id (bounded). */
  private readonly sentLog = new Map<string, Map<string, SimulatorSentMessage>>();
  private readonly connections = new Set<ClientConnection>();
  /** The logged-in connection of each device, keyed `accountId:deviceId`. */
  private readonly live = new Map<string, ClientConnection>();
  private readonly server: Server;
  private readonly wss: WebSocketServer;
  private port = 0;
  /** Signal participants by key (`phone:<accountId>`, `contact:<phone>`); sessions live here. */
  private readonly parties = new Map<string, SignalParty>();
  /** Receipts the account's clients sent, newest last, bounded. */
  private readonly receiptLog = new Map<string, ReceiptRecord[]>();

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
      if (account !== undefined && !/^[\w.-]{1,128}$/.test(account)) {
        socket.destroy();
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        const connection = new ClientConnection(ws, this, account);
        this.connections.add(connection);
      });
    });
  }

  /** Loads the state under `dataDir` and listens on 127.0.0.1. */
  static async start(options: WaEmulatorOptions): Promise<WaEmulator> {
    const store = await EmulatorStateStore.open(options.dataDir);
    const emulator = new WaEmulator(options, store);
    await new Promise<void>((resolve, reject) => {
      emulator.server.once('error', reject);
      emulator.server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    emulator.port = (emulator.server.address() as AddressInfo).port;
    return emulator;
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
    const account = this.store.ensureAccount(accountId);
    const deviceId = account.nextDeviceId;
    const keyIndex = account.nextKeyIndex;
    const { container, details } = signDeviceIdentity(
      account,
      keyIndex,
      registration.identityKey,
      parsed.advSecret,
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

  /** Injects a fault on every connection of the account. */
  async fault(accountId: string, fault: FaultKind): Promise<number> {
    if (fault.kind === 'stream-error') return this.disconnect(accountId, fault.code);
    const targets = this.accountConnections(accountId);
    if (targets.length === 0) throw new EmulatorError(409, 'account not connected');
    for (const connection of targets) {
      if (fault.kind === 'drop') connection.drop();
      else connection.silenced = true;
    }
    return targets.length;
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
      devices: Object.values(account.devices).map((d) => ({
        deviceId: d.deviceId,
        jid: `${account.phone}:${d.deviceId}@${PN_SERVER}`,
        platform: d.platform,
        preKeys: Object.keys(d.preKeys).length,
        connected: this.live.get(liveKey(account.accountId, d.deviceId))?.open === true,
      })),
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
    // Nothing is queued for offline delivery yet: tell the client it has everything.
    connection.sendNode({
      tag: 'ib',
      attrs: { from: S_WHATSAPP_NET },
      content: [{ tag: 'offline', attrs: { count: '0' } }],
    });
    connection.logger.info({ accountId: account.accountId, deviceId }, 'device logged in');
  }

  onStanza(connection: ClientConnection, node: BinaryNode): void {
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
      mediaHost: 'media.wa-emulator.invalid',
      lookup: (jid) => this.lookup(jid),
      takeBundle: (user, server, deviceId) => this.takeBundle(user, server, deviceId, changed),
      changed,
      removeDevice: () => {
        delete account.devices[String(connection.deviceId)];
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
    if (server === PN_SERVER) return this.store.contact(user);
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
      this.parties.set(key, party);
    }
    return party;
  }

  private contactParty(contact: StoredContact): SignalParty {
    const key = `contact:${contact.phone}`;
    let party = this.parties.get(key);
    if (!party) {
      party = SignalParty.restore(contact.signal);
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
   * A contact sends a text to the account: encrypted by the contact's own Signal identity for each
   * connected device of the account, addressed by LID with the phone number alongside.
   */
  async inbound(
    accountId: string,
    input: { from: string; name?: string; text: string; messageId?: string },
  ): Promise<{ messageId: string; devices: number }> {
    const account = this.store.account(accountId);
    if (!account || Object.keys(account.devices).length === 0) {
      throw new EmulatorError(409, 'account not paired: scan its QR first');
    }
    const phone = input.from.replace(/^\+/, '');
    const contact = this.store.ensureContact(phone, input.name);
    this.saveSoon();
    const id = input.messageId ?? messageId();
    const party = this.contactParty(contact);
    let devices = 0;
    for (const device of Object.values(account.devices)) {
      const connection = this.live.get(liveKey(accountId, device.deviceId));
      if (!connection?.open) continue;
      await this.sendEncrypted(
        connection,
        party,
        account,
        device,
        {
          from: `${contact.lid}@lid`,
          sender_pn: `${contact.phone}@${PN_SERVER}`,
          addressing_mode: 'lid',
          id,
          t: unixNow(),
          type: 'text',
          notify: contact.name,
        },
        { conversation: input.text },
      );
      devices += 1;
    }
    if (devices === 0) throw new EmulatorError(409, 'no device of the account is connected');
    return { messageId: id, devices };
  }

  /**
   * A message from the account: the server acks it, the contact decrypts its copy with its own
   * session, records what it got, then sends delivery and read receipts back to the account.
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
    const seen = log.get(id);
    if (seen) {
      // A resend of the same id is the same message: WhatsApp does not deliver it twice.
      seen.resends += 1;
      return;
    }
    const plaintext = await this.contactParty(contact).decrypt(
      account.lid,
      connection.deviceId,
      enc.type,
      enc.ciphertext,
    );
    const message = proto.Message.decode(unpadMessage(plaintext));
    log.set(id, describeReceived(id, to, message));
    if (log.size > 1000) log.delete(log.keys().next().value!);
    const receipt = (type: 'delivery' | 'read') => {
      for (const live of this.accountConnections(account.accountId)) {
        live.sendNode({
          tag: 'receipt',
          attrs: {
            id,
            from: `${contact.lid}@lid`,
            t: unixNow(),
            ...(type === 'read' ? { type: 'read' } : {}),
          },
        });
      }
    };
    setTimeout(() => receipt('delivery'), this.deliveredMs).unref();
    setTimeout(() => receipt('read'), this.readMs).unref();
  }

  /** What contacts received from the account, decrypted, in arrival order. */
  sent(accountId: string): SimulatorSentMessage[] {
    return [...(this.sentLog.get(accountId)?.values() ?? [])];
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
  const context = m.extendedTextMessage?.contextInfo ?? null;
  return {
    messageId: id,
    to,
    kind: text !== null ? 'text' : 'other',
    text,
    caption: null,
    mimetype: null,
    fileName: null,
    fileLength: null,
    fileSha256Base64: null,
    quotedMessageId: context?.stanzaId ?? null,
    quotedParticipant: context?.participant ?? null,
    receivedAt: new Date().toISOString(),
    resends: 0,
  };
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
