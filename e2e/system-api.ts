import { createApiClient, type ApiClient, type ApiRequestBody } from '@wacrm/api-client';
import {
  createOpenApiTrafficValidator,
  validatingFetch,
  type OpenApiTrafficValidator,
  type SseEvent,
} from '@wacrm/testing';
import { eventually } from './launcher-process.js';

/** The generated client of a running system, and the validator every exchange goes through. */
export type SystemApi = ApiClient & { validator: OpenApiTrafficValidator };

/**
 * The system's HTTP API through the generated client (`@wacrm/api-client`), as the holder of
 * `token` (no credentials without one). Every request and answer is checked against the
 * document the system serves (GET /openapi.json): an undocumented status, media type or field
 * fails the call that exchanged it.
 */
export async function systemApi(base: string, token?: string): Promise<SystemApi> {
  const served = await fetch(`${base}/openapi.json`, { signal: AbortSignal.timeout(10_000) });
  if (!served.ok) throw new Error(`GET /openapi.json answered ${served.status}`);
  const validator = createOpenApiTrafficValidator((await served.json()) as Record<string, unknown>);
  const client = createApiClient({
    baseUrl: base,
    ...(token !== undefined ? { headers: { authorization: `Bearer ${token}` } } : {}),
    fetch: validatingFetch(validator),
  });
  return Object.assign(client, { validator });
}

/** The body of a 2xx answer (already checked against the document); anything else throws. */
export function ok<T>(result: { data?: T; error?: unknown; response: Response }): T {
  const { response } = result;
  if (!response.ok)
    throw new Error(
      `${new URL(response.url).pathname} answered HTTP ${response.status}: ${JSON.stringify(result.error)}`,
    );
  return result.data as T;
}

/**
 * Adds a WhatsApp account and lets the emulated phone scan the QR it shows (the dev simulator
 * route, which reads the QR off the account as a person would); resolves with its id, without
 * waiting for the connection (see `connected`).
 */
export async function addScannedAccount(api: ApiClient, name: string): Promise<string> {
  const added = await api.POST('/api/whatsapp/add-account', { body: { name } });
  if (added.response.status !== 201)
    throw new Error(
      `add-account answered ${added.response.status}: ${JSON.stringify(added.error)}`,
    );
  const { accountId } = added.data!;
  await scanQr(api, accountId);
  return accountId;
}

/** The scan (the route declares no body: none is sent); its status, 202 or 409 (no QR shown). */
async function scan(api: ApiClient, accountId: string): Promise<number> {
  const scanned = await api.POST('/api/dev/simulator/accounts/{accountId}/scan', {
    params: { path: { accountId } },
  });
  const { status } = scanned.response;
  if (status !== 202 && status !== 409)
    throw new Error(`scan answered ${status}: ${JSON.stringify(scanned.error)}`);
  return status;
}

/**
 * The emulated phone scans the account's QR once it shows one. The QR may be gone between
 * reading it and the scan (Baileys refreshes it, or reconnects on a slow box): a 409 then means
 * "no QR right now", and the phone scans the next one. (A scan right after the account was added
 * or logged out raced the QR's arrival: a 409 on a loaded CI box.)
 */
export async function scanQr(api: ApiClient, accountId: string): Promise<void> {
  const account = { params: { path: { accountId } } };
  await eventually(`${accountId} scanned`, async () => {
    const { qr } = ok(await api.GET('/api/whatsapp/qr/{accountId}', account));
    if (qr === null) return undefined;
    const scanned = await scan(api, accountId);
    return scanned === 409 ? undefined : scanned;
  });
}

/** A contact writes to the account over the emulated network (the dev simulator route). */
export async function contactWrites(
  api: ApiClient,
  accountId: string,
  body: ApiRequestBody<'simulateInbound'>,
): Promise<void> {
  ok(
    await api.POST('/api/dev/simulator/accounts/{accountId}/inbound', {
      params: { path: { accountId } },
      body,
    }),
  );
}

/** Waits until every one of `accountIds` is connected. */
export async function connected(
  api: ApiClient,
  accountIds: readonly string[],
  timeoutMs = 60_000,
): Promise<void> {
  await eventually(
    `${accountIds.join(', ')} connected`,
    async () => {
      const { accounts } = ok(await api.GET('/api/whatsapp/accounts'));
      const status = new Map(accounts.map((a) => [a.id, a.status]));
      return accountIds.every((id) => status.get(id) === 'connected') ? true : undefined;
    },
    timeoutMs,
  );
}

/** Adds an account, has its QR scanned and waits until it is connected. */
export async function connectedAccount(api: ApiClient, name: string): Promise<string> {
  const accountId = await addScannedAccount(api, name);
  await connected(api, [accountId]);
  return accountId;
}

/** The complete Server-Sent Events frames in `text` that carry data (comments and retry skipped). */
export function sseFrames(text: string): SseEvent[] {
  const frames: SseEvent[] = [];
  const blocks = text.split('\n\n');
  // The last block may still be arriving.
  for (const block of blocks.slice(0, -1)) {
    let id: string | undefined;
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const field = line.slice(0, colon);
      const value = line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') id = value;
      else if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length > 0)
      frames.push({ ...(id !== undefined ? { id } : {}), event, data: data.join('\n') });
  }
  return frames;
}
