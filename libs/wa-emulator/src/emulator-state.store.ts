import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { Curve } from '@whiskeysockets/baileys';
import { z } from 'zod';
import { SignalParty, StoredSignalParty } from './signal-party.js';

const Base64 = z.string().max(8192);

const StoredDevice = z.object({
  deviceId: z.number().int().min(1).max(99),
  keyIndex: z.number().int().nonnegative(),
  /** The companion's Noise static key: a login must present it. */
  noiseKey: Base64,
  identityKey: Base64,
  registrationId: z.number().int().nonnegative(),
  signedPreKey: z.object({
    id: z.number().int().nonnegative(),
    public: Base64,
    signature: Base64,
  }),
  /** One-time pre-keys the companion uploaded, by id; a bundle query consumes one. */
  preKeys: z.record(z.string(), Base64),
  platform: z.string().max(64),
  pairedAt: z.iso.datetime(),
  /** The phone sent this device its initial history bootstrap. */
  historySent: z.boolean().default(false),
});
export type StoredDevice = z.infer<typeof StoredDevice>;

const StoredAccount = z.object({
  accountId: z.string().min(1).max(128),
  /** The phone number, digits only. */
  phone: z.string().regex(/^\d{6,20}$/),
  lid: z.string().regex(/^\d{6,20}$/),
  pushName: z.string().max(100),
  /** The phone's account identity (ADV) key pair, base64. */
  accountKey: z.object({ public: Base64, private: Base64 }),
  /** The phone's own Signal identity (device 0), created on first use. */
  phoneSignal: StoredSignalParty.optional(),
  nextDeviceId: z.number().int().min(1),
  nextKeyIndex: z.number().int().min(1),
  devices: z.record(z.string(), StoredDevice),
});
export type StoredAccount = z.infer<typeof StoredAccount>;

const StoredContact = z.object({
  phone: z.string().regex(/^\d{6,20}$/),
  lid: z.string().regex(/^\d{6,20}$/),
  name: z.string().max(100),
  signal: StoredSignalParty,
});
export type StoredContact = z.infer<typeof StoredContact>;

/**
 * A message for one device of an account that the device has not receipted yet: queued while the
 * device is offline, kept after sending until its receipt, so a restart of either side loses none.
 * The plaintext is kept, not the ciphertext: it is encrypted when (re)sent, with the session then.
 */
const PendingMessage = z.object({
  id: z.string().min(1).max(128),
  /** `phone` (the account's own phone) or the sending contact's number. */
  from: z.string().max(32),
  /** Group JID for a group message. */
  group: z.string().max(64).optional(),
  /** Seconds since the epoch, as the stanza's `t`. */
  t: z.number().int().nonnegative(),
  /** `text`, `media`, … (the stanza's `type`). */
  type: z.string().max(16),
  /** `proto.Message`, base64. */
  message: z.string().max(8 * 1024 * 1024),
  /** Times it was sent to the device. */
  sends: z.number().int().nonnegative().default(0),
});
export type PendingMessage = z.infer<typeof PendingMessage>;

const StoredGroup = z.object({
  jid: z.string().regex(/^\d{6,30}@g\.us$/),
  subject: z.string().max(100),
  creation: z.number().int().nonnegative(),
  /** Accounts in the group, by account id. */
  accounts: z.array(z.string().max(128)).max(1024),
  /** Contacts in the group, by phone number. */
  contacts: z.array(z.string().max(32)).max(1024),
});
export type StoredGroup = z.infer<typeof StoredGroup>;

const StateFile = z.object({
  version: z.literal(1),
  accounts: z.record(z.string(), StoredAccount),
  /** Emulated contacts (other WhatsApp users), by phone number. */
  contacts: z.record(z.string(), StoredContact).default({}),
  /** Undelivered or unreceipted messages by `accountId:deviceId`, oldest first. */
  pending: z.record(z.string(), z.array(PendingMessage)).default({}),
  groups: z.record(z.string(), StoredGroup).default({}),
});
type StateFile = z.infer<typeof StateFile>;

export const STATE_FILE_NAME = 'wa-emulator-state.json';

/**
 * The emulator's durable state: each account's phone (number, LID, account key) and its paired
 * companion devices with the keys they uploaded. Saved as one JSON file, replaced atomically
 * (write a temporary file, fsync, rename, fsync the directory), so a crash leaves the old or the
 * new state, never half of one.
 */
export class EmulatorStateStore {
  private state: StateFile = { version: 1, accounts: {}, contacts: {}, pending: {}, groups: {} };
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;

  private constructor(private readonly dir: string | undefined) {}

  /** Loads the state under `dir` (created when missing); without a dir the state lives in memory. */
  static async open(dir: string | undefined): Promise<EmulatorStateStore> {
    const store = new EmulatorStateStore(dir);
    if (dir === undefined) return store;
    await mkdir(dir, { recursive: true });
    let text: string | undefined;
    try {
      text = await readFile(join(dir, STATE_FILE_NAME), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (text !== undefined) store.state = StateFile.parse(JSON.parse(text));
    return store;
  }

  accounts(): StoredAccount[] {
    return Object.values(this.state.accounts);
  }

  account(accountId: string): StoredAccount | undefined {
    return this.state.accounts[accountId];
  }

  accountByPhone(phone: string): StoredAccount | undefined {
    return this.accounts().find((a) => a.phone === phone);
  }

  /** The account's phone, created on first use with a number and LID derived from the id. */
  ensureAccount(accountId: string, phone?: string): StoredAccount {
    const existing = this.state.accounts[accountId];
    if (existing) return existing;
    const keyPair = Curve.generateKeyPair();
    const account: StoredAccount = {
      accountId,
      phone: phone ?? this.freeNumber(`phone|${accountId}`, '4075', 7),
      lid: this.freeNumber(`lid|${accountId}`, '1', 14),
      pushName: `Emulated ${accountId}`.slice(0, 100),
      accountKey: {
        public: Buffer.from(keyPair.public).toString('base64'),
        private: Buffer.from(keyPair.private).toString('base64'),
      },
      nextDeviceId: 1,
      nextKeyIndex: 1,
      devices: {},
    };
    this.state.accounts[accountId] = account;
    this.dirty = true;
    return account;
  }

  /** Whether a number or LID already belongs to an account or contact. */
  numberTaken(value: string): boolean {
    return (
      this.accounts().some((a) => a.phone === value || a.lid === value) ||
      Object.values(this.state.contacts).some((c) => c.phone === value || c.lid === value)
    );
  }

  contact(phone: string): StoredContact | undefined {
    return this.state.contacts[phone];
  }

  contactByLid(lid: string): StoredContact | undefined {
    return Object.values(this.state.contacts).find((c) => c.lid === lid);
  }

  /** The contact with this number, created with its own Signal identity on first use. */
  ensureContact(phone: string, name: string | undefined): StoredContact {
    const existing = this.state.contacts[phone];
    if (existing) {
      if (name !== undefined && existing.name !== name) {
        existing.name = name;
        this.dirty = true;
      }
      return existing;
    }
    const contact: StoredContact = {
      phone,
      lid: this.freeNumber(`contact-lid|${phone}`, '2', 14),
      name: name ?? `+${phone}`,
      signal: SignalParty.create().stored,
    };
    this.state.contacts[phone] = contact;
    this.dirty = true;
    return contact;
  }

  /** The device's unreceipted messages (a live array: change it, then `markChanged`). */
  pending(accountId: string, deviceId: number): PendingMessage[] {
    const key = `${accountId}:${deviceId}`;
    let list = this.state.pending[key];
    if (!list) {
      list = [];
      this.state.pending[key] = list;
    }
    return list;
  }

  dropPending(accountId: string, deviceId: number): void {
    delete this.state.pending[`${accountId}:${deviceId}`];
    this.dirty = true;
  }

  group(jid: string): StoredGroup | undefined {
    return this.state.groups[jid];
  }

  groups(): StoredGroup[] {
    return Object.values(this.state.groups);
  }

  /** The group with this JID, created with the account as its first member on first use. */
  ensureGroup(jid: string, accountId: string): StoredGroup {
    let group = this.state.groups[jid];
    if (!group) {
      group = {
        jid,
        subject: `Group ${jid.slice(0, jid.indexOf('@'))}`.slice(0, 100),
        creation: Math.floor(Date.now() / 1000),
        accounts: [],
        contacts: [],
      };
      this.state.groups[jid] = group;
    }
    if (!group.accounts.includes(accountId)) group.accounts.push(accountId);
    this.dirty = true;
    return group;
  }

  /** Call after changing an account or device in place; `flush` makes it durable. */
  markChanged(): void {
    this.dirty = true;
  }

  /** Resolves once every change made before the call is on disk. */
  flush(): Promise<void> {
    if (this.dir === undefined) {
      this.dirty = false;
      return Promise.resolve();
    }
    const dir = this.dir;
    this.writing = this.writing.then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      await writeAtomically(dir, STATE_FILE_NAME, JSON.stringify(this.state));
    });
    return this.writing;
  }

  private freeNumber(seed: string, prefix: string, digits: number): string {
    const taken = new Set([
      ...this.accounts().flatMap((a) => [a.phone, a.lid]),
      ...Object.values(this.state.contacts).flatMap((c) => [c.phone, c.lid]),
    ]);
    for (let attempt = 0; ; attempt++) {
      const hash = createHash('sha256').update(`${seed}|${attempt}`).digest();
      const value = hash.readBigUInt64BE(0) % 10n ** BigInt(digits);
      const candidate = `${prefix}${value.toString().padStart(digits, '0')}`;
      if (!taken.has(candidate)) return candidate;
    }
  }
}

async function writeAtomically(dir: string, name: string, text: string): Promise<void> {
  const target = join(dir, name);
  const temporary = `${target}.${process.pid}.tmp`;
  const file = await open(temporary, 'w', 0o600);
  try {
    await file.writeFile(text, 'utf8');
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temporary, target);
  const directory = await open(dir, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}
