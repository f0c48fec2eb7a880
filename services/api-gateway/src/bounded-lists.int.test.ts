import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventDoc } from '@wacrm/contracts';
import { admin, useGateway, type TestGateway, validateTraffic } from '../test/gateway.fixture.js';
import { accountDoc, seedAccount, writeAll } from '../test/seed.js';
import { WEBHOOKS_ACTIVE_MAX } from './webhooks/webhooks.routes.js';

// Issue 15 item 8: no list answers with everything there is.
const RUN = randomUUID().replace(/-/g, '').slice(0, 6);
const A = `wa-bl${RUN}`;
const PHONE = '+40733000333';
let gw: TestGateway;

function event(n: number): EventDoc {
  const at = new Date(Date.UTC(2026, 0, 1, 0, 0, n));
  return {
    phoneE164: PHONE,
    createdBy: 'seed',
    schemaVersion: 3,
    isArchived: false,
    eventShortId: `EV-${String(n).padStart(5, '0')}`,
    date: `2026-${String(1 + (n % 12)).padStart(2, '0')}-${String(1 + (n % 28)).padStart(2, '0')}`,
    time: null,
    durationHours: null,
    address: null,
    characters: [],
    rolesBySlot: {},
    payment: { amount: 10, advance: null, paid: 10, currency: 'RON' },
    childName: null,
    childAge: null,
    guests: null,
    notes: null,
    accountId: A,
    threadId: null,
    sourceExtractionId: null,
    createdAt: at,
    updatedAt: at,
    archivedAt: null,
  };
}

const get = (url: string) => gw.app.inject({ url, headers: admin });

beforeAll(async () => {
  gw = await useGateway();
  validateTraffic(gw);
  await seedAccount(gw.fs.db, A, accountDoc('WA-BL', 'connected'));
  await writeAll(
    gw.fs.db,
    Array.from(
      { length: 105 },
      (_, n) => [`evenimente/bl-${RUN}-${n}`, { ...event(n) }] as [string, Record<string, unknown>],
    ),
  );
  for (let i = 0; i < 3; i += 1) {
    const res = await gw.app.inject({
      method: 'POST',
      url: '/api/admin/api-keys',
      headers: admin,
      payload: { name: `k${i}`, scopes: ['read'], allowedAccounts: [A] },
    });
    expect(res.statusCode).toBe(201);
    const hook = await gw.app.inject({
      method: 'POST',
      url: '/api/webhooks',
      headers: admin,
      payload: {
        url: `https://hooks.example/${i}`,
        accountIds: [A],
        eventTypes: ['thread.updated'],
      },
    });
    expect(hook.statusCode).toBe(201);
  }
});

afterAll(async () => {
  await gw.dispose();
});

describe('bounded lists (issue 15 item 8)', () => {
  const events = `/api/crm/clients/${encodeURIComponent(PHONE)}/events`;

  it('when a client has more events than a page, then a default page of 100, newest first, says it is truncated', async () => {
    const res = await get(events);
    expect(res.statusCode).toBe(200);
    const body = res.json<{ items: Array<{ date: string }>; truncated: boolean }>();
    expect(body.items).toHaveLength(100);
    expect(body.truncated).toBe(true);
    const dates = body.items.map((e) => e.date);
    expect(dates).toEqual([...dates].sort().reverse());
    const small = (await get(`${events}?limit=2`)).json<{ items: unknown[]; truncated: boolean }>();
    expect(small.items).toHaveLength(2);
    expect(small.truncated).toBe(true);
  });

  it('when API keys or webhooks are listed with a limit, then at most that many come back, marked truncated', async () => {
    const keys = (await get('/api/admin/api-keys?limit=2')).json<{
      keys: unknown[];
      truncated: boolean;
    }>();
    expect(keys.keys).toHaveLength(2);
    expect(keys.truncated).toBe(true);
    const hooks = (await get('/api/webhooks?limit=1')).json<{
      webhooks: unknown[];
      truncated: boolean;
    }>();
    expect(hooks.webhooks).toHaveLength(1);
    expect(hooks.truncated).toBe(true);
    const all = (await get('/api/webhooks')).json<{ webhooks: unknown[]; truncated: boolean }>();
    expect(all.truncated).toBe(false);
  });

  it('when a limit is out of range, then 400 problem+json names it, never a longer list', async () => {
    for (const url of [
      `${events}?limit=501`,
      '/api/admin/api-keys?limit=0',
      '/api/webhooks?limit=x',
    ]) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(400);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.body).toContain('limit');
    }
  });

  it('when the active webhooks reach their cap, then another is 409 problem+json until one is disabled', async () => {
    const create = (n: number) =>
      gw.app.inject({
        method: 'POST',
        url: '/api/webhooks',
        headers: admin,
        payload: {
          url: `https://hooks.example/cap/${n}`,
          accountIds: [A],
          eventTypes: ['thread.updated'],
        },
      });
    const ids: string[] = [];
    for (let n = 3; n < WEBHOOKS_ACTIVE_MAX; n += 1) {
      const res = await create(n);
      expect(res.statusCode).toBe(201);
      ids.push(res.json<{ id: string }>().id);
    }
    const refused = await create(WEBHOOKS_ACTIVE_MAX);
    expect(refused.statusCode).toBe(409);
    expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(refused.json<{ detail: string }>().detail).toMatch(/at most/);
    const disabled = await gw.app.inject({
      method: 'POST',
      url: `/api/webhooks/${ids[0]}/disable`,
      headers: admin,
    });
    expect(disabled.statusCode).toBe(200);
    expect((await create(WEBHOOKS_ACTIVE_MAX + 1)).statusCode).toBe(201);
  });
});
