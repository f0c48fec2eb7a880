import type { FastifyInstance } from 'fastify';
import { DashboardResponse, MeResponse } from '@wacrm/contracts';
import { listAccounts } from '../data-access/accounts.repository.js';
import { canSeeAccount } from '../domain/principal.js';
import { principalOf } from './auth.hook.js';
import type { RouteDeps } from './route-deps.js';
import { errorResponses } from './error-responses.js';
import { documentedRoutes } from './documented.js';

/** `/api/status/dashboard` (the seeds' path) and `/api/me`. */
export function statusRoutes(deps: RouteDeps) {
  return (root: FastifyInstance): Promise<void> => {
    const app = documentedRoutes(root);

    app.get(
      '/api/status/dashboard',
      {
        config: { operation: 'read' },
        schema: {
          tags: ['status'],
          operationId: 'getDashboard',
          description:
            'Accounts grouped by connection status, and the depth and failure count of each queue.',
          summary: 'Accounts by status and queue depths',
          response: { 200: DashboardResponse, ...errorResponses },
        },
      },
      async (request) => {
        const principal = principalOf(request);
        const accounts = (await listAccounts(deps.db)).filter((a) =>
          canSeeAccount(principal, a.id),
        );
        const byStatus: Record<string, number> = {};
        for (const a of accounts) byStatus[a.doc.status] = (byStatus[a.doc.status] ?? 0) + 1;
        const [items, queues] = await Promise.all([
          Promise.all(
            accounts.map(async ({ id, doc }) => ({
              id,
              name: doc.name,
              status: doc.status,
              ownerInstanceId: doc.ownerInstanceId,
              commandsWaiting: await deps.queues.commands(id).queue.getWaitingCount(),
            })),
          ),
          Promise.all(
            deps.queues.fixed.map(async ({ queue }) => {
              const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
              return [
                queue.name,
                {
                  waiting: c.waiting ?? 0,
                  active: c.active ?? 0,
                  delayed: c.delayed ?? 0,
                  failed: c.failed ?? 0,
                },
              ] as const;
            }),
          ),
        ]);
        return {
          generatedAt: new Date().toISOString(),
          accounts: {
            total: accounts.length,
            byStatus,
            items: items.sort((a, b) => a.id.localeCompare(b.id)),
          },
          queues: Object.fromEntries(queues),
        };
      },
    );

    app.get(
      '/api/me',
      {
        config: { operation: 'read' },
        schema: {
          tags: ['auth'],
          operationId: 'getMe',
          description:
            'The principal behind the credentials: a user (role, allowed accounts) or an API key (scopes, allowed accounts).',
          summary: 'Who the credentials belong to',
          response: { 200: MeResponse, ...errorResponses },
        },
      },
      (request) => {
        const p = principalOf(request);
        return Promise.resolve({
          kind: p.kind,
          id: p.id,
          role: p.role,
          scopes: [...p.scopes],
          allowedAccounts: p.accounts === 'all' ? null : [...p.accounts],
        });
      },
    );
    return Promise.resolve();
  };
}
