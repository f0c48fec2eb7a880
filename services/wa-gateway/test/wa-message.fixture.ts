import { createHash, randomBytes } from 'node:crypto';
import { proto, type WAMessage } from '@whiskeysockets/baileys';

/**
 * Test-only: Baileys `WAMessage` objects as a socket hands them to `messages.upsert` and
 * `messaging-history.set`, built with Baileys' own proto types.
 */
export function textMessage(input: {
  id: string;
  remoteJid: string;
  text: string;
  fromMe?: boolean;
  participant?: string;
  timestamp?: number;
}): WAMessage {
  return proto.WebMessageInfo.fromObject({
    key: {
      remoteJid: input.remoteJid,
      fromMe: input.fromMe ?? false,
      id: input.id,
      ...(input.participant !== undefined ? { participant: input.participant } : {}),
    },
    message: { conversation: input.text },
    messageTimestamp: input.timestamp ?? 1_700_000_000,
    status: input.fromMe
      ? proto.WebMessageInfo.Status.READ
      : proto.WebMessageInfo.Status.DELIVERY_ACK,
  }) as WAMessage;
}

/** An image as it arrives: the CDN path, the media key and the hashes of the encrypted file. */
export function imageMessage(input: {
  id: string;
  remoteJid: string;
  size: number;
  mimetype?: string;
}): WAMessage {
  const body = randomBytes(input.size);
  return proto.WebMessageInfo.fromObject({
    key: { remoteJid: input.remoteJid, fromMe: false, id: input.id },
    message: {
      imageMessage: {
        url: `https://mmg.whatsapp.net/v/t62.7118-24/${input.id}.enc`,
        directPath: `/v/t62.7118-24/${input.id}.enc`,
        mimetype: input.mimetype ?? 'image/jpeg',
        fileLength: input.size,
        mediaKey: randomBytes(32),
        fileSha256: createHash('sha256').update(body).digest(),
        fileEncSha256: randomBytes(32),
        mediaKeyTimestamp: 1_700_000_000,
        width: 800,
        height: 600,
      },
    },
    messageTimestamp: 1_700_000_000,
    status: proto.WebMessageInfo.Status.DELIVERY_ACK,
  }) as WAMessage;
}

/**
 * A protocol message the account's own phone sends its linked devices (`fromMe`, to the
 * account's own number), as Baileys upserts it after acting on it itself.
 */
export function ownDeviceProtocolMessage(input: {
  id: string;
  accountPhone: string;
  protocolMessage: proto.Message.IProtocolMessage;
}): WAMessage {
  return proto.WebMessageInfo.fromObject({
    key: { remoteJid: `${input.accountPhone}@s.whatsapp.net`, fromMe: true, id: input.id },
    message: { protocolMessage: input.protocolMessage },
    messageTimestamp: 1_700_000_000,
  }) as WAMessage;
}
