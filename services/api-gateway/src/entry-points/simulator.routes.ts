import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import {
  AppError,
  SimulatorAccepted,
  SimulatorAccountParams,
  SimulatorDisconnectBody,
  SimulatorHistoryBody,
  SimulatorInboundBody,
} from '@wacrm/contracts';
import { requireAccount } from '../domain/principal.js';
import { principalOf } from './auth.hook.js';
import { errorResponses } from './whatsapp.routes.js';

const simErrors = { ...errorResponses, 503: errorResponses[400] };

/**
 * Dev-only control of the simulated WhatsApp network (WA_DRIVER=simulator): the body is
 * validated here, then forwarded to `${simulatorUrl}/accounts/:accountId/<action>`.
 */
export function simulatorRoutes(deps: { simulatorUrl: string; timeoutMs?: number }) {
  return (root: FastifyInstance): Promise<void> => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const actions: Array<[string, z.ZodType | undefined, string]> = [
      ['scan', undefined, 'Simulate the phone scanning the QR'],
      ['inbound', SimulatorInboundBody, 'Simulate a message arriving from a contact'],
      ['history', SimulatorHistoryBody, 'Simulate a history sync'],
      ['disconnect', SimulatorDisconnectBody, 'Simulate WhatsApp closing the socket'],
    ];
    for (const [action, body, summary] of actions) {
      app.post(
        `/api/dev/simulator/accounts/:accountId/${action}`,
        {
          config: { operation: 'admin' },
          schema: {
            tags: ['dev'],
            summary,
            params: SimulatorAccountParams,
            ...(body !== undefined ? { body } : {}),
            response: { 200: SimulatorAccepted, 202: SimulatorAccepted, ...simErrors },
          },
        },
        async (request, reply) => {
          const { accountId } = request.params;
          requireAccount(principalOf(request), accountId);
          const url = `${deps.simulatorUrl.replace(/\/$/, '')}/accounts/${encodeURIComponent(accountId)}/${action}`;
          let response: Response;
          try {
            response = await fetch(url, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(body !== undefined ? request.body : {}),
              signal: AbortSignal.timeout(deps.timeoutMs ?? 10_000),
            });
          } catch (error) {
            request.log.warn(
              { err: error, action, accountId },
              'simulator unreachable (check WA_SIMULATOR_URL)',
            );
            throw new AppError('DEPENDENCY_UNAVAILABLE', 'the WhatsApp simulator is not reachable');
          }
          const text = await response.text();
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          if (response.status >= 500 || json === undefined) {
            request.log.warn({ status: response.status, action, accountId }, 'simulator failed');
            throw new AppError(
              'DEPENDENCY_UNAVAILABLE',
              `the WhatsApp simulator answered ${response.status}`,
            );
          }
          if (response.status >= 400) {
            const problem = json as { detail?: unknown };
            const detail =
              typeof problem.detail === 'string'
                ? problem.detail
                : `simulator answered ${response.status}`;
            throw new AppError(
              response.status === 404
                ? 'NOT_FOUND'
                : response.status === 409
                  ? 'CONFLICT'
                  : 'VALIDATION_FAILED',
              detail,
            );
          }
          const accepted = SimulatorAccepted.safeParse(json);
          if (!accepted.success) {
            throw new AppError(
              'DEPENDENCY_UNAVAILABLE',
              'the WhatsApp simulator answered outside its contract',
            );
          }
          return reply.status(response.status === 200 ? 200 : 202).send(accepted.data);
        },
      );
    }
    return Promise.resolve();
  };
}
