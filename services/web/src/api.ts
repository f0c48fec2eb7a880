import type {
  AccountsResponse,
  AccountView,
  AddAccountResponse,
  AskResponse,
  AvailabilityView,
  ClientView,
  CreateEventBody,
  EventList,
  EventView,
  ExtractEventResponse,
  MarkReadAccepted,
  MeResponse,
  MessagePage,
  MessageView,
  PerformerList,
  PerformerView,
  ProblemDetails,
  QrResponse,
  SearchResponse,
  SendMessageAccepted,
  SendMessageBody,
  ThreadPage,
  ThreadView,
  UpdateEventBody,
  WebConfigResponse,
} from '@wacrm/contracts';
import type { z } from 'zod';

// Types only: the schemas stay on the server, the bundle carries no zod.
export type { AccountView, MessageView, ThreadView };
export type Event = z.infer<typeof EventView>;
export type Client = z.infer<typeof ClientView>;
export type Qr = z.infer<typeof QrResponse>;
export type Extraction = z.infer<typeof ExtractEventResponse>;
export type Answer = z.infer<typeof AskResponse>;
export type Me = z.infer<typeof MeResponse>;
export type WebConfig = z.infer<typeof WebConfigResponse>;
export type SearchResult = z.infer<typeof SearchResponse>;
export type NewEvent = z.input<typeof CreateEventBody>;
export type Performer = z.infer<typeof PerformerView>;
export type Availability = z.infer<typeof AvailabilityView>;

/** An answer outside 2xx, with the problem+json detail when the server sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Partial<ProblemDetails> | undefined,
  ) {
    super(problem?.detail ?? problem?.title ?? `HTTP ${status}`);
    this.name = 'ApiError';
  }
}

export type TokenSource = () => Promise<string>;

async function call<T>(
  token: TokenSource | null,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  const response = await fetch(path, {
    method,
    headers: {
      accept: 'application/json',
      ...(token !== null ? { authorization: `Bearer ${await token()}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  const json: unknown = text.length > 0 ? JSON.parse(text) : undefined;
  if (!response.ok) throw new ApiError(response.status, json as Partial<ProblemDetails>);
  return json as T;
}

const enc = encodeURIComponent;

export function fetchWebConfig(): Promise<WebConfig> {
  return call<WebConfig>(null, 'GET', '/api/web-config');
}

/** The HTTP API, authenticated with the session's bearer token. */
export function createApi(token: TokenSource) {
  const get = <T>(path: string) => call<T>(token, 'GET', path);
  const post = <T>(path: string, body?: unknown, headers?: Record<string, string>) =>
    call<T>(token, 'POST', path, body, headers);
  return {
    me: () => get<Me>('/api/me'),
    accounts: async () =>
      (await get<z.infer<typeof AccountsResponse>>('/api/whatsapp/accounts')).accounts,
    addAccount: (name: string, phone?: string) =>
      post<z.infer<typeof AddAccountResponse>>('/api/whatsapp/add-account', {
        name,
        ...(phone !== undefined ? { phone } : {}),
      }),
    qr: (accountId: string) => get<Qr>(`/api/whatsapp/qr/${enc(accountId)}`),
    regenerateQr: (accountId: string) => post(`/api/whatsapp/regenerate-qr/${enc(accountId)}`),
    requestPairingCode: (accountId: string, phone: string) =>
      post(`/api/whatsapp/pairing-code/${enc(accountId)}`, { phone }),
    backfill: (accountId: string) => post(`/api/whatsapp/backfill/${enc(accountId)}`),
    logout: (accountId: string) => post(`/api/whatsapp/logout/${enc(accountId)}`),
    threads: (accountId: string, cursor?: string) =>
      get<z.infer<typeof ThreadPage>>(
        `/api/threads?accountId=${enc(accountId)}&limit=100${cursor !== undefined ? `&cursor=${enc(cursor)}` : ''}`,
      ),
    thread: (threadId: string) => get<ThreadView>(`/api/threads/${enc(threadId)}`),
    messages: (threadId: string, cursor?: string, limit = 50) =>
      get<z.infer<typeof MessagePage>>(
        `/api/threads/${enc(threadId)}/messages?order=desc&limit=${limit}${cursor !== undefined ? `&cursor=${enc(cursor)}` : ''}`,
      ),
    /** Messages of a thread around a time: the older side (newest first) and the newer side. */
    messagesAround: async (threadId: string, at: string, limit = 25) => {
      const t = new Date(at).getTime();
      const base = `/api/threads/${enc(threadId)}/messages?limit=${limit}`;
      const [older, newer] = await Promise.all([
        get<z.infer<typeof MessagePage>>(
          `${base}&order=desc&until=${enc(new Date(t + 1).toISOString())}`,
        ),
        get<z.infer<typeof MessagePage>>(`${base}&order=asc&since=${enc(at)}`),
      ]);
      return [...older.items, ...newer.items];
    },
    /** Server-side search of one account's threads and messages. */
    search: (accountId: string, q: string, cursor?: string) =>
      get<z.infer<typeof SearchResponse>>(
        `/api/search?accountId=${enc(accountId)}&q=${enc(q)}&limit=20${cursor !== undefined ? `&cursor=${enc(cursor)}` : ''}`,
      ),
    send: (
      accountId: string,
      threadId: string,
      text: string,
      idempotencyKey: string,
      replyTo?: SendMessageBody['replyTo'],
    ) =>
      post<z.infer<typeof SendMessageAccepted>>(
        '/api/whatsapp/send',
        { accountId, threadId, text, ...(replyTo !== undefined ? { replyTo } : {}) },
        { 'idempotency-key': idempotencyKey },
      ),
    /** Read up to a message id (or a time): the thread's unread count drops to what came later. */
    markRead: (threadId: string, upTo: string) =>
      post<z.infer<typeof MarkReadAccepted>>(`/api/threads/${enc(threadId)}/read`, { upTo }),
    extractEvent: (accountId: string, threadId: string) =>
      post<Extraction>('/api/whatsapp/extract-event', { accountId, threadId, dryRun: true }),
    /** The same key for every try of one save: a retried save returns the first event. */
    saveEvent: (event: NewEvent, idempotencyKey: string) =>
      post<Event>('/api/crm/events', event, { 'idempotency-key': idempotencyKey }),
    /** An edit against the version read: another edit since is 409, a retry with the key is not. */
    updateEvent: (
      event: Pick<Event, 'id' | 'version'>,
      patch: z.input<typeof UpdateEventBody>,
      idempotencyKey: string,
    ) =>
      call<Event>(token, 'PATCH', `/api/crm/events/${enc(event.id)}`, patch, {
        'if-match': `"${event.version}"`,
        'idempotency-key': idempotencyKey,
      }),
    archiveEvent: (event: Pick<Event, 'id' | 'version'>, idempotencyKey: string) =>
      post<Event>(`/api/crm/events/${enc(event.id)}/archive`, undefined, {
        'if-match': `"${event.version}"`,
        'idempotency-key': idempotencyKey,
      }),
    client: (phoneE164: string) => get<Client>(`/api/crm/clients/${enc(phoneE164)}`),
    clientEvents: async (phoneE164: string) =>
      (await get<z.infer<typeof EventList>>(`/api/crm/clients/${enc(phoneE164)}/events`)).items,
    ask: (phoneE164: string, question: string) =>
      post<Answer>('/api/crm/ask', { phoneE164, question }),
    performers: (accountId: string) =>
      get<z.infer<typeof PerformerList>>(`/api/crm/performers?accountId=${enc(accountId)}`),
    /** Bookings overlapping [from, to) (wall times read in Europe/Bucharest). */
    calendar: (
      accountId: string,
      from: string,
      to: string,
      filter: { performerId?: string; character?: string } = {},
    ) =>
      get<z.infer<typeof EventList>>(
        `/api/crm/calendar?accountId=${enc(accountId)}&from=${enc(from)}&to=${enc(to)}${
          filter.performerId !== undefined ? `&performerId=${enc(filter.performerId)}` : ''
        }${filter.character !== undefined ? `&character=${enc(filter.character)}` : ''}`,
      ),
    /** Whether a character is free at a time (a wall time read in Europe/Bucharest). */
    availability: (accountId: string, character: string, start: string) =>
      get<Availability>(
        `/api/crm/availability?accountId=${enc(accountId)}&character=${enc(character)}&start=${enc(start)}`,
      ),
  };
}

export type Api = ReturnType<typeof createApi>;
