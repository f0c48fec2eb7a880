import { z } from 'zod';

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
    }),
  ),
  /** A client of this account is connected and waiting for a scan. */
  awaitingScan: z.boolean(),
});
export type WaEmulatorAccountView = z.infer<typeof WaEmulatorAccountView>;
