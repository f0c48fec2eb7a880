import type { FastifyInstance } from 'fastify';
import QRCode from 'qrcode';
import {
  AccountParams,
  AccountsChannel,
  AccountsResponse,
  AddAccountBody,
  AddAccountResponse,
  BackfillBody,
  CommandAccepted,
  HistoryMediaProgressResponse,
  PairingCodeBody,
  QrResponse,
  type AccountsChannelMessage,
} from '@wacrm/contracts';
import { historyMediaProgressView, readHistoryMediaProgress } from '@wacrm/firestore';
import { enqueue } from '@wacrm/queue';
import { createAccount, getAccount, listAccounts } from '../data-access/accounts.repository.js';
import { requireAccount, visibleAccounts } from '../domain/principal.js';
import { toAccountView } from '../domain/views.js';
import { principalOf } from './auth.hook.js';
import type { RouteDeps } from './route-deps.js';
import { documentedRoutes, type RouteDoc } from './documented.js';
import { errorResponses } from './error-responses.js';

// Routes still importing it from here (send, stream, reports: being edited elsewhere) get it
// from its own module.
export { errorResponses } from './error-responses.js';

const tags = ['whatsapp'] as const;

/** The seeds' /api/whatsapp/* paths: accounts, QR and pairing, and commands to the owning wa-gateway. */
export function whatsappRoutes(deps: RouteDeps) {
  return (root: FastifyInstance): Promise<void> => {
    const app = documentedRoutes(root);

    app.get(
      '/api/whatsapp/accounts',
      {
        config: { operation: 'read' },
        schema: {
          tags,
          operationId: 'listAccounts',
          description:
            'Every WhatsApp account the caller may see (all for admins, the allowed ones for employees and API keys), sorted by id, with its connection status.',
          summary: 'Accounts the caller may see',
          response: { 200: AccountsResponse, ...errorResponses },
        },
      },
      async (request) => {
        const principal = principalOf(request);
        const accounts = visibleAccounts(principal, await listAccounts(deps.db)).sort((a, b) =>
          a.id.localeCompare(b.id),
        );
        const media = await readHistoryMediaProgress(deps.db, accounts);
        return {
          accounts: accounts.map(({ id, doc }, i) =>
            toAccountView(id, doc, media[i] ?? historyMediaProgressView(undefined, undefined)),
          ),
        };
      },
    );

    app.get(
      '/api/accounts/:accountId/media-progress',
      {
        config: { operation: 'read' },
        schema: {
          tags,
          operationId: 'getHistoryMediaProgress',
          summary: "An account's history media: how many are stored, pending, failed, expired",
          description:
            'History and backfill media are fetched in the background, after live media. total counts every history message with a file to keep; pending = total - stored - failed - expired (queued, or waiting for the phone to upload an expired file again). Counted once per message, also when a job is retried.',
          params: AccountParams,
          response: { 200: HistoryMediaProgressResponse, ...errorResponses },
        },
      },
      async (request) => {
        const { accountId } = request.params;
        requireAccount(principalOf(request), accountId);
        const doc = await getAccount(deps.db, accountId);
        const [media] = await readHistoryMediaProgress(deps.db, [{ id: accountId, doc }]);
        return { accountId, ...(media ?? historyMediaProgressView(undefined, undefined)) };
      },
    );

    app.post(
      '/api/whatsapp/add-account',
      {
        config: { operation: 'admin' },
        schema: {
          tags,
          operationId: 'addAccount',
          description:
            'Creates the account and queues a connect command; a wa-gateway takes it and shows a QR on GET /api/whatsapp/qr/{accountId}. Admin only.',
          bodyExample: { name: 'Front desk', phone: '+40722333444' },
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
          operationId: 'getAccountQr',
          description: `While the account's status is qr_ready: the QR string, the same as a PNG data URL, when it expires, and any pairing code requested. Null fields otherwise.`,
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
      doc: RouteDoc,
      operation: 'send' | 'admin',
    ) =>
      app.post(
        path,
        {
          config: { operation },
          schema: {
            tags,
            ...doc,
            params: AccountParams,
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
      {
        operationId: 'regenerateQr',
        summary: 'Show a fresh QR (repair a broken session)',
        description:
          "Queues a command for the account's wa-gateway to drop the session and show a new QR on GET /api/whatsapp/qr/{accountId}.",
      },
      'send',
    );
    command(
      '/api/whatsapp/backfill/:accountId',
      'backfill',
      {
        operationId: 'backfillHistory',
        summary: 'Fetch older history for the account',
        description:
          'Queues a command asking WhatsApp for older messages of the account (threads and messages per thread, with defaults); the body is optional.',
        body: BackfillBody.nullish(),
        bodyExample: { threads: 50, messagesPerThread: 100 },
      },
      'send',
    );
    command(
      '/api/whatsapp/pairing-code/:accountId',
      'request-pairing-code',
      {
        operationId: 'requestPairingCode',
        summary:
          'Pair with a phone-number code instead of a QR; the code appears on GET /api/whatsapp/qr/:accountId',
        description:
          'Queues a command to pair by code: WhatsApp shows the code for the given phone number, typed on the phone under Linked devices.',
        body: PairingCodeBody,
        bodyExample: { phone: '+40722333444' },
      },
      'send',
    );
    command(
      '/api/whatsapp/logout/:accountId',
      'logout',
      {
        operationId: 'logoutAccount',
        summary: 'Log the account out of WhatsApp (its data is kept)',
        description:
          'Queues a logout command: the linked device is removed on WhatsApp; conversations, messages and media stay stored. Admin only.',
      },
      'admin',
    );
    return Promise.resolve();
  };
}
