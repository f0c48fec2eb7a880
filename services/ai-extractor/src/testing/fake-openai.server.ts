import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What the fake answers to one chat-completion request. */
export type FakeReply =
  /** A completion whose message content is `content` verbatim (valid JSON or not). */
  | { kind: 'content'; content: string }
  /** An HTTP error, e.g. 429 with `retry-after`. */
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: unknown }
  /** Never answers: the client's timeout must fire. */
  | { kind: 'hang' };

export interface RecordedRequest {
  path: string;
  authorization: string | undefined;
  body: {
    model?: string;
    messages?: Array<{ role: string; content: string }>;
    response_format?: { type: string };
  };
  receivedAt: number;
}

export interface FakeOpenAiServer {
  /** The `baseURL` to give groq-sdk (it appends `/openai/v1/chat/completions`). */
  baseURL: string;
  requests: RecordedRequest[];
  /** Replies used in order, one per request; after them, `fallback` answers. */
  script(...replies: FakeReply[]): void;
  /** Answers every request the script does not cover (default: a 500). */
  setFallback(reply: FakeReply | ((request: RecordedRequest) => FakeReply)): void;
  close(): Promise<void>;
}

/**
 * A local stand-in for Groq's OpenAI-compatible chat API on 127.0.0.1: the production groq-sdk
 * client talks HTTP to it exactly as it would to api.groq.com.
 */
export async function startFakeOpenAiServer(): Promise<FakeOpenAiServer> {
  const requests: RecordedRequest[] = [];
  const scripted: FakeReply[] = [];
  let fallback: FakeReply | ((request: RecordedRequest) => FakeReply) = {
    kind: 'status',
    status: 500,
    body: { error: { message: 'fake server: no reply scripted' } },
  };
  const sockets = new Set<Socket>();

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let body: RecordedRequest['body'] = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as RecordedRequest['body'];
      } catch {
        // Recorded as empty; the reply decides what happens.
      }
      const recorded: RecordedRequest = {
        path: req.url ?? '',
        authorization: req.headers.authorization,
        body,
        receivedAt: Date.now(),
      };
      requests.push(recorded);
      if (req.method !== 'POST' || recorded.path !== '/openai/v1/chat/completions') {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `no route ${req.method} ${recorded.path}` } }));
        return;
      }
      const next =
        scripted.shift() ?? (typeof fallback === 'function' ? fallback(recorded) : fallback);
      reply(res, next, body.model ?? 'fake-model');
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseURL: `http://127.0.0.1:${port}`,
    requests,
    script(...replies) {
      scripted.push(...replies);
    },
    setFallback(reply) {
      fallback = reply;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function reply(res: ServerResponse, next: FakeReply, model: string): void {
  if (next.kind === 'hang') return;
  if (next.kind === 'status') {
    res.writeHead(next.status, { 'content-type': 'application/json', ...next.headers });
    res.end(JSON.stringify(next.body ?? { error: { message: `fake status ${next.status}` } }));
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      id: `chatcmpl-fake-${Date.now()}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: next.content },
          finish_reason: 'stop',
          logprobs: null,
        },
      ],
      usage: { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 },
    }),
  );
}
