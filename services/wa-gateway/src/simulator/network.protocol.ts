import { z } from 'zod';

/**
 * The loopback WebSocket protocol between the `simulator` driver and the simulated network.
 * Messages travel as Baileys' own protobufs (base64 of `proto.WebMessageInfo.encode`), so the
 * driver hands the gateway exactly the objects a real Baileys socket would.
 */
export const ClientFrame = z.discriminatedUnion('t', [
  z.object({
    t: z.literal('hello'),
    accountId: z.string().min(1),
    instanceId: z.string().min(1),
    /** base64 of creds.noiseKey.public: the identity the network pairs with. */
    identity: z.string().min(1),
    registered: z.boolean(),
  }),
  z.object({ t: z.literal('ack'), seq: z.number().int().nonnegative() }),
  z.object({
    t: z.literal('send'),
    reqId: z.number().int(),
    jid: z.string().min(1),
    messageId: z.string().min(1),
    /** base64 of proto.Message.encode */
    message: z.string(),
  }),
  z.object({ t: z.literal('logout'), reqId: z.number().int() }),
  z.object({ t: z.literal('pairing-code'), reqId: z.number().int(), phone: z.string().min(6) }),
  z.object({
    t: z.literal('backfill'),
    reqId: z.number().int(),
    threads: z.number().int().positive(),
    messagesPerThread: z.number().int().positive(),
  }),
]);
export type ClientFrame = z.infer<typeof ClientFrame>;

export type NetworkEventName =
  | 'messages.upsert'
  | 'messaging-history.set'
  | 'messages.update'
  | 'message-receipt.update'
  | 'lid-mapping.update';

export type ServerFrame =
  | { t: 'qr'; qr: string }
  | { t: 'paired'; me: { id: string; name: string }; platform: string }
  | { t: 'open'; me: { id: string; name: string } }
  | { t: 'ev'; seq: number; name: NetworkEventName; data: unknown }
  | { t: 'result'; reqId: number; ok: boolean; error?: string; value?: unknown };

/** WebSocket close codes carry the DisconnectReason as 4000 + code (1000–3999 are reserved). */
export const CLOSE_CODE_BASE = 4000;
