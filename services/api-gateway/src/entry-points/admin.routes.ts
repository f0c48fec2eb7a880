import type { FastifyInstance } from 'fastify';
import {
  ApiKeyCreated,
  ApiKeyIdParams,
  ApiKeysQuery,
  ApiKeyList,
  ApiKeyView,
  AppError,
  CreateApiKeyBody,
  SetUserBody,
  UserParams,
  UserView,
  type ApiKeyDoc,
} from '@wacrm/contracts';
import { collections } from '@wacrm/firestore';
import { generateApiKey } from '../domain/api-key.js';
import { docId } from '../domain/doc-id.js';
import { principalOf } from './auth.hook.js';
import type { RouteDeps } from './route-deps.js';
import { errorResponses } from './error-responses.js';
import { documentedRoutes } from './documented.js';

const tags = ['admin'] as const;

function keyView(id: string, doc: ApiKeyDoc) {
  return {
    id,
    name: doc.name,
    prefix: doc.prefix,
    scopes: doc.scopes,
    allowedAccounts: doc.allowedAccounts,
    createdBy: doc.createdBy,
    createdAt: doc.createdAt.toISOString(),
    lastUsedAt: doc.lastUsedAt?.toISOString() ?? null,
    revokedAt: doc.revokedAt?.toISOString() ?? null,
  };
}

/** Admin-only: integrator API keys (created, listed, revoked — never deleted) and user roles. */
export function adminRoutes(deps: RouteDeps) {
  return (root: FastifyInstance): Promise<void> => {
    const app = documentedRoutes(root);
    const cols = collections(deps.db);
    const config = { operation: 'admin' as const };

    app.post(
      '/api/admin/api-keys',
      {
        config,
        schema: {
          tags,
          operationId: 'createApiKey',
          description:
            'Creates an integrator API key; the clear key is in this answer only (only its SHA-256 hash is stored). Admin only.',
          bodyExample: { name: 'Zapier', scopes: ['read', 'send'], allowedAccounts: ['acc_demo'] },
          summary: 'Create an API key; the clear key is in this answer only',
          body: CreateApiKeyBody,
          response: { 201: ApiKeyCreated, ...errorResponses },
        },
      },
      async (request, reply) => {
        const generated = generateApiKey();
        const doc: ApiKeyDoc = {
          name: request.body.name,
          hash: generated.hash,
          prefix: generated.prefix,
          scopes: [...new Set(request.body.scopes)],
          allowedAccounts: [...new Set(request.body.allowedAccounts)],
          revokedAt: null,
          lastUsedAt: null,
          createdBy: principalOf(request).id,
          createdAt: new Date(),
        };
        await cols.apiKeys().doc(generated.id).create(doc);
        request.log.info({ keyId: generated.id, scopes: doc.scopes }, 'API key created');
        return reply.status(201).send({ ...keyView(generated.id, doc), key: generated.key });
      },
    );

    app.get(
      '/api/admin/api-keys',
      {
        config,
        schema: {
          tags,
          operationId: 'listApiKeys',
          description:
            'Every API key with its prefix, scopes and last use; hashes never leave the server. Admin only.',
          summary: 'API keys, newest first (hashes never leave the server)',
          querystring: ApiKeysQuery,
          response: { 200: ApiKeyList, ...errorResponses },
        },
      },
      async (request) => {
        const { limit } = request.query;
        const snap = await cols
          .apiKeys()
          .orderBy('createdAt', 'desc')
          .limit(limit + 1)
          .get();
        return {
          keys: snap.docs.slice(0, limit).map((d) => keyView(d.id, d.data())),
          truncated: snap.docs.length > limit,
        };
      },
    );

    app.post(
      '/api/admin/api-keys/:keyId/revoke',
      {
        config,
        schema: {
          tags,
          operationId: 'revokeApiKey',
          description: 'The key stops working at once; it is kept for audit. Admin only.',
          summary: 'Revoke an API key (kept for audit)',
          params: ApiKeyIdParams,
          response: { 200: ApiKeyView, ...errorResponses },
        },
      },
      async (request) => {
        const ref = cols.apiKeys().doc(request.params.keyId);
        const doc = (await ref.get()).data();
        if (doc === undefined)
          throw new AppError('NOT_FOUND', `API key ${request.params.keyId} does not exist`);
        const revoked = { ...doc, revokedAt: doc.revokedAt ?? new Date() };
        await ref.update({ revokedAt: revoked.revokedAt });
        deps.authStore.invalidate('apiKey', request.params.keyId);
        request.log.info({ keyId: request.params.keyId }, 'API key revoked');
        return keyView(request.params.keyId, revoked);
      },
    );

    app.put(
      '/api/admin/users/:uid',
      {
        config,
        schema: {
          tags,
          operationId: 'setUser',
          description: `Sets a Firebase user's role (admin or employee) and the accounts an employee may see. Admin only.`,
          bodyExample: {
            role: 'employee',
            allowedAccounts: ['acc_demo'],
            email: 'ana@example.com',
            displayName: 'Ana',
          },
          summary: "Set a user's role and allowed accounts",
          params: UserParams,
          body: SetUserBody,
          response: { 200: UserView, ...errorResponses },
        },
      },
      async (request) => {
        const { uid } = request.params;
        const doc = {
          ...request.body,
          allowedAccounts: [...new Set(request.body.allowedAccounts)],
        };
        await cols.users().doc(docId(uid, 'uid')).set(doc);
        deps.authStore.invalidate('user', uid);
        request.log.info({ uid, role: doc.role }, 'user role set');
        return { uid, ...doc };
      },
    );

    app.get(
      '/api/admin/users/:uid',
      {
        config,
        schema: {
          tags,
          operationId: 'getUser',
          description: `A Firebase user's role and allowed accounts. Admin only.`,
          summary: "A user's role and allowed accounts",
          params: UserParams,
          response: { 200: UserView, ...errorResponses },
        },
      },
      async (request) => {
        const doc = (await cols.users().doc(docId(request.params.uid, 'uid')).get()).data();
        if (doc === undefined)
          throw new AppError('NOT_FOUND', `user ${request.params.uid} has no profile`);
        return { uid: request.params.uid, ...doc };
      },
    );
    return Promise.resolve();
  };
}
