import { randomBytes } from 'node:crypto';
import { S_WHATSAPP_NET, proto, type BinaryNode, type KeyPair } from '@whiskeysockets/baileys';
import { verifyXeddsa } from './signature.js';
import type { WebSocket } from 'ws';
import type { Logger } from '@wacrm/observability';
import {
  decodeNode,
  encodeFrame,
  encodeNode,
  FrameReader,
  NoiseResponder,
  ProtocolError,
} from './noise-responder.js';

/** What an unregistered companion sent in its ClientFinish: the keys it will pair with. */
export interface Registration {
  noiseKey: Buffer;
  identityKey: Buffer;
  registrationId: number;
  signedPreKey: { id: number; public: Buffer; signature: Buffer };
  platform: string;
  /** The refs offered in `pair-device`; a QR is valid for this connection only with one of them. */
  refs: string[];
}

export interface ConnectionLimits {
  maxFrameBytes: number;
  maxInflatedBytes: number;
  /** How long the server waits for the client's answer to a server-initiated iq. */
  requestTimeoutMs: number;
}

/** The emulator as a connection sees it (kept as an interface so the files do not import each other). */
export interface ConnectionHost {
  readonly logger: Logger;
  readonly limits: ConnectionLimits;
  readonly serverStatic: KeyPair;
  readonly certChain: Uint8Array;
  onRegistering(connection: ClientConnection): void;
  /** Whether a client of this WhatsApp Web version is refused as outdated (`<failure reason="405">`). */
  refusesClientVersion(version: readonly number[]): boolean;
  /** A login: answers with `<success>` or `<failure>` itself. */
  onLogin(connection: ClientConnection, phone: string, device: number): void;
  /** Any stanza after login other than an answer to the server's own iq. */
  onStanza(connection: ClientConnection, node: BinaryNode): void;
  onClosed(connection: ClientConnection): void;
}

let nextConnectionId = 1;

/**
 * One companion socket: the Noise handshake, then binary nodes in both directions. Frames are
 * handled strictly in arrival order; any protocol violation closes the socket.
 */
export class ClientConnection {
  readonly id = nextConnectionId++;
  readonly logger: Logger;
  registration: Registration | null = null;
  clientStatic: Buffer | null = null;
  /** Set by the emulator once a login or registration is accepted. */
  accountId: string | null = null;
  deviceId: number | null = null;
  /** A silent server answers nothing and sends nothing (fault injection). */
  silenced = false;
  private readonly noise: NoiseResponder;
  private readonly reader: FrameReader;
  private phase: 'hello' | 'finish' | 'transport' | 'closed' = 'hello';
  private chain: Promise<void> = Promise.resolve();
  private readonly pending = new Map<string, (node: BinaryNode) => void>();
  private nextRequestId = 1;

  constructor(
    private readonly ws: WebSocket,
    private readonly host: ConnectionHost,
    /** The `account` query parameter of the WebSocket URL: which account a new pairing is for. */
    readonly accountHint: string | undefined,
    /** The `client` query parameter: a label the client's operator chose (tests: the instance). */
    readonly clientLabel: string | undefined = undefined,
  ) {
    this.logger = host.logger.child({ connection: this.id, account: accountHint });
    this.noise = new NoiseResponder(host.serverStatic, host.certChain);
    this.reader = new FrameReader(host.limits.maxFrameBytes);
    ws.on('message', (data: Buffer, isBinary: boolean) => this.onData(data, isBinary));
    ws.on('close', () => this.onClose());
    ws.on('error', (error) => this.logger.debug({ err: error }, 'socket error'));
  }

  get open(): boolean {
    return this.phase !== 'closed' && this.ws.readyState === this.ws.OPEN;
  }

  sendNode(node: BinaryNode): void {
    if (!this.open || this.silenced || this.phase !== 'transport') return;
    this.ws.send(encodeFrame(this.noise.encrypt(encodeNode(node))));
  }

  /** Sends a server-initiated iq and resolves with the client's answer. */
  request(node: BinaryNode): Promise<BinaryNode> {
    const id = node.attrs.id ?? `srv-${this.id}-${this.nextRequestId++}`;
    node.attrs.id = id;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no answer to iq ${id} within ${this.host.limits.requestTimeoutMs} ms`));
      }, this.host.limits.requestTimeoutMs);
      timer.unref();
      this.pending.set(id, (answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
      this.sendNode(node);
    });
  }

  /** Ends the stream the way WhatsApp does: a `<stream:error>` and then the socket closes. */
  streamError(code: number, child?: BinaryNode): void {
    // 440 is told by a conflict child alone, as WhatsApp does; the rest carry the code.
    const attrs: Record<string, string> = code === 440 ? {} : { code: String(code) };
    this.sendNode({ tag: 'stream:error', attrs, ...(child ? { content: [child] } : {}) });
    this.close();
  }

  /** `<failure reason=…>`: the login is refused. */
  failure(reason: number): void {
    this.sendNode({ tag: 'failure', attrs: { reason: String(reason), location: 'emulator' } });
    this.close();
  }

  close(): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.ws.close();
    this.host.onClosed(this);
  }

  /** Drops the TCP connection without a WebSocket close frame. */
  drop(): void {
    this.phase = 'closed';
    this.ws.terminate();
    this.host.onClosed(this);
  }

  private onData(data: Buffer, isBinary: boolean): void {
    if (this.silenced || this.phase === 'closed') return;
    let frames: Buffer[];
    try {
      if (!isBinary) throw new ProtocolError('text WebSocket message');
      frames = this.reader.push(data);
    } catch (error) {
      this.protocolFailure(error);
      return;
    }
    for (const frame of frames) {
      this.chain = this.chain
        .then(() => this.onFrame(frame))
        .catch((error: unknown) => this.protocolFailure(error));
    }
  }

  private async onFrame(frame: Buffer): Promise<void> {
    if (this.phase === 'closed' || this.silenced) return;
    switch (this.phase) {
      case 'hello':
        this.ws.send(encodeFrame(this.noise.respondToHello(frame)));
        this.phase = 'finish';
        return;
      case 'finish': {
        const { clientStatic, payload } = this.noise.receiveFinish(frame);
        this.clientStatic = clientStatic;
        this.phase = 'transport';
        this.onClientPayload(payload);
        return;
      }
      case 'transport': {
        const node = await decodeNode(this.noise.decrypt(frame), this.host.limits.maxInflatedBytes);
        this.onNode(node);
        return;
      }
    }
  }

  private onClientPayload(payload: proto.ClientPayload): void {
    const v = payload.userAgent?.appVersion;
    if (this.host.refusesClientVersion([v?.primary ?? 0, v?.secondary ?? 0, v?.tertiary ?? 0])) {
      // As WhatsApp answers a client whose version it no longer accepts.
      this.failure(405);
      return;
    }
    const pairing = payload.devicePairingData;
    if (pairing) {
      this.registration = readRegistration(pairing, this.clientStatic!);
      this.registration.refs = Array.from({ length: 6 }, () => randomBytes(18).toString('base64'));
      this.host.onRegistering(this);
      this.sendNode({
        tag: 'iq',
        attrs: { from: S_WHATSAPP_NET, type: 'set', id: `pair-${this.id}`, xmlns: 'md' },
        content: [
          {
            tag: 'pair-device',
            attrs: {},
            content: this.registration.refs.map((ref) => ({
              tag: 'ref',
              attrs: {},
              content: Buffer.from(ref),
            })),
          },
        ],
      });
      return;
    }
    if (payload.username == null)
      throw new ProtocolError('ClientPayload neither registers nor logs in');
    this.host.onLogin(this, String(payload.username), payload.device ?? 0);
  }

  private onNode(node: BinaryNode): void {
    if (node.tag === 'iq' && (node.attrs.type === 'result' || node.attrs.type === 'error')) {
      const id = node.attrs.id ?? '';
      const resolve = this.pending.get(id);
      if (resolve) {
        this.pending.delete(id);
        resolve(node);
        return;
      }
      // The answer to pair-device and other one-way server iqs: nothing waits for it.
      return;
    }
    this.host.onStanza(this, node);
  }

  private protocolFailure(error: unknown): void {
    if (this.phase === 'closed') return;
    this.logger.warn({ err: error }, 'closing a connection that broke the protocol');
    this.close();
  }

  private onClose(): void {
    if (this.phase !== 'closed') {
      this.phase = 'closed';
      this.host.onClosed(this);
    }
    this.pending.clear();
  }
}

function readRegistration(
  pairing: proto.ClientPayload.IDevicePairingRegistrationData,
  noiseKey: Buffer,
): Registration {
  const identity = pairing.eIdent;
  const regId = pairing.eRegid;
  const skeyId = pairing.eSkeyId;
  const skeyValue = pairing.eSkeyVal;
  const skeySig = pairing.eSkeySig;
  if (
    !identity ||
    identity.length !== 32 ||
    !regId ||
    regId.length !== 4 ||
    !skeyId ||
    skeyId.length !== 3 ||
    !skeyValue ||
    skeyValue.length !== 32 ||
    !skeySig ||
    skeySig.length !== 64
  ) {
    throw new ProtocolError('device pairing data is incomplete');
  }
  // The signed pre-key must be signed by the identity it came with (over the 0x05-prefixed key).
  if (!verifyXeddsa(identity, Buffer.concat([Buffer.from([5]), skeyValue]), skeySig)) {
    throw new ProtocolError('signed pre-key signature does not verify');
  }
  let platform = 'unknown';
  if (pairing.deviceProps) {
    try {
      const props = proto.DeviceProps.decode(pairing.deviceProps);
      platform = (props.os ?? 'unknown').slice(0, 64);
    } catch {
      throw new ProtocolError('device props do not decode');
    }
  }
  return {
    noiseKey,
    identityKey: Buffer.from(identity),
    registrationId: Buffer.from(regId).readUInt32BE(0),
    signedPreKey: {
      id: Buffer.from(skeyId).readUIntBE(0, 3),
      public: Buffer.from(skeyValue),
      signature: Buffer.from(skeySig),
    },
    platform,
    refs: [],
  };
}
