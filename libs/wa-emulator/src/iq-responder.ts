import {
  getBinaryNodeChild,
  getBinaryNodeChildBuffer,
  getBinaryNodeChildren,
  jidDecode,
  S_WHATSAPP_NET,
  type BinaryNode,
} from '@whiskeysockets/baileys';
import type { StoredAccount, StoredDevice } from './emulator-state.store.js';
import type { KeyBundle } from './key-bundle.types.js';

export type { KeyBundle } from './key-bundle.types.js';

/** One user as the network knows it: an emulated account's phone or an emulated contact. */
export interface DirectoryEntry {
  phone: string;
  lid: string;
  /** Device 0 is the phone; companions carry their key index. */
  devices: Array<{ id: number; keyIndex: number }>;
}

/** What the iq answers need from the emulator, for the logged-in device that asks. */
export interface IqSession {
  account: StoredAccount;
  device: StoredDevice;
  /** Number of one-time pre-keys a device may keep on the server. */
  maxPreKeys: number;
  /** Host name the media_conn answer points uploads to. */
  mediaHost: string;
  /** The upload auth token the media_conn answer hands out. */
  mediaAuth: string;
  lookup(jid: string): DirectoryEntry | undefined;
  /** Takes a one-time pre-key of a device (it is consumed), with the device's signed keys. */
  takeBundle(user: string, server: string, device: number): KeyBundle | undefined;
  /** The device stored new keys or removed itself; persist. */
  changed(): void;
  /** `remove-companion-device`: the device logs itself out. */
  removeDevice(): void;
  /** The `<group>` node of a group the account is in (w:g2 metadata), or undefined. */
  groupNode(groupJid: string): BinaryNode | undefined;
  /** Every group the account is in, as `<group>` nodes. */
  groupNodes(): BinaryNode[];
}

export class IqError extends Error {
  constructor(
    readonly code: number,
    readonly text: string,
  ) {
    super(`${code} ${text}`);
  }
}

const PRIVACY_DEFAULTS: Array<[string, string]> = [
  ['last', 'all'],
  ['online', 'all'],
  ['profile', 'all'],
  ['status', 'all'],
  ['readreceipts', 'all'],
  ['groupadd', 'all'],
  ['calladd', 'all'],
  ['messages', 'all'],
];

/**
 * Answers the iq queries Baileys sends once logged in. Every namespace gets an answer (an empty
 * result when there is nothing to model), so no query waits for Baileys' 60-second timeout.
 */
export function answerIq(node: BinaryNode, session: IqSession): BinaryNode {
  const content = answerContent(node, session);
  return {
    tag: 'iq',
    attrs: { from: S_WHATSAPP_NET, type: 'result', id: node.attrs.id ?? '' },
    ...(content !== undefined ? { content } : {}),
  };
}

/** The error form of an iq answer (Baileys turns it into a rejected query). */
export function iqErrorReply(node: BinaryNode, error: IqError): BinaryNode {
  return {
    tag: 'iq',
    attrs: { from: S_WHATSAPP_NET, type: 'error', id: node.attrs.id ?? '' },
    content: [{ tag: 'error', attrs: { code: String(error.code), text: error.text } }],
  };
}

function answerContent(node: BinaryNode, session: IqSession): BinaryNode[] | undefined {
  const first = Array.isArray(node.content) ? node.content[0] : undefined;
  switch (node.attrs.xmlns) {
    case 'encrypt':
      return answerEncrypt(node, first, session);
    case 'abt':
      return [{ tag: 'props', attrs: { protocol: '1', hash: 'wa-emulator-1' } }];
    case 'blocklist':
      return node.attrs.type === 'get' ? [{ tag: 'list', attrs: {} }] : undefined;
    case 'privacy':
      if (node.attrs.type !== 'get') return undefined;
      return [
        {
          tag: 'privacy',
          attrs: {},
          content: PRIVACY_DEFAULTS.map(([name, value]) => ({
            tag: 'category',
            attrs: { name, value },
          })),
        },
      ];
    case 'usync':
      return answerUsync(node, session);
    case 'w:sync:app:state':
      return answerAppState(node);
    case 'w:m':
      if (first?.tag !== 'media_conn') return undefined;
      return [
        {
          tag: 'media_conn',
          attrs: { auth: session.mediaAuth, ttl: '300', auth_ttl: '21600', max_buckets: '12' },
          content: [{ tag: 'host', attrs: { hostname: session.mediaHost } }],
        },
      ];
    case 'md':
      if (first?.tag === 'remove-companion-device') session.removeDevice();
      return undefined;
    case 'disappearing_mode':
      return undefined;
    case 'w:g2':
      return answerGroups(node, first, session);
    case 'w:profile:picture':
      // Nobody in the emulated network has a picture.
      throw new IqError(404, 'item-not-found');
    default:
      // passive, w:p (ping), w:stats, status, bot, w:biz and the rest: acknowledged, no data.
      return undefined;
  }
}

function answerEncrypt(
  node: BinaryNode,
  first: BinaryNode | undefined,
  session: IqSession,
): BinaryNode[] | undefined {
  const { device } = session;
  if (node.attrs.type === 'get' && first?.tag === 'count') {
    return [{ tag: 'count', attrs: { value: String(Object.keys(device.preKeys).length) } }];
  }
  if (node.attrs.type === 'get' && first?.tag === 'digest') {
    return [digestNode(device)];
  }
  if (node.attrs.type === 'set' && first?.tag === 'rotate') {
    const skey = getBinaryNodeChild(first, 'skey');
    if (!skey) throw new IqError(400, 'bad-request');
    device.signedPreKey = readSignedPreKey(skey);
    session.changed();
    return undefined;
  }
  if (node.attrs.type === 'set' && getBinaryNodeChild(node, 'list')) {
    storeUpload(node, session);
    return undefined;
  }
  if (node.attrs.type === 'get' && first?.tag === 'key') {
    return [bundleList(first, session)];
  }
  throw new IqError(400, 'bad-request');
}

function storeUpload(node: BinaryNode, session: IqSession): void {
  const { device } = session;
  const identity = getBinaryNodeChildBuffer(node, 'identity');
  const registration = getBinaryNodeChildBuffer(node, 'registration');
  const skey = getBinaryNodeChild(node, 'skey');
  if (!identity || identity.length !== 32 || !registration || registration.length !== 4 || !skey) {
    throw new IqError(400, 'bad-request');
  }
  if (Buffer.from(identity).toString('base64') !== device.identityKey) {
    // The identity was fixed at pairing; a different one is a different device.
    throw new IqError(409, 'conflict');
  }
  const keys = getBinaryNodeChildren(getBinaryNodeChild(node, 'list'), 'key');
  if (Object.keys(device.preKeys).length + keys.length > session.maxPreKeys) {
    throw new IqError(406, 'not-acceptable');
  }
  const uploaded: Record<string, string> = {};
  for (const key of keys) {
    const id = getBinaryNodeChildBuffer(key, 'id');
    const value = getBinaryNodeChildBuffer(key, 'value');
    if (!id || id.length !== 3 || !value || value.length !== 32) {
      throw new IqError(400, 'bad-request');
    }
    uploaded[String(Buffer.from(id).readUIntBE(0, 3))] = Buffer.from(value).toString('base64');
  }
  Object.assign(device.preKeys, uploaded);
  device.registrationId = Buffer.from(registration).readUInt32BE(0);
  device.signedPreKey = readSignedPreKey(skey);
  session.changed();
}

function readSignedPreKey(skey: BinaryNode): StoredDevice['signedPreKey'] {
  const id = getBinaryNodeChildBuffer(skey, 'id');
  const value = getBinaryNodeChildBuffer(skey, 'value');
  const signature = getBinaryNodeChildBuffer(skey, 'signature');
  if (!id || id.length !== 3 || !value || value.length !== 32)
    throw new IqError(400, 'bad-request');
  if (!signature || signature.length !== 64) throw new IqError(400, 'bad-request');
  return {
    id: Buffer.from(id).readUIntBE(0, 3),
    public: Buffer.from(value).toString('base64'),
    signature: Buffer.from(signature).toString('base64'),
  };
}

function digestNode(device: StoredDevice): BinaryNode {
  const ids = Object.keys(device.preKeys).map(Number);
  return {
    tag: 'digest',
    attrs: {},
    content: [
      { tag: 'type', attrs: {}, content: Buffer.from([5]) },
      { tag: 'identity', attrs: {}, content: Buffer.from(device.identityKey, 'base64') },
      {
        tag: 'skey',
        attrs: {},
        content: [
          { tag: 'id', attrs: {}, content: uint(device.signedPreKey.id, 3) },
          { tag: 'value', attrs: {}, content: Buffer.from(device.signedPreKey.public, 'base64') },
        ],
      },
      {
        tag: 'list',
        attrs: {},
        content: ids.map((id) => ({ tag: 'id', attrs: {}, content: uint(id, 3) })),
      },
    ],
  };
}

function bundleList(keyNode: BinaryNode, session: IqSession): BinaryNode {
  const users = getBinaryNodeChildren(keyNode, 'user').slice(0, 512);
  return {
    tag: 'list',
    attrs: {},
    content: users.map((user) => {
      const jid = user.attrs.jid ?? '';
      const decoded = jidDecode(jid);
      const bundle = decoded
        ? session.takeBundle(decoded.user, decoded.server, decoded.device ?? 0)
        : undefined;
      if (!bundle) {
        return {
          tag: 'user',
          attrs: { jid },
          content: [{ tag: 'error', attrs: { code: '404', text: 'item-not-found' } }],
        };
      }
      return {
        tag: 'user',
        attrs: { jid },
        content: [
          { tag: 'registration', attrs: {}, content: uint(bundle.registrationId, 4) },
          { tag: 'type', attrs: {}, content: Buffer.from([5]) },
          { tag: 'identity', attrs: {}, content: bundle.identityKey },
          {
            tag: 'skey',
            attrs: {},
            content: [
              { tag: 'id', attrs: {}, content: uint(bundle.signedPreKey.id, 3) },
              { tag: 'value', attrs: {}, content: bundle.signedPreKey.public },
              { tag: 'signature', attrs: {}, content: bundle.signedPreKey.signature },
            ],
          },
          ...(bundle.preKey
            ? [
                {
                  tag: 'key',
                  attrs: {},
                  content: [
                    { tag: 'id', attrs: {}, content: uint(bundle.preKey.id, 3) },
                    { tag: 'value', attrs: {}, content: bundle.preKey.public },
                  ],
                },
              ]
            : []),
        ],
      };
    }),
  };
}

function answerUsync(node: BinaryNode, session: IqSession): BinaryNode[] {
  const usync = getBinaryNodeChild(node, 'usync');
  const queryNode = getBinaryNodeChild(usync, 'query');
  const protocols = Array.isArray(queryNode?.content) ? queryNode.content.map((p) => p.tag) : [];
  const users = getBinaryNodeChildren(getBinaryNodeChild(usync, 'list'), 'user').slice(0, 1024);
  const list: BinaryNode[] = users.map((user) => {
    const contact = getBinaryNodeChild(user, 'contact');
    let jid = user.attrs.jid;
    if (!jid && contact && typeof contact.content !== 'undefined') {
      const phone = Buffer.from(contact.content as Uint8Array | string)
        .toString('utf8')
        .replace(/\D/g, '');
      jid = `${phone}@s.whatsapp.net`;
    }
    jid = jid ?? '';
    const entry = session.lookup(jid);
    const resultJid = entry && jid.endsWith('@lid') ? `${entry.lid}@lid` : jid;
    return {
      tag: 'user',
      attrs: { jid: resultJid },
      content: protocols.map((protocol): BinaryNode => {
        switch (protocol) {
          case 'devices':
            return {
              tag: 'devices',
              attrs: {},
              content: [
                {
                  tag: 'device-list',
                  attrs: {},
                  content: (entry?.devices ?? []).map((d): BinaryNode => ({
                    tag: 'device',
                    attrs:
                      d.id === 0
                        ? { id: '0' }
                        : { id: String(d.id), 'key-index': String(d.keyIndex) },
                  })),
                },
              ],
            };
          case 'lid':
            return { tag: 'lid', attrs: entry ? { val: `${entry.lid}@lid` } : {} };
          case 'contact':
            return { tag: 'contact', attrs: { type: entry ? 'in' : 'out' } };
          case 'disappearing_mode':
            return { tag: 'disappearing_mode', attrs: { duration: '0', t: '0' } };
          default:
            return { tag: protocol, attrs: {} };
        }
      }),
    };
  });
  return [
    {
      tag: 'usync',
      attrs: { ...(usync?.attrs ?? {}), last: 'true', index: '0' },
      content: [
        { tag: 'result', attrs: {} },
        { tag: 'list', attrs: {}, content: list },
      ],
    },
  ];
}

function answerAppState(node: BinaryNode): BinaryNode[] {
  const sync = getBinaryNodeChild(node, 'sync');
  // The emulated phone keeps no app state: every collection is at its requested version.
  return [
    {
      tag: 'sync',
      attrs: {},
      content: getBinaryNodeChildren(sync, 'collection')
        .slice(0, 16)
        .map((c) => ({
          tag: 'collection',
          attrs: { name: c.attrs.name ?? '', version: c.attrs.version ?? '0' },
        })),
    },
  ];
}

function answerGroups(
  node: BinaryNode,
  first: BinaryNode | undefined,
  session: IqSession,
): BinaryNode[] | undefined {
  if (node.attrs.type !== 'get') throw new IqError(405, 'not-allowed');
  if (first?.tag === 'participating') {
    return [{ tag: 'groups', attrs: {}, content: session.groupNodes() }];
  }
  if (first?.tag === 'query') {
    const group = session.groupNode(node.attrs.to ?? '');
    if (!group) throw new IqError(404, 'item-not-found');
    return [group];
  }
  throw new IqError(400, 'bad-request');
}

function uint(value: number, bytes: number): Buffer {
  const buffer = Buffer.alloc(bytes);
  buffer.writeUIntBE(value, 0, bytes);
  return buffer;
}
