import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import QRCode from 'qrcode';
import type { z } from 'zod';
import {
  AccountParams,
  AccountsChannel,
  AccountsResponse,
  AddAccountBody,
  AddAccountResponse,
  BackfillBody,
  CommandAccepted,
  PairingCodeBody,
  ProblemDetails,
  QrResponse,
  type AccountsChannelMessage,
} from '@wacrm/contracts';
import { enqueue } from '@wacrm/queue';
import { createAccount, getAccount, listAccounts } from '../data-access/accounts.repository.js';
import { requireAccount, visibleAccounts } from '../domain/principal.js';
import { toAccountView } from '../domain/views.js';
import { principalOf } from './auth.hook.js';
import type { RouteDeps } from './route-deps.js';

export const errorResponses = {
  400: ProblemDetails,
  401: ProblemDetails,
  403: ProblemDetails,
  404: ProblemDetails,
  429: ProblemDetails,
};

const tags = ['whatsapp'];

/** The seeds' /api/whatsapp/* paths: accounts, QR and pairing, and commands to the owning wa-gateway. */
export function whatsappRoutes(deps: RouteDeps) {
  return (root: FastifyInstance): Promise<void> => {
    const app = root.withTypeProvider<ZodTypeProvider>();

    app.get(
      '/api/whatsapp/accounts',
      {
        config: { operation: 'read' },
        schema: {
          tags,
          summary: 'Accounts the caller may see',
          response: { 200: AccountsResponse, ...errorResponses },
        },
      },
      async (request) => {
        const principal = principalOf(request);
        const accounts = await listAccounts(deps.db);
        const views = accounts.map(({ id, doc }) => toAccountView(id, doc));
        return {
          accounts: visibleAccounts(principal, views).sort((a, b) => a.id.localeCompare(b.id)),
        };
      },
    );

    app.post(
      '/api/whatsapp/add-account',
      {
        config: { operation: 'admin' },
        schema: {
          tags,
          summary: 'Add a WhatsApp account; a wa-gateway picks it up and shows a QR',
          body: AddAccountBody,
          response: { 201: AddAccountResponse, ...errorResponses },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const { id } = await createAccount(deps.db, {
          name: request.body.name,
          phone: request.body.phone ?? null,
        });
        const announcement: AccountsChannelMessage = { type: 'account.added', accountId: id };
        await deps.redis.publish(AccountsChannel, JSON.stringify(announcement));
        const job = await enqueue(deps.queues.commands(id), 'connect', {
          accountId: id,
          requestedBy: principal.id,
          requestedAt: new Date().toISOString(),
        });
        request.log.info({ accountId: id }, 'account added; connect command queued');
        return reply
          .status(201)
          .send({ accountId: id, status: 'connecting', commandJobId: job.id ?? '' });
      },
    );

    app.get(
      '/api/whatsapp/qr/:accountId',
      {
        config: { operation: 'read' },
        schema: {
          tags,
          summary: 'The QR to scan (raw and as a PNG data URL) and any pairing code',
          params: AccountParams,
          response: { 200: QrResponse, ...errorResponses },
        },
      },
      async (request) => {
        const { accountId } = request.params;
        requireAccount(principalOf(request), accountId);
        const account = await getAccount(deps.db, accountId);
        const qr = account.status === 'qr_ready' ? account.qr : null;
        return {
          accountId,
          status: account.status,
          qr,
          qrDataUrl:
            qr !== null
              ? await QRCode.toDataURL(qr, { errorCorrectionLevel: 'M', margin: 2 })
              : null,
          expiresAt: account.qrExpiresAt?.toISOString() ?? null,
          pairingCode: account.pairingCode,
        };
      },
    );

    const command = (
      path: string,
      name: 'regenerate-qr' | 'logout' | 'backfill' | 'request-pairing-code',
      summary: string,
      operation: 'send' | 'admin',
      body?: z.ZodType,
    ) =>
      app.post(
        path,
        {
          config: { operation },
          schema: {
            tags,
            summary,
            params: AccountParams,
            ...(body !== undefined ? { body } : {}),
            response: { 202: CommandAccepted, ...errorResponses },
          },
        },
        async (request, reply) => {
          const { accountId } = request.params;
          const principal = principalOf(request);
          requireAccount(principal, accountId);
          await getAccount(deps.db, accountId);
          const base = {
            accountId,
            requestedBy: principal.id,
            requestedAt: new Date().toISOString(),
          };
          const queue = deps.queues.commands(accountId);
          let job;
          if (name === 'backfill') {
            const parsed = BackfillBody.parse(request.body ?? {});
            job = await enqueue(queue, 'backfill', { ...base, ...parsed });
          } else if (name === 'request-pairing-code') {
            const parsed = PairingCodeBody.parse(request.body);
            job = await enqueue(queue, 'request-pairing-code', { ...base, phone: parsed.phone });
          } else {
            job = await enqueue(queue, name, base);
          }
          request.log.info({ accountId, command: name, jobId: job.id }, 'account command queued');
          return reply
            .status(202)
            .send({ accountId, command: name, jobId: job.id ?? '', status: 'queued' as const });
        },
      );

    command(
      '/api/whatsapp/regenerate-qr/:accountId',
      'regenerate-qr',
      'Show a fresh QR (repair a broken session)',
      'send',
    );
    command(
      '/api/whatsapp/backfill/:accountId',
      'backfill',
      'Fetch older history for the account',
      'send',
      BackfillBody.nullish(),
    );
    command(
      '/api/whatsapp/pairing-code/:accountId',
      'request-pairing-code',
      'Pair with a phone-number code instead of a QR; the code appears on GET /api/whatsapp/qr/:accountId',
      'send',
      PairingCodeBody,
    );
    command(
      '/api/whatsapp/logout/:accountId',
      'logout',
      'Log the account out of WhatsApp (its data is kept)',
      'admin',
    );
    return Promise.resolve();
  };
}
