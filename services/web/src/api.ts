import {
  createApiClient,
  type ApiClient,
  type ApiProblem,
  type ApiRequestBody,
  type ApiResponse,
  type operations,
} from '@wacrm/api-client';

// Every type here comes from the client generated from the API's OpenAPI document
// (libs/api-client): the bundle carries no schema, and a route change the web client does not
// follow is a compile error.
export type NoteView = ApiResponse<'listThreadNotes'>['items'][number];
export type InboxSettings = ApiResponse<'getInboxSettings'>;
/** The inbox list's filters (issue 20): assignee, stage, label, waiting clients. */
export type ThreadFilter = Partial<
  Pick<operations['listThreads']['parameters']['query'], 'assigned' | 'stage' | 'label' | 'waiting'>
>;
export type AccountView = ApiResponse<'listAccounts'>['accounts'][number];
export type ThreadView = ApiResponse<'getThread'>;
export type MessageView = ApiResponse<'listThreadMessages'>['items'][number];
export type Event = ApiResponse<'updateEvent'>;
export type Client = ApiResponse<'getClient'>;
export type Qr = ApiResponse<'getAccountQr'>;
export type Extraction = ApiResponse<'extractEvent'>;
export type Answer = ApiResponse<'askCrm'>;
export type Me = ApiResponse<'getMe'>;
export type WebConfig = ApiResponse<'getWebConfig'>;
export type SearchResult = ApiResponse<'search'>;
export type NewEvent = ApiRequestBody<'createEvent'>;
export type Performer = ApiResponse<'listPerformers'>['items'][number];
export type Availability = ApiResponse<'getAvailability'>;
export type Due = ApiResponse<'listDues'>['items'][number];
export type Dues = ApiResponse<'listDues'>;
export type NewPayment = ApiRequestBody<'recordPayment'>;
export type MonthlyReport = ApiResponse<'getMonthlyReport'>;
export type ClientList = ApiResponse<'listClients'>;
export type ClientListQuery = NonNullable<operations['listClients']['parameters']['query']>;
export type ExportKind = operations['exportCsv']['parameters']['path']['kind'];
type SendBody = ApiRequestBody<'sendMessage'>;
export type ScheduledSend = ApiResponse<'listScheduledSends'>['items'][number];
export type QuickReply = ApiResponse<'listMessageTemplates'>['items'][number];
export type Reminder = ApiResponse<'listReminders'>['items'][number];
export type ReminderKind = Reminder['kind'];
export type MediaUploaded = ApiResponse<'uploadMedia', 201>;
type EventPatch = ApiRequestBody<'updateEvent'>;

/** An answer outside 2xx, with the problem+json detail when the server sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Partial<ApiProblem> | undefined,
  ) {
    super(problem?.detail ?? problem?.title ?? `HTTP ${status}`);
    this.name = 'ApiError';
  }
}

export type TokenSource = () => Promise<string>;

/** The answer's body on 2xx; an ApiError with the problem otherwise. */
async function ok<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>) {
  const { data, error, response } = await call;
  if (!response.ok) throw new ApiError(response.status, error as Partial<ApiProblem> | undefined);
  return data as T;
}

function client(token: TokenSource | null): ApiClient {
  // Same origin: the gateway serves this client and the API.
  const api = createApiClient({ baseUrl: globalThis.location?.origin ?? '' });
  if (token !== null) {
    api.use({
      async onRequest({ request }) {
        request.headers.set('authorization', `Bearer ${await token()}`);
        return request;
      },
    });
  }
  return api;
}

export function fetchWebConfig(): Promise<WebConfig> {
  return ok(client(null).GET('/api/web-config'));
}

const versioned = (event: Pick<Event, 'version'>, idempotencyKey: string) => ({
  'if-match': `"${event.version}"`,
  'idempotency-key': idempotencyKey,
});

/** The HTTP API, authenticated with the session's bearer token. */
export function createApi(token: TokenSource) {
  const api = client(token);
  const account = (accountId: string) => ({ params: { path: { accountId } } });
  return {
    me: () => ok(api.GET('/api/me')),
    accounts: async () => (await ok(api.GET('/api/whatsapp/accounts'))).accounts,
    addAccount: (name: string, phone?: string) =>
      ok(
        api.POST('/api/whatsapp/add-account', {
          body: { name, ...(phone !== undefined ? { phone } : {}) },
        }),
      ),
    qr: (accountId: string) => ok(api.GET('/api/whatsapp/qr/{accountId}', account(accountId))),
    regenerateQr: (accountId: string) =>
      ok(api.POST('/api/whatsapp/regenerate-qr/{accountId}', account(accountId))),
    requestPairingCode: (accountId: string, phone: string) =>
      ok(
        api.POST('/api/whatsapp/pairing-code/{accountId}', {
          ...account(accountId),
          body: { phone },
        }),
      ),
    backfill: (accountId: string) =>
      ok(api.POST('/api/whatsapp/backfill/{accountId}', account(accountId))),
    logout: (accountId: string) =>
      ok(api.POST('/api/whatsapp/logout/{accountId}', account(accountId))),
    threads: (accountId: string, cursor?: string, filter: ThreadFilter = {}) =>
      ok(
        api.GET('/api/threads', {
          params: {
            query: {
              accountId,
              limit: 100,
              ...filter,
              ...(cursor !== undefined ? { cursor } : {}),
            },
          },
        }),
      ),
    thread: (threadId: string) =>
      ok(api.GET('/api/threads/{threadId}', { params: { path: { threadId } } })),
    messages: (threadId: string, cursor?: string, limit = 50) =>
      ok(
        api.GET('/api/threads/{threadId}/messages', {
          params: {
            path: { threadId },
            query: { order: 'desc', limit, ...(cursor !== undefined ? { cursor } : {}) },
          },
        }),
      ),
    /** Messages of a thread around a time: the older side (newest first) and the newer side. */
    messagesAround: async (threadId: string, at: string, limit = 25) => {
      const t = new Date(at).getTime();
      const page = (query: { order: 'asc' | 'desc'; since?: string; until?: string }) =>
        ok(
          api.GET('/api/threads/{threadId}/messages', {
            params: { path: { threadId }, query: { limit, ...query } },
          }),
        );
      const [older, newer] = await Promise.all([
        page({ order: 'desc', until: new Date(t + 1).toISOString() }),
        page({ order: 'asc', since: at }),
      ]);
      return [...older.items, ...newer.items];
    },
    /** Server-side search of one account's threads and messages. */
    search: (accountId: string, q: string, cursor?: string) =>
      ok(
        api.GET('/api/search', {
          params: {
            query: { accountId, q, limit: 20, ...(cursor !== undefined ? { cursor } : {}) },
          },
        }),
      ),
    /** A text, or a file uploaded with uploadMedia (its caption optional). */
    send: (
      accountId: string,
      threadId: string,
      content: Pick<SendBody, 'text' | 'media'>,
      idempotencyKey: string,
      replyTo?: SendBody['replyTo'],
    ) =>
      ok(
        api.POST('/api/whatsapp/send', {
          body: { accountId, threadId, ...content, ...(replyTo !== undefined ? { replyTo } : {}) },
          params: { header: { 'idempotency-key': idempotencyKey } },
        }),
      ),
    /**
     * A message's stored file (or its thumbnail) as a Blob for an object URL: the route needs the
     * Bearer token, which an <img> or <audio> src cannot send.
     */
    mediaBlob: (threadId: string, messageId: string, thumbnail: boolean, signal?: AbortSignal) =>
      ok<Blob>(
        api.GET('/api/threads/{threadId}/messages/{messageId}/media', {
          params: { path: { threadId, messageId }, query: thumbnail ? { thumbnail: '1' } : {} },
          parseAs: 'blob',
          ...(signal !== undefined ? { signal } : {}),
        }),
      ),
    /**
     * POST /api/media (multipart, one part `file`) with upload progress, which fetch does not
     * report: resolves with the media id to send; an ApiError with the problem otherwise.
     */
    uploadMedia: async (
      accountId: string,
      file: File,
      onProgress: (fraction: number) => void,
      signal?: AbortSignal,
    ): Promise<MediaUploaded> => {
      const bearer = await token();
      return new Promise((resolve, reject) => {
        const xhr = new XMLHttpRequest();
        const url = new URL('/api/media', globalThis.location.origin);
        url.searchParams.set('accountId', accountId);
        xhr.open('POST', url);
        xhr.setRequestHeader('authorization', `Bearer ${bearer}`);
        xhr.responseType = 'json';
        xhr.upload.onprogress = (e) => {
          if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
        };
        xhr.onload = () => {
          // responseType 'json': the parsed body, or null when it was not JSON.
          const body = xhr.response as MediaUploaded | Partial<ApiProblem> | null;
          if (xhr.status === 201) resolve(body as MediaUploaded);
          else reject(new ApiError(xhr.status, (body ?? undefined) as Partial<ApiProblem>));
        };
        xhr.onerror = () => reject(new TypeError('the upload could not reach the server'));
        xhr.onabort = () => reject(new DOMException('upload cancelled', 'AbortError'));
        signal?.addEventListener('abort', () => xhr.abort(), { once: true });
        const form = new FormData();
        form.append('file', file, file.name);
        xhr.send(form);
      });
    },
    /** Read up to a message id (or a time): the thread's unread count drops to what came later. */
    markRead: (threadId: string, upTo: string) =>
      ok(
        api.POST('/api/threads/{threadId}/read', {
          params: { path: { threadId } },
          body: { upTo },
        }),
      ),
    notes: async (threadId: string) =>
      (await ok(api.GET('/api/threads/{threadId}/notes', { params: { path: { threadId } } })))
        .items,
    addNote: (threadId: string, body: string) =>
      ok(
        api.POST('/api/threads/{threadId}/notes', {
          params: { path: { threadId } },
          body: { body },
        }),
      ),
    /** 409 (an ApiError) when another user holds the thread and force is not set. */
    assign: (threadId: string, assigneeUid: string | null, force = false) =>
      ok(
        api.PUT('/api/threads/{threadId}/assignee', {
          params: { path: { threadId } },
          body: { assigneeUid, force },
        }),
      ),
    tagThread: (threadId: string, body: ApiRequestBody<'tagThread'>) =>
      ok(api.PATCH('/api/threads/{threadId}/tags', { params: { path: { threadId } }, body })),
    inboxSettings: (accountId: string) =>
      ok(api.GET('/api/accounts/{accountId}/inbox-settings', account(accountId))),
    waiting: (accountId: string) =>
      ok(api.GET('/api/accounts/{accountId}/waiting', account(accountId))),
    extractEvent: (accountId: string, threadId: string) =>
      ok(api.POST('/api/whatsapp/extract-event', { body: { accountId, threadId, dryRun: true } })),
    /** The same key for every try of one save: a retried save returns the first event. */
    saveEvent: (event: NewEvent, idempotencyKey: string) =>
      ok(
        api.POST('/api/crm/events', {
          body: event,
          params: { header: { 'idempotency-key': idempotencyKey } },
        }),
      ),
    /** An edit against the version read: another edit since is 409, a retry with the key is not. */
    updateEvent: (
      event: Pick<Event, 'id' | 'version'>,
      patch: EventPatch,
      idempotencyKey: string,
    ) =>
      ok(
        api.PATCH('/api/crm/events/{eventId}', {
          params: { path: { eventId: event.id }, header: versioned(event, idempotencyKey) },
          body: patch,
        }),
      ),
    archiveEvent: (event: Pick<Event, 'id' | 'version'>, idempotencyKey: string) =>
      ok(
        api.POST('/api/crm/events/{eventId}/archive', {
          params: { path: { eventId: event.id }, header: versioned(event, idempotencyKey) },
        }),
      ),
    client: (phoneE164: string) =>
      ok(api.GET('/api/crm/clients/{phoneE164}', { params: { path: { phoneE164 } } })),
    clientEvents: async (phoneE164: string) =>
      (
        await ok(
          api.GET('/api/crm/clients/{phoneE164}/events', { params: { path: { phoneE164 } } }),
        )
      ).items,
    ask: (phoneE164: string, question: string) =>
      ok(api.POST('/api/crm/ask', { body: { phoneE164, question } })),
    performers: (accountId: string) =>
      ok(api.GET('/api/crm/performers', { params: { query: { accountId } } })),
    /** A new secret ICS URL for the performer (shown once); the previous one stops working. */
    rotatePerformerFeed: (performerId: string) =>
      ok(
        api.POST('/api/crm/performers/{performerId}/calendar-feed', {
          params: { path: { performerId } },
        }),
      ),
    revokePerformerFeed: (performerId: string) =>
      ok(
        api.POST('/api/crm/performers/{performerId}/calendar-feed/revoke', {
          params: { path: { performerId } },
        }),
      ),
    /** Bookings overlapping [from, to) (wall times read in Europe/Bucharest). */
    calendar: (
      accountId: string,
      from: string,
      to: string,
      filter: { performerId?: string; character?: string } = {},
    ) =>
      ok(api.GET('/api/crm/calendar', { params: { query: { accountId, from, to, ...filter } } })),
    /** Deposits and balances due this week (Europe/Bucharest), earlier unpaid ones flagged. */
    dues: (accountId: string) => ok(api.GET('/api/crm/dues', { params: { query: { accountId } } })),
    /** The same key for every try of one payment: a retry never records it twice. */
    recordPayment: (eventId: string, payment: NewPayment, idempotencyKey: string) =>
      ok(
        api.POST('/api/crm/events/{eventId}/payments', {
          params: { path: { eventId }, header: { 'idempotency-key': idempotencyKey } },
          body: payment,
        }),
      ),
    /** Booked, collected and outstanding of a month (YYYY-MM), by character and performer. */
    monthlyReport: (accountId: string, month: string) =>
      ok(api.GET('/api/crm/reports/monthly', { params: { query: { accountId, month } } })),
    /** Every client the caller may see, searched, sorted and paged on the server. */
    clients: (query: ClientListQuery) => ok(api.GET('/api/crm/clients', { params: { query } })),
    /** A CSV export as a Blob (the route needs the Bearer token, a plain link cannot send it). */
    exportCsv: (kind: ExportKind, accountId: string, from: string, to: string) =>
      ok<Blob>(
        api.GET('/api/crm/exports/{kind}', {
          params: { path: { kind }, query: { accountId, from, to } },
          parseAs: 'blob',
        }),
      ),
    /** Issue 19: a chat's scheduled messages (pending and cancelled), and cancelling one. */
    scheduled: async (threadId: string) =>
      (await ok(api.GET('/api/threads/{threadId}/scheduled', { params: { path: { threadId } } })))
        .items,
    cancelScheduled: (requestId: string) =>
      ok(
        api.POST('/api/whatsapp/scheduled/{requestId}/cancel', {
          params: { path: { requestId } },
        }),
      ),
    /** An account's quick replies (templates with a shortcut), for the composer's `/` picker. */
    quickReplies: async (accountId: string) =>
      (
        await ok(
          api.GET('/api/message-templates', {
            params: { query: { accountId, quickReplies: 'true' } },
          }),
        )
      ).items,
    /** A template filled with the chat client's next booking. */
    renderTemplate: (templateId: string, threadId: string) =>
      ok(
        api.POST('/api/message-templates/{templateId}/render', {
          params: { path: { templateId } },
          body: { threadId },
        }),
      ),
    /**
     * A booking's reminders; a booking saved before reminders existed has none yet, and gets its
     * drafts made (every later save keeps them in step).
     */
    reminders: async (eventId: string) => {
      const path = { params: { path: { eventId } } };
      const { items } = await ok(api.GET('/api/crm/events/{eventId}/reminders', path));
      if (items.length > 0) return items;
      return (await ok(api.POST('/api/crm/events/{eventId}/reminders', path))).items;
    },
    reminderAction: (eventId: string, kind: ReminderKind, action: 'approve' | 'cancel') =>
      ok(
        action === 'approve'
          ? api.POST('/api/crm/events/{eventId}/reminders/{kind}/approve', {
              params: { path: { eventId, kind } },
            })
          : api.POST('/api/crm/events/{eventId}/reminders/{kind}/cancel', {
              params: { path: { eventId, kind } },
            }),
      ),
    /** Whether a character is free at a time (a wall time read in Europe/Bucharest). */
    availability: (accountId: string, character: string, start: string) =>
      ok(api.GET('/api/crm/availability', { params: { query: { accountId, character, start } } })),
  };
}

export type Api = ReturnType<typeof createApi>;
