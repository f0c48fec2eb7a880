import { createHash, randomBytes } from 'node:crypto';
import { proto } from '@whiskeysockets/baileys';
import type { SimulatorInboundBody } from '@wacrm/contracts';

/** A JID for an E.164 phone, the way WhatsApp writes it. */
export function phoneJid(phoneE164: string): string {
  return `${phoneE164.replace(/^\+/, '')}@s.whatsapp.net`;
}

export function simMessageId(...parts: string[]): string {
  return `SIM${createHash('sha256').update(parts.join('|')).digest('hex').slice(0, 17).toUpperCase()}`;
}

function mediaFields(media: SimulatorInboundBody['media'], seed: string) {
  const body = Buffer.from(`simulated media ${seed}`);
  return {
    url: `https://mmg.whatsapp.net/sim/${seed}.enc`,
    directPath: `/sim/${seed}.enc`,
    mimetype: media?.mimetype,
    fileLength: media?.size ?? body.length,
    mediaKey: randomBytes(32),
    fileSha256: createHash('sha256').update(body).digest(),
    fileEncSha256: createHash('sha256').update(seed).digest(),
    mediaKeyTimestamp: Math.floor(Date.now() / 1000),
  };
}

/** The `proto.Message` a client sending `body` produces. */
function messageContent(
  body: SimulatorInboundBody,
  id: string,
  target: proto.IMessageKey | undefined,
): proto.IMessage {
  const caption = body.media?.caption ?? body.text;
  switch (body.kind) {
    case 'text':
      return { conversation: body.text ?? '' };
    case 'image':
      return { imageMessage: { ...mediaFields(body.media, id), caption, width: 800, height: 600 } };
    case 'video':
      return { videoMessage: { ...mediaFields(body.media, id), caption, seconds: 12 } };
    case 'audio':
      return { audioMessage: { ...mediaFields(body.media, id), seconds: 7, ptt: true } };
    case 'document':
      return {
        documentMessage: {
          ...mediaFields(body.media, id),
          caption,
          fileName: body.media?.fileName ?? 'document.pdf',
          title: body.media?.fileName ?? 'document.pdf',
        },
      };
    case 'sticker':
      return { stickerMessage: { ...mediaFields(body.media, id), isAnimated: false } };
    case 'location':
      return {
        locationMessage: { degreesLatitude: 44.4268, degreesLongitude: 26.1025, name: body.text },
      };
    case 'contact':
      return {
        contactMessage: {
          displayName: body.text ?? 'Contact',
          vcard: `BEGIN:VCARD\nVERSION:3.0\nFN:${body.text ?? 'Contact'}\nTEL;type=CELL:${body.from}\nEND:VCARD`,
        },
      };
    case 'reaction':
      return {
        reactionMessage: { key: target, text: body.emoji ?? '👍', senderTimestampMs: Date.now() },
      };
    case 'edit':
      return {
        protocolMessage: {
          type: proto.Message.ProtocolMessage.Type.MESSAGE_EDIT,
          key: target,
          editedMessage: { conversation: body.text ?? '' },
          timestampMs: Date.now(),
        },
      };
    case 'revoke':
      return { protocolMessage: { type: proto.Message.ProtocolMessage.Type.REVOKE, key: target } };
    default:
      return { conversation: body.text ?? '' };
  }
}

/**
 * The `WebMessageInfo` the account's phone receives for one inbound body, built with Baileys'
 * own proto types so the gateway sees exactly what a real socket would deliver.
 */
export function buildInboundMessage(
  body: SimulatorInboundBody,
  id: string,
  targetFromMe: boolean,
): proto.WebMessageInfo {
  const sender = phoneJid(body.from);
  const remoteJid = body.groupId !== undefined ? `${body.groupId}@g.us` : sender;
  const target =
    body.targetMessageId !== undefined
      ? {
          remoteJid,
          fromMe: targetFromMe,
          id: body.targetMessageId,
          ...(body.groupId !== undefined && !targetFromMe ? { participant: sender } : {}),
        }
      : undefined;
  return proto.WebMessageInfo.fromObject({
    key: {
      remoteJid,
      fromMe: false,
      id,
      ...(body.groupId !== undefined ? { participant: sender } : {}),
    },
    message: messageContent(body, id, target),
    messageTimestamp: Math.floor(Date.now() / 1000),
    pushName: body.name ?? null,
    status: proto.WebMessageInfo.Status.DELIVERY_ACK,
  });
}

/** A message of a history sync: deterministic, so replaying history yields the same ids. */
export function buildHistoryMessage(input: {
  accountId: string;
  contactPhone: string;
  index: number;
  fromMe: boolean;
  timestamp: number;
}): proto.WebMessageInfo {
  return proto.WebMessageInfo.fromObject({
    key: {
      remoteJid: phoneJid(input.contactPhone),
      fromMe: input.fromMe,
      id: simMessageId('history', input.accountId, input.contactPhone, String(input.index)),
    },
    message: {
      conversation: input.fromMe
        ? `Mesaj trimis ${input.index} către ${input.contactPhone}`
        : `Bună ziua! Mesajul ${input.index} din istoric`,
    },
    messageTimestamp: input.timestamp,
    status: input.fromMe
      ? proto.WebMessageInfo.Status.READ
      : proto.WebMessageInfo.Status.DELIVERY_ACK,
  });
}

export function encodeWebMessage(message: proto.IWebMessageInfo): string {
  return Buffer.from(proto.WebMessageInfo.encode(message).finish()).toString('base64');
}

export function decodeWebMessage(base64: string): proto.WebMessageInfo {
  return proto.WebMessageInfo.decode(Buffer.from(base64, 'base64'));
}
