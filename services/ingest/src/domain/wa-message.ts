import {
  WaChatProtocolType,
  type MediaRef,
  type MessageStatus,
  type MessageType,
  type WaKey,
  type WaRawMessage,
} from '@wacrm/contracts';

/** What a message adds to a conversation, read from the proto's JSON form. */
export interface MessageContent {
  type: MessageType;
  body: string | null;
  media: MediaRef | null;
  location: { latitude: number; longitude: number; name: string | null } | null;
  quotedMessageId: string | null;
}

/** A raw message sorted into what ingest does with it. */
export type InboundItem =
  | { kind: 'skip'; reason: string }
  | {
      kind: 'content';
      key: WaKey;
      content: MessageContent;
      tsClient: Date;
      status: MessageStatus;
      senderName: string | null;
      resendRequested: boolean;
    }
  | { kind: 'edit'; key: WaKey; targetId: string; body: string | null }
  | { kind: 'revoke'; key: WaKey; targetId: string }
  | { kind: 'reaction'; key: WaKey; targetId: string; reactor: string; emoji: string };

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const num = (v: unknown): number | null => {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  return null;
};
const int = (v: unknown): number | null => {
  const n = num(v);
  return n === null || n < 0 ? null : Math.trunc(n);
};

/** Envelopes that carry the real message inside `.message` (FutureProofMessage). */
const WRAPPERS = [
  'ephemeralMessage',
  'viewOnceMessage',
  'viewOnceMessageV2',
  'viewOnceMessageV2Extension',
  'documentWithCaptionMessage',
  'editedMessage',
] as const;

/** Fields that ride along with content but are not content themselves. */
const NOT_CONTENT = new Set([
  'messageContextInfo',
  'senderKeyDistributionMessage',
  'fastRatchetKeySenderKeyDistributionMessage',
  'contextInfo',
]);

/** Votes, pins and keep-in-chat flags change another message's state; they are not messages. */
const SIGNALS = new Set([
  'pollUpdateMessage',
  'keepInChatMessage',
  'pinInChatMessage',
  'encReactionMessage',
]);

/** proto.Message.ProtocolMessage.Type: the ones that change a chat (one owner, libs/contracts). */
export const ProtocolType = WaChatProtocolType;

/** proto.WebMessageInfo.StubType.CIPHERTEXT: Baileys' marker of a message it could not decrypt. */
const STUB_CIPHERTEXT = 2;

export function unwrapMessage(message: Json): Json {
  let current = message;
  for (let depth = 0; depth < 6; depth++) {
    const wrapper = WRAPPERS.find((w) => isObject(current[w]) && isObject(current[w].message));
    if (wrapper === undefined) return current;
    current = (current[wrapper] as { message: Json }).message;
  }
  return current;
}

/** proto.WebMessageInfo.Status → our status, for messages we sent. */
export function statusFromWa(status: number | null): MessageStatus | null {
  switch (status) {
    case 0:
      return 'failed';
    case 1:
      return 'sending';
    case 2:
      return 'sent';
    case 3:
      return 'delivered';
    case 4:
    case 5:
      return 'read';
    default:
      return null;
  }
}

function quotedId(content: Json): string | null {
  const ctx = content.contextInfo;
  return isObject(ctx) ? str(ctx.stanzaId) : null;
}

const MEDIA_KINDS = {
  imageMessage: 'image',
  videoMessage: 'video',
  ptvMessage: 'video',
  audioMessage: 'audio',
  documentMessage: 'document',
  stickerMessage: 'sticker',
} as const satisfies Record<string, MediaRef['kind']>;

function mediaRef(kind: MediaRef['kind'], m: Json): MediaRef {
  return {
    kind,
    mimetype: str(m.mimetype),
    size: int(m.fileLength),
    fileName: str(m.fileName),
    caption: str(m.caption),
    directPath: str(m.directPath),
    url: str(m.url),
    mediaKeyBase64: str(m.mediaKey),
    fileSha256Base64: str(m.fileSha256),
    seconds: num(m.seconds),
    width: int(m.width),
    height: int(m.height),
    // The media worker keeps what it can download (issue 17).
    ...(str(m.mediaKey) !== null && str(m.directPath) !== null
      ? { status: 'pending' as const }
      : {}),
  };
}

const empty = (type: MessageType): MessageContent => ({
  type,
  body: null,
  media: null,
  location: null,
  quotedMessageId: null,
});

/** The content of an unwrapped message; `unknown` (kept, never dropped) when nothing is recognised. */
export function readContent(message: Json): MessageContent {
  if (typeof message.conversation === 'string') {
    return { ...empty('text'), body: message.conversation };
  }
  const extended = message.extendedTextMessage;
  if (isObject(extended)) {
    return { ...empty('text'), body: str(extended.text), quotedMessageId: quotedId(extended) };
  }
  for (const [field, kind] of Object.entries(MEDIA_KINDS)) {
    const m = message[field];
    if (!isObject(m)) continue;
    return {
      ...empty(kind),
      body: str(m.caption),
      media: mediaRef(kind, m),
      quotedMessageId: quotedId(m),
    };
  }
  const location = message.locationMessage ?? message.liveLocationMessage;
  if (isObject(location)) {
    const name = str(location.name) ?? str(location.address);
    return {
      ...empty('location'),
      body: name ?? str(location.caption),
      location: {
        latitude: num(location.degreesLatitude) ?? 0,
        longitude: num(location.degreesLongitude) ?? 0,
        name,
      },
      quotedMessageId: quotedId(location),
    };
  }
  const contact = message.contactMessage;
  if (isObject(contact)) {
    return { ...empty('contact'), body: str(contact.displayName) ?? str(contact.vcard) };
  }
  const contacts = message.contactsArrayMessage;
  if (isObject(contacts)) {
    return { ...empty('contact'), body: str(contacts.displayName) };
  }
  for (const field of [
    'pollCreationMessage',
    'pollCreationMessageV2',
    'pollCreationMessageV3',
    'pollCreationMessageV4',
    'pollCreationMessageV5',
  ]) {
    const poll = message[field];
    if (isObject(poll)) return { ...empty('poll'), body: str(poll.name) };
  }
  return empty('unknown');
}

function targetId(key: unknown): string | null {
  return isObject(key) ? str(key.id) : null;
}

/** Sorts one raw message: content to store, a change to another message, or nothing (with why). */
export function classify(raw: WaRawMessage): InboundItem {
  const { key } = raw;
  const tsClient = new Date(raw.messageTimestamp * 1000);
  const status: MessageStatus = key.fromMe ? (statusFromWa(raw.status) ?? 'sent') : 'received';
  const senderName = key.fromMe ? null : raw.pushName;

  if (raw.undecryptable || (raw.message === null && raw.messageStubType === STUB_CIPHERTEXT)) {
    return {
      kind: 'content',
      key,
      content: empty('placeholder'),
      tsClient,
      status,
      senderName,
      resendRequested: true,
    };
  }
  if (raw.message === null) {
    return { kind: 'skip', reason: `stub ${raw.messageStubType ?? 'none'} without content` };
  }
  const message = unwrapMessage(raw.message);

  const protocol = message.protocolMessage;
  if (isObject(protocol)) {
    const target = targetId(protocol.key);
    if (protocol.type === ProtocolType.REVOKE && target !== null) {
      return { kind: 'revoke', key, targetId: target };
    }
    if (protocol.type === ProtocolType.MESSAGE_EDIT && target !== null) {
      const edited = isObject(protocol.editedMessage) ? unwrapMessage(protocol.editedMessage) : {};
      return { kind: 'edit', key, targetId: target, body: readContent(edited).body };
    }
    return { kind: 'skip', reason: `protocol message type ${String(protocol.type)}` };
  }

  const reaction = message.reactionMessage;
  if (isObject(reaction)) {
    const target = targetId(reaction.key);
    if (target === null) return { kind: 'skip', reason: 'reaction without a target' };
    const reactor = key.fromMe ? 'me' : (key.participant ?? key.remoteJid);
    return { kind: 'reaction', key, targetId: target, reactor, emoji: str(reaction.text) ?? '' };
  }

  const keys = Object.keys(message).filter((k) => !NOT_CONTENT.has(k));
  if (keys.length === 0) {
    return { kind: 'skip', reason: 'key distribution only' };
  }
  const signal = keys.find((k) => SIGNALS.has(k));
  if (signal !== undefined && keys.length === 1) {
    return { kind: 'skip', reason: `${signal} is a signal about another message` };
  }
  return {
    kind: 'content',
    key,
    content: readContent(message),
    tsClient,
    status,
    senderName,
    resendRequested: false,
  };
}

/** The inbox preview of a message. */
export function previewText(content: MessageContent): string {
  const text = content.body ?? `[${content.type}]`;
  return text.length > 1000 ? `${text.slice(0, 999)}…` : text;
}
