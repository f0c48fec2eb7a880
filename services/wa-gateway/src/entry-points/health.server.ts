import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { AuthStateStore } from '../data-access/auth-state.store.js';
import type { InboundPublisher } from '../data-access/inbound-publisher.js';
import type { Ownership } from '../domain/ownership.js';

export interface HealthDeps {
  redis: Redis;
  store: AuthStateStore;
  ownership: Ownership;
  publisher: InboundPublisher;
  metrics: Registry;
  instanceId: string;
  version: string;
  timeoutMs: number;
}

async function probe<T>(fn: () => Promise<T>, timeoutMs: number): Promise<T> {
  return Promise.race([
    fn(),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), timeoutMs)),
  ]);
}

/**
 * /health (503 when Redis or the auth-state store is unusable), /metrics (Prometheus) and
 * /sessions (what this instance owns) on loopback, for the launcher, k8s probes and tests.
 */
export function createHealthServer(deps: HealthDeps): Server {
  return createServer((req, res) => {
    const reply = (status: number, body: unknown, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    void (async () => {
      if (req.url === '/health') {
        const [redis, store] = await Promise.all([
          probe(() => deps.redis.ping(), deps.timeoutMs).then(
            () => ({ ok: true }),
            (e: unknown) => ({ ok: false, error: (e as Error).message }),
          ),
          probe(() => deps.store.health(), deps.timeoutMs).catch((e: unknown) => ({
            ok: false,
            store: deps.store.kind,
            error: (e as Error).message,
          })),
        ]);
        const ok = redis.ok && store.ok;
        const sessions = [...deps.ownership.sessions.values()];
        reply(ok ? 200 : 503, {
          status: ok ? 'ok' : 'unavailable',
          version: deps.version,
          instanceId: deps.instanceId,
          checks: { redis, authState: store },
          ...('sessions_dir_writable' in store
            ? { sessions_dir_writable: store.sessions_dir_writable }
            : {}),
          owned: sessions.length,
          connected: sessions.filter((s) => s.connected).length,
          spoolBacklog: deps.publisher.backlog,
        });
        return;
      }
      if (req.url === '/sessions') {
        reply(200, {
          instanceId: deps.instanceId,
          liveInstances: deps.ownership.liveInstances,
          sessions: [...deps.ownership.sessions.values()].map((s) => ({
            accountId: s.accountId,
            status: s.status,
            connected: s.connected,
            token: s.lease.token,
          })),
        });
        return;
      }
      if (req.url === '/metrics') {
        reply(200, await deps.metrics.metrics(), deps.metrics.contentType);
        return;
      }
      reply(404, { title: 'not found', status: 404 });
    })().catch((error: unknown) => reply(500, { title: (error as Error).message, status: 500 }));
  });
}

export async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return (server.address() as AddressInfo).port;
}
