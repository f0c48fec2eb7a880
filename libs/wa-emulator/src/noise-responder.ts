import { createCipheriv, createDecipheriv, createHash, hkdfSync } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import {
  Curve,
  decodeBinaryNode,
  encodeBinaryNode,
  NOISE_MODE,
  NOISE_WA_HEADER,
  proto,
  type BinaryNode,
  type KeyPair,
} from '@whiskeysockets/baileys';

/** A frame or handshake message broke the protocol; the connection is closed. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

const GCM_TAG_BYTES = 16;

function sha256(...parts: Uint8Array[]): Buffer {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

function iv(counter: number): Buffer {
  const value = Buffer.alloc(12);
  value.writeUInt32BE(counter >>> 0, 8);
  return value;
}

function seal(key: Buffer, counter: number, aad: Uint8Array, plaintext: Uint8Array): Buffer {
  const cipher = createCipheriv('aes-256-gcm', key, iv(counter));
  cipher.setAAD(aad);
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

function open(key: Buffer, counter: number, aad: Uint8Array, ciphertext: Uint8Array): Buffer {
  if (ciphertext.length < GCM_TAG_BYTES) throw new ProtocolError('ciphertext shorter than a tag');
  const decipher = createDecipheriv('aes-256-gcm', key, iv(counter));
  decipher.setAAD(aad);
  decipher.setAuthTag(ciphertext.subarray(ciphertext.length - GCM_TAG_BYTES));
  try {
    return Buffer.concat([
      decipher.update(ciphertext.subarray(0, ciphertext.length - GCM_TAG_BYTES)),
      decipher.final(),
    ]);
  } catch {
    throw new ProtocolError('noise frame failed authentication');
  }
}

function split64(ikm: Uint8Array, salt: Uint8Array): [Buffer, Buffer] {
  const out = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.alloc(0), 64));
  return [out.subarray(0, 32), out.subarray(32)];
}

export interface ClientFinish {
  /** The client's static Noise key (creds.noiseKey.public), 32 bytes. */
  clientStatic: Buffer;
  payload: proto.ClientPayload;
}

/**
 * The server side of WhatsApp's Noise_XX_25519_AESGCM_SHA256 handshake, mirrored from the client's
 * steps: every ciphertext of the handshake is authenticated with the running hash, keys are mixed
 * with HKDF after each Diffie-Hellman, and the final split gives one key per direction.
 */
export class NoiseResponder {
  private hash: Buffer;
  private salt: Buffer;
  private key: Buffer;
  private counter = 0;
  private readonly ephemeral: KeyPair = Curve.generateKeyPair();
  private transport: { enc: Buffer; dec: Buffer; read: number; write: number } | null = null;

  constructor(
    private readonly serverStatic: KeyPair,
    private readonly certChain: Uint8Array,
  ) {
    const mode = Buffer.from(NOISE_MODE);
    // NOISE_MODE is exactly 32 bytes, so (as in Baileys) it is the initial hash without hashing.
    this.hash = mode.length === 32 ? mode : sha256(mode);
    this.salt = this.hash;
    this.key = this.hash;
    this.mixHash(NOISE_WA_HEADER);
  }

  get established(): boolean {
    return this.transport !== null;
  }

  /** Answers the ClientHello with the ServerHello (ephemeral, encrypted static, encrypted certs). */
  respondToHello(message: Uint8Array): Buffer {
    const hello = decodeHandshake(message).clientHello;
    const clientEphemeral = hello?.ephemeral;
    if (!clientEphemeral || clientEphemeral.length !== 32) {
      throw new ProtocolError('ClientHello without a 32-byte ephemeral key');
    }
    this.clientEphemeral = Buffer.from(clientEphemeral);
    this.mixHash(this.clientEphemeral);
    this.mixHash(this.ephemeral.public);
    this.mixKey(Curve.sharedKey(this.ephemeral.private, this.clientEphemeral));
    const staticEnc = this.encryptHandshake(this.serverStatic.public);
    this.mixKey(Curve.sharedKey(this.serverStatic.private, this.clientEphemeral));
    const payloadEnc = this.encryptHandshake(this.certChain);
    return Buffer.from(
      proto.HandshakeMessage.encode({
        serverHello: { ephemeral: this.ephemeral.public, static: staticEnc, payload: payloadEnc },
      }).finish(),
    );
  }

  private clientEphemeral: Buffer | null = null;

  /** Reads the ClientFinish, then switches both directions to transport keys. */
  receiveFinish(message: Uint8Array): ClientFinish {
    if (this.clientEphemeral === null) throw new ProtocolError('ClientFinish before ClientHello');
    const finish = decodeHandshake(message).clientFinish;
    if (!finish?.static || !finish.payload) {
      throw new ProtocolError('ClientFinish without static key or payload');
    }
    const clientStatic = this.decryptHandshake(finish.static);
    if (clientStatic.length !== 32) throw new ProtocolError('client static key is not 32 bytes');
    this.mixKey(Curve.sharedKey(this.ephemeral.private, clientStatic));
    const payloadBytes = this.decryptHandshake(finish.payload);
    let payload: proto.ClientPayload;
    try {
      payload = proto.ClientPayload.decode(payloadBytes);
    } catch {
      throw new ProtocolError('ClientPayload does not decode');
    }
    const [clientWrite, clientRead] = split64(Buffer.alloc(0), this.salt);
    this.transport = { enc: clientRead, dec: clientWrite, read: 0, write: 0 };
    return { clientStatic, payload };
  }

  encrypt(plaintext: Uint8Array): Buffer {
    if (!this.transport) throw new ProtocolError('transport not established');
    return seal(this.transport.enc, this.transport.write++, Buffer.alloc(0), plaintext);
  }

  decrypt(ciphertext: Uint8Array): Buffer {
    if (!this.transport) throw new ProtocolError('transport not established');
    return open(this.transport.dec, this.transport.read++, Buffer.alloc(0), ciphertext);
  }

  private mixHash(data: Uint8Array): void {
    this.hash = sha256(this.hash, data);
  }

  private mixKey(sharedSecret: Uint8Array): void {
    const [salt, key] = split64(sharedSecret, this.salt);
    this.salt = salt;
    this.key = key;
    this.counter = 0;
  }

  private encryptHandshake(plaintext: Uint8Array): Buffer {
    const ciphertext = seal(this.key, this.counter++, this.hash, plaintext);
    this.mixHash(ciphertext);
    return ciphertext;
  }

  private decryptHandshake(ciphertext: Uint8Array): Buffer {
    const plaintext = open(this.key, this.counter++, this.hash, ciphertext);
    this.mixHash(ciphertext);
    return plaintext;
  }
}

function decodeHandshake(message: Uint8Array): proto.HandshakeMessage {
  try {
    return proto.HandshakeMessage.decode(message);
  } catch {
    throw new ProtocolError('handshake message does not decode');
  }
}

/**
 * Splits the client's byte stream into frames: an intro header on the first bytes (`WA 6 3`, or
 * `ED` with routing info), then 3-byte big-endian lengths. Sizes are bounded before buffering.
 */
export class FrameReader {
  private buffer: Buffer = Buffer.alloc(0);
  private sawIntro = false;

  constructor(private readonly maxFrameBytes: number) {}

  /** Appends received bytes and returns every complete frame. */
  push(data: Buffer): Buffer[] {
    this.buffer = this.buffer.length === 0 ? data : Buffer.concat([this.buffer, data]);
    if (!this.sawIntro && !this.consumeIntro()) {
      if (this.buffer.length > 2048) throw new ProtocolError('intro header too long');
      return [];
    }
    const frames: Buffer[] = [];
    for (;;) {
      const length = this.peekLength();
      if (length === null) break;
      if (length > this.maxFrameBytes) throw new ProtocolError('frame larger than the limit');
      if (this.buffer.length < 3 + length) break;
      frames.push(this.buffer.subarray(3, 3 + length));
      this.buffer = this.buffer.subarray(3 + length);
    }
    return frames;
  }

  private peekLength(): number | null {
    if (this.buffer.length < 3) return null;
    return (this.buffer[0]! << 16) | (this.buffer[1]! << 8) | this.buffer[2]!;
  }

  private consumeIntro(): boolean {
    if (this.buffer.length < 4) return false;
    if (this.buffer[0] === 0x57 && this.buffer[1] === 0x41) {
      if (this.buffer[2] !== NOISE_WA_HEADER[2] || this.buffer[3] !== NOISE_WA_HEADER[3]) {
        throw new ProtocolError('unsupported protocol version in the intro header');
      }
      this.buffer = this.buffer.subarray(4);
    } else if (this.buffer[0] === 0x45 && this.buffer[1] === 0x44) {
      // Edge routing prefix: "ED", 0, 1, 3-byte length, routing info, then the WA header.
      if (this.buffer.length < 7) return false;
      const routingLength = (this.buffer[4]! << 16) | this.buffer.readUInt16BE(5);
      if (routingLength > 1024) throw new ProtocolError('routing info too long');
      if (this.buffer.length < 7 + routingLength + 4) return false;
      this.buffer = this.buffer.subarray(7 + routingLength + 4);
    } else {
      throw new ProtocolError('stream does not start with the WA intro header');
    }
    this.sawIntro = true;
    return true;
  }
}

/** Prefixes a frame with its 3-byte length. */
export function encodeFrame(data: Uint8Array): Buffer {
  const frame = Buffer.alloc(3 + data.length);
  frame[0] = (data.length >>> 16) & 0xff;
  frame[1] = (data.length >>> 8) & 0xff;
  frame[2] = data.length & 0xff;
  frame.set(data, 3);
  return frame;
}

/** Decodes a decrypted frame into a node; compressed frames are inflated with a size cap. */
export async function decodeNode(plaintext: Buffer, maxInflatedBytes: number): Promise<BinaryNode> {
  if (plaintext.length === 0) throw new ProtocolError('empty frame');
  let raw = plaintext;
  if ((plaintext[0]! & 2) !== 0) {
    let inflated: Buffer;
    try {
      inflated = inflateSync(plaintext.subarray(1), { maxOutputLength: maxInflatedBytes });
    } catch {
      throw new ProtocolError('compressed frame does not inflate within the limit');
    }
    raw = Buffer.concat([Buffer.from([0]), inflated]);
  }
  try {
    return await decodeBinaryNode(raw);
  } catch {
    throw new ProtocolError('frame is not a binary node');
  }
}

export function encodeNode(node: BinaryNode): Buffer {
  return encodeBinaryNode(node);
}
