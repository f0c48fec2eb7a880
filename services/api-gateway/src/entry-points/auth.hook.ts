import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Auth } from 'firebase-admin/auth';
import { AppError, isAppError } from '@wacrm/contracts';
import type { FailedAuthLimiter } from '../data-access/auth-failures.js';
import {
  createRevocationCheck,
  type AuthStore,
  type RevocationCheck,
} from '../data-access/auth.repository.js';
import { apiKeyMatches, parseApiKey, safeEqual } from '../domain/api-key.js';
import {
  adminTokenPrincipal,
  apiKeyPrincipal,
  requireOperation,
  userPrincipal,
  type Operation,
  type Principal,
} from '../domain/principal.js';
import { sendProblem } from './problem.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The operation a route performs; routes without one need the admin role. */
    operation?: Operation;
    /** No credentials needed (/health, the API description). */
    public?: boolean;
    /**
     * A public route whose URL carries its own secret (a calendar feed): still rate-limited per
     * client address, as any unauthenticated call is.
     */
    tokenInUrl?: boolean;
    /** /metrics also accepts METRICS_TOKEN as a Bearer token. */
    metricsToken?: boolean;
  }
  interface FastifyRequest {
    principal: Principal | null;
    /**
     * Derives the caller's principal again from the same credential (revocation, key state and
     * profile re-read): long-lived requests (SSE) call it to notice a revoked or demoted caller.
     */
    recheckPrincipal: (() => Promise<Principal>) | null;
  }
}

export interface AuthHookDeps {
  auth: Auth;
  store: AuthStore;
  adminToken?: string;
  metricsToken?: string;
  /** Defaults to a check against `auth` with the user record cached for 10 s. */
  revocations?: RevocationCheck;
  /** Bounds failed authentications per client address (FAILED_AUTH_LIMIT). */
  failures?: FailedAuthLimiter;
}

interface Authenticated {
  principal: Principal;
  recheck: () => Promise<Principal>;
}

const PUBLIC_PREFIXES = ['/docs', '/openapi.json', '/health'];

/**
 * Failed authentications allowed per client address and window before it gets 429: a guessed
 * API key or token costs a Firestore or Auth read, so guessing is bounded (issue 15).
 */
export const FAILED_AUTH_LIMIT = { max: 20, windowMs: 60_000 };

/** The caller of an authenticated route; the hook guarantees it is set. */
export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === null) throw new AppError('UNAUTHENTICATED', 'no credentials');
  return request.principal;
}

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

async function fromApiKey(deps: AuthHookDeps, key: string): Promise<Principal> {
  const parsed = parseApiKey(key);
  const doc = parsed !== undefined ? await deps.store.getApiKey(parsed.id) : undefined;
  if (parsed === undefined || doc === undefined || !apiKeyMatches(key, doc.hash)) {
    throw new AppError('UNAUTHENTICATED', 'the API key is not valid');
  }
  if (doc.revokedAt !== null) throw new AppError('UNAUTHENTICATED', 'the API key was revoked');
  deps.store.touchApiKey(parsed.id, doc.lastUsedAt);
  return apiKeyPrincipal(parsed.id, doc);
}

function apiKeyCredential(deps: AuthHookDeps, key: string): Promise<Authenticated> {
  return fromApiKey(deps, key).then((principal) => ({
    principal,
    recheck: () => fromApiKey(deps, key),
  }));
}

const ID_TOKEN_ERRORS: Record<string, string> = {
  'auth/id-token-expired': 'the ID token has expired',
  'auth/id-token-revoked': 'the ID token was revoked; sign in again',
  'auth/user-disabled': 'the user is disabled',
  'auth/user-not-found': 'the user no longer exists',
};

async function fromIdToken(
  deps: AuthHookDeps,
  revocations: RevocationCheck,
  token: string,
): Promise<Authenticated> {
  let uid: string;
  let authTime: number;
  try {
    const decoded = await deps.auth.verifyIdToken(token);
    uid = decoded.uid;
    authTime = decoded.auth_time;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('auth/')) {
      throw new AppError(
        'UNAUTHENTICATED',
        ID_TOKEN_ERRORS[code] ?? 'the bearer token is not valid',
      );
    }
    throw new AppError('DEPENDENCY_UNAVAILABLE', 'could not verify the ID token', {
      cause: error,
    });
  }
  // Revocation and the profile are read again on every check, each cached briefly.
  const current = async () => {
    await revocations.check(uid, authTime);
    return userPrincipal(uid, await deps.store.getUser(uid));
  };
  return { principal: await current(), recheck: current };
}

class FailedAuthBlocked extends AppError {
  constructor(readonly retryAfterMs: number) {
    super(
      'RATE_LIMITED',
      `too many failed authentications from this address; retry in ${Math.ceil(retryAfterMs / 1000)} s`,
    );
  }
}

function hasCredentials(request: FastifyRequest): boolean {
  return request.headers.authorization !== undefined || request.headers['x-api-key'] !== undefined;
}

/**
 * Authenticates every non-public route (onRequest, before the body is read) and checks the
 * route's operation against the caller's role and scopes. Account checks happen in handlers.
 */
export function registerAuth(app: FastifyInstance, deps: AuthHookDeps): void {
  const revocations = deps.revocations ?? createRevocationCheck(deps.auth);
  app.decorateRequest('principal', null);
  app.decorateRequest('recheckPrincipal', null);
  app.addHook('onRequest', async (request, reply) => {
    try {
      await authenticate(request);
    } catch (error) {
      // Answered here rather than thrown, so plugins with their own error handler (bull-board)
      // still give a problem+json 401/403.
      if (!isAppError(error) || error.status >= 500) throw error;
      if (error instanceof FailedAuthBlocked) {
        void reply.header('retry-after', String(Math.ceil(error.retryAfterMs / 1000)));
      } else if (error.code === 'UNAUTHENTICATED' && hasCredentials(request)) {
        await deps.failures?.record(request.ip);
      }
      return sendProblem(reply, request, error.code, error.message);
    }
  });

  async function authenticate(request: FastifyRequest): Promise<void> {
    const config = request.routeOptions.config;
    const url = request.routeOptions.url;
    // Unknown routes fall through to the 404 handler; public ones need nothing.
    if (url === undefined || config.public === true) return;
    if (PUBLIC_PREFIXES.some((p) => url === p || url.startsWith(`${p}/`))) return;

    const token = bearer(request);
    const wait = (await deps.failures?.retryAfterMs(request.ip)) ?? 0;
    if (wait > 0) throw new FailedAuthBlocked(wait);
    if (
      config.metricsToken === true &&
      deps.metricsToken !== undefined &&
      token !== undefined &&
      safeEqual(token, deps.metricsToken)
    ) {
      return;
    }
    const apiKeyHeader = request.headers['x-api-key'];
    let caller: Authenticated;
    if (typeof apiKeyHeader === 'string' && apiKeyHeader.length > 0) {
      caller = await apiKeyCredential(deps, apiKeyHeader);
    } else if (token === undefined) {
      throw new AppError(
        'UNAUTHENTICATED',
        'send "Authorization: Bearer <Firebase ID token>" or "X-API-Key: <key>"',
      );
    } else if (deps.adminToken !== undefined && safeEqual(token, deps.adminToken)) {
      const principal = adminTokenPrincipal();
      caller = { principal, recheck: () => Promise.resolve(principal) };
    } else if (token.startsWith('wacrm_')) {
      caller = await apiKeyCredential(deps, token);
    } else {
      caller = await fromIdToken(deps, revocations, token);
    }
    request.principal = caller.principal;
    request.recheckPrincipal = caller.recheck;
    requireOperation(caller.principal, config.operation ?? 'admin');
  }
}
