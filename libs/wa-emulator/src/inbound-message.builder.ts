import { randomBytes } from 'node:crypto';
import { proto } from '@whiskeysockets/baileys';
import { WA_EMULATOR_MAX_MEDIA_BYTES, type WaEmulatorInboundBody } from '@wacrm/contracts';
import { EmulatorError } from './emulator-error.js';
import { encryptMedia, type EmulatedMediaType } from './media-crypto.js';

/** Where the contact's client put an encrypted file: what the media CDN answered. */
export type StoreMedia = (file: Buffer) => Promise<{ url: string; directPath: string }>;

export interface InboundContext {
  /** The chat as the contact sees it: the account's LID JID, or the group's JID. */
  chatJid: string;
  /** In a group, the JID of the account (the author of a message the account sent). */
  accountJid: string;
  isGroup: boolean;
  /** Whether the message a reaction, edit or revoke refers to was sent by the account. */
  targetFromAccount: boolean;
  storeMedia: StoreMedia;
}

const DEFAULT_MEDIA_BYTES = 1024;

/**
 * The `proto.Message` an emulated contact's client sends for one control-API body: real media
 * (encrypted with a fresh media key and uploaded to the emulator's CDN), and keys of reactions,
 * edits and revokes written from the contact's side, as WhatsApp clients write them.
 */
export async function buildInboundContent(
  body: WaEmulatorInboundBody,
  ctx: InboundContext,
): Promise<proto.IMessage> {
  const caption = body.media?.caption ?? (body.kind === 'text' ? undefined : body.text);
  switch (body.kind) {
    case 'text':
      return { conversation: body.text ?? '' };
    case 'image':
      return {
        imageMessage: {
          ...(await media(body, 'image', ctx, 'image/jpeg')),
          ...(caption !== undefined ? { caption } : {}),
          width: 800,
          height: 600,
        },
      };
    case 'video':
      return {
        videoMessage: {
          ...(await media(body, 'video', ctx, 'video/mp4')),
          ...(caption !== undefined ? { caption } : {}),
          seconds: 12,
        },
      };
    case 'audio':
      return {
        audioMessage: {
          ...(await media(body, 'audio', ctx, 'audio/ogg; codecs=opus')),
          seconds: 7,
          ptt: true,
        },
      };
    case 'document': {
      const fileName = body.media?.fileName ?? 'document.pdf';
      return {
        documentMessage: {
          ...(await media(body, 'document', ctx, 'application/pdf')),
          ...(caption !== undefined ? { caption } : {}),
          fileName,
          title: fileName,
        },
      };
    }
    case 'sticker':
      return {
        stickerMessage: { ...(await media(body, 'sticker', ctx, 'image/webp')), isAnimated: false },
      };
    case 'location':
      return {
        locationMessage: {
          degreesLatitude: 44.4268,
          degreesLongitude: 26.1025,
          ...(body.text !== undefined ? { name: body.text } : {}),
        },
      };
    case 'contact': {
      const name = body.text ?? 'Contact';
      return {
        contactMessage: {
          displayName: name,
          vcard: `BEGIN:VCARD\nVERSION:3.0\nFN:${name.replace(/[\r\n]/g, ' ')}\nTEL;type=CELL:${body.from}\nEND:VCARD`,
        },
      };
    }
    case 'reaction':
      return {
        reactionMessage: {
          key: targetKey(body, ctx),
          text: body.emoji ?? '👍',
          senderTimestampMs: Date.now(),
        },
      };
    case 'edit':
      return {
        protocolMessage: {
          type: proto.Message.ProtocolMessage.Type.MESSAGE_EDIT,
          key: targetKey(body, ctx),
          editedMessage: { conversation: body.text ?? '' },
          timestampMs: Date.now(),
        },
      };
    case 'revoke':
      return {
        protocolMessage: {
          type: proto.Message.ProtocolMessage.Type.REVOKE,
          key: targetKey(body, ctx),
        },
      };
  }
}

/** The key of the referred message from the contact's side (Baileys flips it on receipt). */
function targetKey(body: WaEmulatorInboundBody, ctx: InboundContext): proto.IMessageKey {
  return {
    remoteJid: ctx.chatJid,
    fromMe: !ctx.targetFromAccount,
    id: body.targetMessageId ?? '',
    ...(ctx.isGroup && ctx.targetFromAccount ? { participant: ctx.accountJid } : {}),
  };
}

async function media(
  body: WaEmulatorInboundBody,
  type: EmulatedMediaType,
  ctx: InboundContext,
  defaultMimetype: string,
) {
  let bytes: Buffer;
  if (body.media?.dataBase64 !== undefined) {
    bytes = Buffer.from(body.media.dataBase64, 'base64');
  } else {
    const size = body.media?.size ?? DEFAULT_MEDIA_BYTES;
    bytes = randomBytes(size);
  }
  if (bytes.length > WA_EMULATOR_MAX_MEDIA_BYTES) throw new EmulatorError(413, 'media too large');
  const encrypted = encryptMedia(bytes, type);
  const stored = await ctx.storeMedia(encrypted.file);
  return {
    url: stored.url,
    directPath: stored.directPath,
    mimetype: body.media?.mimetype ?? defaultMimetype,
    fileLength: encrypted.fileLength,
    mediaKey: encrypted.mediaKey,
    fileSha256: encrypted.fileSha256,
    fileEncSha256: encrypted.fileEncSha256,
    mediaKeyTimestamp: Math.floor(Date.now() / 1000),
  };
}
