import type { FastifyInstance } from 'fastify';
import type { Firestore } from 'firebase-admin/firestore';
import {
  AppError,
  SIMULATOR_MAX_MEDIA_BASE64_CHARS,
  SimulatorAccepted,
  SimulatorAccountParams,
  SimulatorDisconnectBody,
  SimulatorHistoryBody,
  SimulatorInboundBody,
} from '@wacrm/contracts';
import { collections } from '@wacrm/firestore';
import { requireAccount } from '../domain/principal.js';
import { principalOf } from './auth.hook.js';
import { documentedRoutes, type RouteDoc } from './documented.js';
import { errorResponses } from './error-responses.js';

// 409: a scan while the account shows no QR, or the emulator's own conflict passed on.
const simErrors = { ...errorResponses, 409: errorResponses[400], 503: errorResponses[400] };
/** The largest file as base64 plus room for the rest of the message. */
const INBOUND_BODY_LIMIT_BYTES = SIMULATOR_MAX_MEDIA_BASE64_CHARS + 256 * 1024;

type Action = 'scan' | 'inbound' | 'history' | 'disconnect';

/**
 * Dev-only control of the WhatsApp network emulator (libs/wa-emulator, WA_EMULATOR_URL): the
 * body is validated here, then forwarded to `${emulatorUrl}/accounts/:accountId/<action>`.
 * `scan` is the phone scanning the QR the account shows: the emulator needs that QR (its adv
 * secret exists only there), so it is read from `accounts/{accountId}.qr`, as a person reads it.
 */
export function simulatorRoutes(deps: { emulatorUrl: string; db: Firestore; timeoutMs?: number }) {
  const base = deps.emulatorUrl.replace(/\/$/, '');
  return (root: FastifyInstance): Promise<void> => {
    const app = documentedRoutes(root);
    const actions: Array<[Action, RouteDoc]> = [
      [
        'scan',
        {
          operationId: 'simulateScan',
          summary: 'The phone scans the QR the account shows',
          description:
            'The emulated phone scans the QR stored on the account (as a person reads it off the screen) and pairs; 409 when the account shows no QR. Takes no body.',
        },
      ],
      [
        'inbound',
        {
          operationId: 'simulateInbound',
          summary: 'A message arrives from a contact',
          description:
            'A contact on the emulated network writes to the account; the message arrives through real Baileys like any other. A media message may carry its real file as media.dataBase64 (up to 16 MiB decoded); without it the emulator makes up media.size bytes.',
          body: SimulatorInboundBody,
          bodyExample: { from: '+40722333444', name: 'Ana', kind: 'text', text: 'Hello!' },
        },
      ],
      [
        'history',
        {
          operationId: 'simulateHistory',
          summary: 'The phone sends a history sync',
          description:
            'The emulated phone sends a history sync of the given size to the account, as after pairing.',
          body: SimulatorHistoryBody,
          bodyExample: { threads: 5, messagesPerThread: 50 },
        },
      ],
      [
        'disconnect',
        {
          operationId: 'simulateDisconnect',
          summary: 'WhatsApp closes the socket with a stream error',
          description:
            "The emulated network closes the account's socket with the given stream error code (e.g. 515 restart required, 401 logged out).",
          body: SimulatorDisconnectBody,
          bodyExample: { reason: 515 },
        },
      ],
    ];
    for (const [action, doc] of actions) {
      app.post(
        `/api/dev/simulator/accounts/:accountId/${action}`,
        {
          config: { operation: 'admin' },
          // An inbound message may carry its file's bytes (base64): room for the largest one.
          ...(action === 'inbound' ? { bodyLimit: INBOUND_BODY_LIMIT_BYTES } : {}),
          schema: {
            tags: ['dev'],
            ...doc,
            params: SimulatorAccountParams,
            response: { 200: SimulatorAccepted, 202: SimulatorAccepted, ...simErrors },
          },
        },
        async (request, reply) => {
          const { accountId } = request.params;
          requireAccount(principalOf(request), accountId);
          let forwarded: unknown = doc.body !== undefined ? request.body : {};
          if (action === 'scan') {
            const account = (await collections(deps.db).accounts().doc(accountId).get()).data();
            if (account === undefined) throw new AppError('NOT_FOUND', 'no such account');
            if (account.qr === null) {
              throw new AppError('CONFLICT', `the account shows no QR (status ${account.status})`);
            }
            forwarded = { qr: account.qr };
          }
          const url = `${base}/accounts/${encodeURIComponent(accountId)}/${action}`;
          let response: Response;
          try {
            response = await fetch(url, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(forwarded),
              signal: AbortSignal.timeout(deps.timeoutMs ?? 15_000),
            });
          } catch (error) {
            request.log.warn(
              { err: error, action, accountId },
              'WhatsApp network emulator unreachable (check WA_EMULATOR_URL)',
            );
            throw new AppError(
              'DEPENDENCY_UNAVAILABLE',
              'the WhatsApp network emulator is not reachable',
            );
          }
          const text = await response.text();
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          if (response.status >= 500 || json === undefined) {
            request.log.warn({ status: response.status, action, accountId }, 'emulator failed');
            throw new AppError(
              'DEPENDENCY_UNAVAILABLE',
              `the WhatsApp network emulator answered ${response.status}`,
            );
          }
          if (response.status >= 400) {
            const problem = json as { detail?: unknown; title?: unknown };
            const detail =
              typeof problem.detail === 'string'
                ? problem.detail
                : typeof problem.title === 'string'
                  ? problem.title
                  : `the emulator answered ${response.status}`;
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
              'the WhatsApp network emulator answered outside its contract',
            );
          }
          return reply.status(response.status === 200 ? 200 : 202).send(accepted.data);
        },
      );
    }
    return Promise.resolve();
  };
}
