import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  RealtimeChannel,
  RealtimeEvent,
  realtimeEventAccountIds,
  RealtimeStreamKeySuffix,
} from '@wacrm/contracts';
import {
  Attr,
  currentTraceparent,
  SpanKind,
  TRACEPARENT,
  withSpan,
  type Logger,
} from '@wacrm/observability';

export interface StreamEntry {
  id: string;
  event: RealtimeEvent;
  /** The trace that produced the event (W3C traceparent), when it had one. */
  traceparent?: string;
}

/** The `traceparent` riding along a pub/sub notification or a stream entry, if well-formed. */
function traceparentIn(value: unknown): string | undefined {
  return typeof value === 'string' && TRACEPARENT.test(value) ? value : undefined;
}

export function realtimeStreamKey(prefix: string): string {
  return `${prefix}:${RealtimeStreamKeySuffix}`;
}

/** Stream ids are `<ms>-<seq>`; compares them numerically. */
export function compareStreamIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am !== bm ? am - bm : as - bs;
}

export const STREAM_ID = /^\d{1,20}-\d{1,20}$/;

function parseEntries(raw: unknown, logger: Logger): StreamEntry[] {
  const entries: StreamEntry[] = [];
  for (const item of (raw as Array<[string, string[]]> | null) ?? []) {
    const [id, fields] = item;
    const index = fields.indexOf('e');
    const value = index >= 0 ? fields[index + 1] : undefined;
    const tpIndex = fields.indexOf('tp');
    const traceparent = traceparentIn(tpIndex >= 0 ? fields[tpIndex + 1] : undefined);
    let event: RealtimeEvent | undefined;
    try {
      const parsed = RealtimeEvent.safeParse(JSON.parse(value ?? 'null'));
      if (parsed.success) event = parsed.data;
    } catch {
      event = undefined;
    }
    if (event === undefined) {
      logger.warn({ streamId: id }, 'realtime stream entry is not a RealtimeEvent; skipped');
      continue;
    }
    entries.push(traceparent !== undefined ? { id, event, traceparent } : { id, event });
  }
  return entries;
}

// Dedup and append in one step: with several gateway replicas subscribed to the same channel,
// exactly one of them appends each notification. ARGV[4], when not empty, is the traceparent.
const APPEND_ONCE = `
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[3]) then
  if ARGV[4] ~= '' then
    return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], '*', 'e', ARGV[2], 'tp', ARGV[4])
  end
  return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], '*', 'e', ARGV[2])
end
return false`;

/** Where the send route notes when it accepted a send, keyed by its WhatsApp message id. */
export function sendAcceptedKey(prefix: string, waMessageId: string): string {
  return `${prefix}:send-accepted:${waMessageId}`;
}

/**
 * Relays RealtimeChannel pub/sub notifications into the capped realtime stream, which SSE
 * (Last-Event-ID) and webhooks read. Identical notifications within `dedupSeconds` are one.
 */
export async function startRealtimeRelay(options: {
  subscriber: Redis;
  redis: Redis;
  prefix: string;
  maxLen: number;
  logger: Logger;
  dedupSeconds?: number;
  /** Observes accept → server ack of sends, on the one replica that appended the `sent` event. */
  sendLatency?: { observe(seconds: number): void };
}): Promise<{ close(): Promise<void> }> {
  const key = realtimeStreamKey(options.prefix);
  options.subscriber.on('message', (channel: string, message: string) => {
    if (channel !== RealtimeChannel) return;
    let parsed: ReturnType<typeof RealtimeEvent.safeParse>;
    let traceparent: string | undefined;
    try {
      const json = JSON.parse(message) as unknown;
      parsed = RealtimeEvent.safeParse(json);
      traceparent = traceparentIn((json as { traceparent?: unknown } | null)?.traceparent);
    } catch {
      options.logger.warn({ channel }, 'realtime notification is not JSON; dropped');
      return;
    }
    if (!parsed.success) {
      options.logger.warn(
        { channel, issues: parsed.error.issues.length },
        'realtime notification outside its contract; dropped',
      );
      return;
    }
    const body = JSON.stringify(parsed.data);
    const seen = `${options.prefix}:realtime:seen:${createHash('sha256').update(body).digest('hex').slice(0, 32)}`;
    const event = parsed.data;
    const append = (tp: string) =>
      options.redis.eval(
        APPEND_ONCE,
        2,
        seen,
        key,
        options.maxLen,
        body,
        options.dedupSeconds ?? 300,
        tp,
      );
    // The relay continues the trace of the job that published the event; the stream entry
    // carries this span on to the SSE push.
    const appending =
      traceparent === undefined
        ? append('')
        : withSpan(
            'realtime.relay',
            {
              kind: SpanKind.CONSUMER,
              parent: { traceparent },
              attributes: {
                [Attr.accountId]: realtimeEventAccountIds(event).join(','),
                [Attr.eventType]: event.type,
              },
            },
            () => append(currentTraceparent() ?? ''),
          );
    appending
      .then(async (appended) => {
        if (appended === null || options.sendLatency === undefined) return;
        if (event.type !== 'message.status' || event.status !== 'sent') return;
        const accepted = await options.redis.getdel(
          sendAcceptedKey(options.prefix, event.messageId),
        );
        if (accepted !== null) {
          options.sendLatency.observe(Math.max(0, Date.parse(event.at) - Number(accepted)) / 1000);
        }
      })
      .catch((error: unknown) =>
        options.logger.warn(
          { err: error },
          'could not append a realtime event to the stream (Redis); SSE clients resync from Firestore',
        ),
      );
  });
  await options.subscriber.subscribe(RealtimeChannel);
  return {
    async close() {
      await options.subscriber.unsubscribe(RealtimeChannel).catch(() => undefined);
    },
  };
}

export interface RealtimeHub {
  subscribe(listener: (entry: StreamEntry) => void): () => void;
  /** Entries after `afterId` (exclusive), oldest first, at most `count`. */
  replay(afterId: string, count: number): Promise<StreamEntry[]>;
  /** The oldest id still kept, or undefined for an empty stream. */
  oldestId(): Promise<string | undefined>;
  readonly listeners: number;
  close(): Promise<void>;
}

/**
 * One blocking XREAD loop per process fans the stream out to every SSE connection, so a
 * thousand clients cost one Redis reader.
 */
export function startRealtimeHub(options: {
  reader: Redis;
  redis: Redis;
  prefix: string;
  logger: Logger;
  blockMs?: number;
}): RealtimeHub {
  const key = realtimeStreamKey(options.prefix);
  const listeners = new Set<(entry: StreamEntry) => void>();
  let stopped = false;
  let lastId: string | undefined;

  const loop = async () => {
    while (!stopped) {
      try {
        if (lastId === undefined) {
          const newest = (await options.reader.xrevrange(key, '+', '-', 'COUNT', 1)) as Array<
            [string, string[]]
          >;
          lastId = newest[0]?.[0] ?? '0-0';
        }
        const result = await options.reader.xread(
          'COUNT',
          500,
          'BLOCK',
          options.blockMs ?? 5_000,
          'STREAMS',
          key,
          lastId,
        );
        const raw = result?.[0]?.[1] ?? [];
        const last = raw.at(-1);
        if (last !== undefined) lastId = last[0];
        for (const entry of parseEntries(raw, options.logger)) {
          for (const listener of listeners) listener(entry);
        }
      } catch (error) {
        if (stopped) break;
        options.logger.warn({ err: error }, 'realtime stream read failed; retrying in 1 s');
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  };
  const running = loop();

  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async replay(afterId, count) {
      return parseEntries(
        await options.redis.xrange(key, `(${afterId}`, '+', 'COUNT', count),
        options.logger,
      );
    },
    async oldestId() {
      const oldest = (await options.redis.xrange(key, '-', '+', 'COUNT', 1)) as Array<
        [string, string[]]
      >;
      return oldest[0]?.[0];
    },
    get listeners() {
      return listeners.size;
    },
    async close() {
      stopped = true;
      options.reader.disconnect();
      await running;
    },
  };
}
