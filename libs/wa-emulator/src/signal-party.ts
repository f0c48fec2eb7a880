import { randomInt } from 'node:crypto';
import { BufferJSON, Curve, type KeyPair } from '@whiskeysockets/baileys';
import {
  GroupCipher,
  GroupSessionBuilder,
  SenderKeyName,
  SenderKeyRecord,
} from '@whiskeysockets/baileys/lib/Signal/Group/index.js';
import { ProtocolAddress, SessionBuilder, SessionCipher, SessionRecord } from 'libsignal';
import type { SignalStorage } from 'libsignal';
import { z } from 'zod';
import type { KeyBundle } from './key-bundle.types.js';

const Base64 = z.string().max(256);
/** A serialised session or sender-key record (JSON); bounded so a state file cannot balloon. */
const SerializedRecord = z.string().max(256 * 1024);

/** The durable Signal participant: its keys, its sessions and its group sender keys. */
export const StoredSignalParty = z.object({
  registrationId: z.number().int().nonnegative(),
  identity: z.object({ public: Base64, private: Base64 }),
  signedPreKey: z.object({
    id: z.number().int().nonnegative(),
    public: Base64,
    private: Base64,
    signature: Base64,
  }),
  /** Sessions by remote address (`name.device`), so they survive an emulator restart. */
  sessions: z.record(z.string().max(160), SerializedRecord).default({}),
  /** This party's own sender key per group JID. */
  senderKeys: z.record(z.string().max(160), SerializedRecord).default({}),
});
export type StoredSignalParty = z.infer<typeof StoredSignalParty>;

export type SignalMessageType = 'pkmsg' | 'msg';

function prefixed(publicKey: Uint8Array): Buffer {
  return publicKey.length === 33
    ? Buffer.from(publicKey)
    : Buffer.concat([Buffer.from([5]), publicKey]);
}

function pair(keyPair: KeyPair): { pubKey: Buffer; privKey: Buffer } {
  return { pubKey: prefixed(keyPair.public), privKey: Buffer.from(keyPair.private) };
}

/**
 * An emulated Signal participant (a phone or a contact) built on the same libsignal package Baileys
 * uses: it opens sessions from a companion's published bundle and encrypts and decrypts exactly as
 * a real phone's client would.
 */
export class SignalParty {
  /** Called after a session or sender key changed: the owner persists `stored`. */
  onChange: () => void = () => undefined;

  private constructor(private readonly keys: StoredSignalParty) {}

  static create(): SignalParty {
    const identity = Curve.generateKeyPair();
    const signed = Curve.generateKeyPair();
    const signature = Curve.sign(identity.private, prefixed(signed.public));
    return new SignalParty({
      registrationId: randomInt(1, 16380),
      identity: {
        public: Buffer.from(identity.public).toString('base64'),
        private: Buffer.from(identity.private).toString('base64'),
      },
      signedPreKey: {
        id: 1,
        public: Buffer.from(signed.public).toString('base64'),
        private: Buffer.from(signed.private).toString('base64'),
        signature: Buffer.from(signature).toString('base64'),
      },
      sessions: {},
      senderKeys: {},
    });
  }

  static restore(keys: StoredSignalParty): SignalParty {
    return new SignalParty(keys);
  }

  get stored(): StoredSignalParty {
    return this.keys;
  }

  /** This party's bundle, as a companion would fetch it (no one-time pre-key). */
  bundle(): KeyBundle {
    return {
      registrationId: this.keys.registrationId,
      identityKey: Buffer.from(this.keys.identity.public, 'base64'),
      signedPreKey: {
        id: this.keys.signedPreKey.id,
        public: Buffer.from(this.keys.signedPreKey.public, 'base64'),
        signature: Buffer.from(this.keys.signedPreKey.signature, 'base64'),
      },
    };
  }

  hasSession(name: string, device: number): boolean {
    return (
      this.loadSession(new ProtocolAddress(name, device).toString())?.haveOpenSession() ?? false
    );
  }

  /** Forgets the session with a remote device: the next message starts a new one (`pkmsg`). */
  resetSession(name: string, device: number): void {
    delete this.keys.sessions[new ProtocolAddress(name, device).toString()];
    this.onChange();
  }

  /**
   * This party's sender key for a group, created on first use, as the distribution message every
   * member needs (sent to each pairwise, inside a pkmsg/msg) before it can read `skmsg`.
   */
  async senderKeyDistribution(groupJid: string): Promise<Uint8Array> {
    const message = await new GroupSessionBuilder(this.senderKeyStore()).create(
      this.senderKeyName(groupJid),
    );
    return message.serialize();
  }

  /** Encrypts a padded plaintext for a group with this party's sender key (`skmsg`). */
  async groupEncrypt(groupJid: string, plaintext: Uint8Array): Promise<Buffer> {
    const store = this.senderKeyStore();
    const name = this.senderKeyName(groupJid);
    if ((await store.loadSenderKey(name)).isEmpty()) {
      await new GroupSessionBuilder(store).create(name);
    }
    return Buffer.from(await new GroupCipher(store, name).encrypt(plaintext));
  }

  private senderKeyName(groupJid: string): SenderKeyName {
    return new SenderKeyName(groupJid, {
      id: 'self',
      deviceId: 0,
      toString: () => 'self.0',
    });
  }

  private senderKeyStore() {
    return {
      loadSenderKey: (name: SenderKeyName) => {
        const text = this.keys.senderKeys[name.getGroupId()];
        return Promise.resolve(
          text === undefined
            ? new SenderKeyRecord()
            : SenderKeyRecord.deserialize(Buffer.from(text, 'utf8')),
        );
      },
      storeSenderKey: (name: SenderKeyName, record: SenderKeyRecord) => {
        this.keys.senderKeys[name.getGroupId()] = JSON.stringify(
          record.serialize(),
          BufferJSON.replacer,
        );
        this.onChange();
        return Promise.resolve();
      },
    };
  }

  private loadSession(id: string): SessionRecord | undefined {
    const text = this.keys.sessions[id];
    if (text === undefined) return undefined;
    return SessionRecord.deserialize(JSON.parse(text, BufferJSON.reviver) as never);
  }

  /**
   * Encrypts for a remote device; without an open session it first builds one from `bundle`,
   * which makes the message a `pkmsg`.
   */
  async encrypt(
    name: string,
    device: number,
    plaintext: Uint8Array,
    bundle: () => KeyBundle | undefined,
  ): Promise<{ type: SignalMessageType; ciphertext: Buffer }> {
    const address = new ProtocolAddress(name, device);
    if (!this.hasSession(name, device)) {
      const remote = bundle();
      if (!remote) throw new Error(`no key bundle for ${address.toString()}`);
      await new SessionBuilder(this.storage(), address).initOutgoing({
        registrationId: remote.registrationId,
        identityKey: prefixed(remote.identityKey),
        signedPreKey: {
          keyId: remote.signedPreKey.id,
          publicKey: prefixed(remote.signedPreKey.public),
          signature: remote.signedPreKey.signature,
        },
        ...(remote.preKey
          ? { preKey: { keyId: remote.preKey.id, publicKey: prefixed(remote.preKey.public) } }
          : {}),
      } as Parameters<SessionBuilder['initOutgoing']>[0]);
    }
    const { type, body } = await new SessionCipher(this.storage(), address).encrypt(plaintext);
    return {
      type: type === 3 ? 'pkmsg' : 'msg',
      ciphertext: Buffer.isBuffer(body) ? body : Buffer.from(body, 'binary'),
    };
  }

  async decrypt(
    name: string,
    device: number,
    type: SignalMessageType,
    ciphertext: Uint8Array,
  ): Promise<Buffer> {
    const cipher = new SessionCipher(this.storage(), new ProtocolAddress(name, device));
    return type === 'pkmsg'
      ? cipher.decryptPreKeyWhisperMessage(ciphertext)
      : cipher.decryptWhisperMessage(ciphertext);
  }

  private storage(): SignalStorage {
    const keys = this.keys;
    const identity = pair({
      public: Buffer.from(keys.identity.public, 'base64'),
      private: Buffer.from(keys.identity.private, 'base64'),
    });
    const signed = pair({
      public: Buffer.from(keys.signedPreKey.public, 'base64'),
      private: Buffer.from(keys.signedPreKey.private, 'base64'),
    });
    return {
      loadSession: (id) => Promise.resolve(this.loadSession(id)),
      storeSession: (id, session) => {
        this.keys.sessions[id] = JSON.stringify(session.serialize(), BufferJSON.replacer);
        this.onChange();
        return Promise.resolve();
      },
      // The emulated parties trust on first use; identity changes are not modelled.
      isTrustedIdentity: () => true,
      // Emulated parties publish no one-time pre-keys; sessions toward them use the signed key.
      loadPreKey: () => Promise.resolve(undefined),
      removePreKey: () => undefined,
      loadSignedPreKey: () => signed,
      getOurRegistrationId: () => keys.registrationId,
      getOurIdentity: () => identity,
    };
  }
}

/** WhatsApp's padding of a plaintext before encryption: 1–16 bytes, each holding the count. */
export function padMessage(plaintext: Uint8Array): Buffer {
  const count = randomInt(1, 17);
  return Buffer.concat([plaintext, Buffer.alloc(count, count)]);
}

export function unpadMessage(padded: Buffer): Buffer {
  const count = padded[padded.length - 1] ?? 0;
  if (count === 0 || count > 16 || count > padded.length)
    throw new Error('invalid message padding');
  return padded.subarray(0, padded.length - count);
}
