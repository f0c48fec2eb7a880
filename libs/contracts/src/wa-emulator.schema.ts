import { z } from 'zod';
import {
  SIMULATOR_MAX_MEDIA_BYTES,
  SimulatorHistoryBody,
  SimulatorInboundBody,
} from './simulator.schema.js';

/**
 * Control API of the WhatsApp network emulator (libs/wa-emulator), beside the routes it shares
 * with the simulator (`SimulatorDisconnectBody`, …). Never served in production.
 */
export const WaEmulatorScanBody = z.object({
  /**
   * The QR string the client shows (Baileys' `connection.update` `qr`). The emulated phone needs
   * it: the adv secret that authenticates the pairing travels only in the QR, never to the server.
   */
  qr: z.string().min(10).max(1024),
});
export type WaEmulatorScanBody = z.infer<typeof WaEmulatorScanBody>;

export const WaEmulatorFaultBody = z.discriminatedUnion('kind', [
  /** Close with `<stream:error>` carrying this code (401 also removes the device). */
  z.object({ kind: z.literal('stream-error'), code: z.number().int().min(400).max(599) }),
  /** Drop the TCP connection without a close frame. */
  z.object({ kind: z.literal('drop') }),
  /** Keep the connection open but answer nothing, pings included. */
  z.object({ kind: z.literal('silence') }),
  /**
   * The next `count` inbound messages to the account reach its devices with a corrupted ciphertext:
   * the client cannot decrypt them, asks for a retry, and the contact resends a fresh pre-key message.
   */
  z.object({
    kind: z.literal('corrupt-inbound'),
    count: z.number().int().min(1).max(100).default(1),
  }),
  /**
   * The emulated contacts fail to decrypt the account's next `count` outbound messages (their copy
   * fails its MAC, as after a sender reused a ratchet position): each answers with a retry receipt,
   * as a phone does, and counts the message only when the resend decrypts.
   */
  z.object({
    kind: z.literal('corrupt-outbound'),
    count: z.number().int().min(1).max(100).default(1),
  }),
  /**
   * The connection of the device a receipt for the account's sent message is going to drops as the
   * receipt goes out, `count` times: the receipt is lost with the socket, never acked by the client.
   */
  z.object({
    kind: z.literal('drop-on-receipt'),
    count: z.number().int().min(1).max(100).default(1),
  }),
]);
export type WaEmulatorFaultBody = z.infer<typeof WaEmulatorFaultBody>;

export const WaEmulatorAccountView = z.object({
  accountId: z.string(),
  phone: z.string(),
  lid: z.string(),
  devices: z.array(
    z.object({
      deviceId: z.number().int(),
      jid: z.string(),
      platform: z.string(),
      preKeys: z.number().int().nonnegative(),
      connected: z.boolean(),
      /** The `client` label of the connected socket's URL (`&client=`), when it has one. */
      client: z.string().nullable(),
    }),
  ),
  /** A client of this account is connected and waiting for a scan. */
  awaitingScan: z.boolean(),
});
export type WaEmulatorAccountView = z.infer<typeof WaEmulatorAccountView>;

/** Largest decoded media an inbound message may carry through the control API (16 MiB). */
export const WA_EMULATOR_MAX_MEDIA_BYTES = SIMULATOR_MAX_MEDIA_BYTES;

/**
 * `POST /accounts/:accountId/inbound` on the emulator: the simulator's body (media with its real
 * bytes in `media.dataBase64`, else `media.size` bytes made up, default 1 KiB).
 */
export const WaEmulatorInboundBody = SimulatorInboundBody.safeExtend({
  /**
   * Lets a test replay the exact same message id; up to 512 characters, longer than any id the
   * inbound contract accepts (256), so a test can send a malformed id from the network.
   */
  messageId: z.string().min(1).max(512).optional(),
});
export type WaEmulatorInboundBody = z.infer<typeof WaEmulatorInboundBody>;

/** `POST /accounts/:accountId/retry-request`: the contact asks the account to resend a message. */
export const WaEmulatorRetryRequestBody = z.object({ messageId: z.string().min(1).max(128) });
export type WaEmulatorRetryRequestBody = z.infer<typeof WaEmulatorRetryRequestBody>;

/**
 * `POST /accounts/:accountId/history`: the phone sends history chunks of this sync type. RECENT
 * (default) is what every companion gets; FULL is what a desktop companion that asked for the full
 * history (`requireFullSync`) gets, and what Baileys drops by default.
 */
export const WaEmulatorHistoryBody = SimulatorHistoryBody.safeExtend({
  syncType: z.enum(['RECENT', 'FULL']).default('RECENT'),
});
export type WaEmulatorHistoryBody = z.infer<typeof WaEmulatorHistoryBody>;

/**
 * `POST /accounts/:accountId/expire-media`: the media CDN drops the file of a message the account
 * received (it answers 410, as WhatsApp's does after some weeks). `phoneHasIt: false` also makes
 * the account's phone lose its copy, so a re-upload request is answered NOT_FOUND;
 * `phoneAnswers: false` makes the phone stay silent (off, out of reach): a re-upload request gets
 * no answer at all.
 */
export const WaEmulatorExpireMediaBody = z.object({
  messageId: z.string().min(1).max(128),
  phoneHasIt: z.boolean().default(true),
  phoneAnswers: z.boolean().default(true),
});
export type WaEmulatorExpireMediaBody = z.infer<typeof WaEmulatorExpireMediaBody>;

/** `POST /accounts/:accountId/pairing-code`: the phone enters the code the client shows. */
export const WaEmulatorPairingCodeBody = z.object({
  code: z
    .string()
    .regex(/^[A-Za-z0-9]{4}-?[A-Za-z0-9]{4}$/)
    .transform((c) => c.replace('-', '').toUpperCase()),
});
export type WaEmulatorPairingCodeBody = z.infer<typeof WaEmulatorPairingCodeBody>;
