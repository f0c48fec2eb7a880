import type { RealtimeEvent, RealtimeFrame } from '@wacrm/api-client';
import type { TokenSource } from './api.js';

export type { RealtimeEvent };

/** The `event:` names of the stream's control frames; every other name is an event's type. */
const CONTROL: ReadonlySet<string> = new Set<
  Exclude<RealtimeFrame['event'], RealtimeEvent['type']>
>(['resync', 'end']);

/** One parsed Server-Sent Events frame. */
export interface SseFrame {
  id: string | undefined;
  event: string;
  data: string;
  retry: number | undefined;
}

/**
 * Incremental text/event-stream parser (the WHATWG rules: `field: value` lines, a blank line ends
 * a frame, `:` starts a comment, multi-line data joined with "\n").
 */
export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private event = '';
  private id: string | undefined;
  private retry: number | undefined;

  push(chunk: string): SseFrame[] {
    this.buffer += chunk;
    const frames: SseFrame[] = [];
    let newline: number;
    while ((newline = this.buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = this.buffer.slice(0, newline);
      const width = this.buffer.startsWith('\r\n', newline) ? 2 : 1;
      this.buffer = this.buffer.slice(newline + width);
      if (line === '') {
        if (this.data.length > 0 || this.id !== undefined || this.retry !== undefined) {
          frames.push({
            id: this.id,
            event: this.event === '' ? 'message' : this.event,
            data: this.data.join('\n'),
            retry: this.retry,
          });
        }
        this.data = [];
        this.event = '';
        this.id = undefined;
        this.retry = undefined;
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'data') this.data.push(value);
      else if (field === 'event') this.event = value;
      else if (field === 'id' && !value.includes('\0')) this.id = value;
      else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
    }
    return frames;
  }
}

export type ConnectionState = 'connecting' | 'live' | 'reconnecting';

export interface RealtimeOptions {
  token: TokenSource;
  onEvent: (event: RealtimeEvent) => void;
  /** Events may have been missed (a gap, or a reconnect): reload from the API. */
  onResync: () => void;
  onState: (state: ConnectionState) => void;
  /** The credentials were refused: the session is over. */
  onUnauthorized: () => void;
}

/**
 * `/api/stream` over fetch rather than EventSource, so the bearer token travels in the
 * Authorization header (never in a URL, where logs and history would keep it). Resumes with
 * Last-Event-ID after a drop, with a capped backoff.
 */
export function connectRealtime(options: RealtimeOptions): () => void {
  const controller = new AbortController();
  let lastEventId: string | undefined;
  let retryMs = 1000;
  let stopped = false;

  const run = async (): Promise<void> => {
    let attempt = 0;
    while (!stopped) {
      options.onState(attempt === 0 ? 'connecting' : 'reconnecting');
      try {
        const response = await fetch('/api/stream', {
          headers: {
            accept: 'text/event-stream',
            authorization: `Bearer ${await options.token()}`,
            ...(lastEventId !== undefined ? { 'last-event-id': lastEventId } : {}),
          },
          signal: controller.signal,
          cache: 'no-store',
        });
        if (response.status === 401) {
          options.onUnauthorized();
          return;
        }
        if (!response.ok || response.body === null) throw new Error(`HTTP ${response.status}`);
        options.onState('live');
        // Anything may have changed while disconnected and the replay window is finite.
        if (attempt > 0) options.onResync();
        attempt = 0;
        const parser = new SseParser();
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const frame of parser.push(value)) {
            if (frame.retry !== undefined) retryMs = Math.min(Math.max(frame.retry, 500), 30_000);
            if (frame.id !== undefined) lastEventId = frame.id;
            if (frame.event === 'resync') {
              options.onResync();
            } else if (!CONTROL.has(frame.event) && frame.data !== '') {
              // 'end' needs nothing here: the server closes the stream and the loop reconnects.
              options.onEvent(JSON.parse(frame.data) as RealtimeEvent);
            }
          }
        }
      } catch (error) {
        if (stopped) return;
        console.warn('realtime stream dropped', error);
      }
      attempt += 1;
      options.onState('reconnecting');
      const delay = Math.min(retryMs * 2 ** Math.min(attempt - 1, 4), 30_000);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  };
  void run();
  return () => {
    stopped = true;
    controller.abort();
  };
}
