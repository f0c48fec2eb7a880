import { z } from 'zod';
import { AccountId, PhoneE164 } from './common.schema.js';

/**
 * Bodies of the dev routes `/api/dev/simulator/accounts/:accountId/*` (their paths and bodies are
 * kept for integrators' demos and scripts); the api-gateway forwards them to the WhatsApp network
 * emulator's control API (libs/wa-emulator), which takes the same bodies.
 */
/** Largest decoded file an inbound message may carry through the simulator routes (16 MiB). */
export const SIMULATOR_MAX_MEDIA_BYTES = 16 * 1024 * 1024;
/** `SIMULATOR_MAX_MEDIA_BYTES` as base64 text. */
export const SIMULATOR_MAX_MEDIA_BASE64_CHARS = Math.ceil(SIMULATOR_MAX_MEDIA_BYTES / 3) * 4;

export const SimulatorAccountParams = z.object({ accountId: AccountId });

export const SimulatorInboundBody = z
  .object({
    from: PhoneE164,
    name: z.string().min(1).max(100).optional(),
    kind: z
      .enum([
        'text',
        'image',
        'video',
        'audio',
        'document',
        'sticker',
        'location',
        'contact',
        'reaction',
        'edit',
        'revoke',
      ])
      .default('text'),
    text: z.string().min(1).max(65_536).optional(),
    /**
     * The file a media message carries: its real bytes as `dataBase64` (at most
     * SIMULATOR_MAX_MEDIA_BYTES decoded), or else `size` bytes the emulator makes up (1 KiB by
     * default), so demos and scripts can send a real photo, voice note or PDF.
     */
    media: z
      .object({
        mimetype: z.string().min(3).max(255),
        fileName: z.string().max(255).optional(),
        caption: z.string().max(4096).optional(),
        size: z.number().int().nonnegative().max(SIMULATOR_MAX_MEDIA_BYTES).optional(),
        dataBase64: z
          .string()
          .max(SIMULATOR_MAX_MEDIA_BASE64_CHARS)
          .regex(/^[A-Za-z0-9+/]*={0,2}$/)
          .optional(),
      })
      .optional(),
    /** The message a reaction, edit or revoke refers to. */
    targetMessageId: z.string().min(1).max(128).optional(),
    emoji: z.string().max(16).optional(),
    /** Lets a test replay the exact same message id (duplicates). */
    messageId: z.string().min(1).max(128).optional(),
    /** Group chats: the group id (digits) the message is posted in. */
    groupId: z
      .string()
      .regex(/^\d{6,30}$/)
      .optional(),
  })
  .refine(
    (b) => !['reaction', 'edit', 'revoke'].includes(b.kind) || b.targetMessageId !== undefined,
    {
      message: 'reaction, edit and revoke need targetMessageId',
      path: ['targetMessageId'],
    },
  )
  .refine((b) => !['text', 'edit'].includes(b.kind) || b.text !== undefined, {
    message: 'text and edit need text',
    path: ['text'],
  });
export type SimulatorInboundBody = z.infer<typeof SimulatorInboundBody>;

export const SimulatorHistoryBody = z.object({
  threads: z.number().int().min(1).max(1000),
  messagesPerThread: z.number().int().min(1).max(5000),
});
export type SimulatorHistoryBody = z.infer<typeof SimulatorHistoryBody>;

export const SimulatorDisconnectBody = z.object({
  /** A Baileys DisconnectReason code: 401, 408, 411, 428, 440, 500, 503, 515. */
  reason: z.number().int().min(400).max(599),
});
export type SimulatorDisconnectBody = z.infer<typeof SimulatorDisconnectBody>;

export const SimulatorAccepted = z.object({
  accountId: AccountId,
  messageIds: z.array(z.string()).optional(),
  status: z.string(),
});

/**
 * One message the simulated WhatsApp server received from an account's client (a send), as
 * `GET /accounts/:accountId/sent` lists them. A resend of the same id is the same message:
 * it is listed once and counted in `resends`.
 */
export const SimulatorSentMessage = z.object({
  messageId: z.string(),
  to: z.string(),
  kind: z.enum(['text', 'image', 'video', 'audio', 'document', 'other']),
  text: z.string().nullable(),
  caption: z.string().nullable(),
  mimetype: z.string().nullable(),
  fileName: z.string().nullable(),
  fileLength: z.number().int().nonnegative().nullable(),
  fileSha256Base64: z.string().nullable(),
  /** The message this one replies to (contextInfo.stanzaId). */
  quotedMessageId: z.string().nullable(),
  quotedParticipant: z.string().nullable(),
  receivedAt: z.iso.datetime(),
  resends: z.number().int().nonnegative(),
});
export type SimulatorSentMessage = z.infer<typeof SimulatorSentMessage>;

export const SimulatorSentList = z.object({
  accountId: AccountId,
  messages: z.array(SimulatorSentMessage),
});
export type SimulatorSentList = z.infer<typeof SimulatorSentList>;
