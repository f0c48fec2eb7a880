import type { ObjectStore } from '@wacrm/object-store';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Auth } from 'firebase-admin/auth';
import type { Firestore } from 'firebase-admin/firestore';
import {
  createJsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import type { Redis } from 'ioredis';
import { AppError } from '@wacrm/contracts';
import type { Logger } from '@wacrm/observability';
import type { AiClient } from './data-access/ai-requests.js';
import { createFailedAuthLimiter } from './data-access/auth-failures.js';
import type { AuthStore } from './data-access/auth.repository.js';
import type { GatewayMetrics } from './data-access/metrics.js';
import type { QueueRegistry } from './data-access/queues.js';
import type { RealtimeHub } from './data-access/realtime.js';
import type { WebhooksRepository } from './webhooks/webhooks.repository.js';
import type { DependencyProbe } from './domain/health.js';
import type { SecretBox } from './webhooks/webhook-crypto.js';
import { adminRoutes } from './entry-points/admin.routes.js';
import { FAILED_AUTH_LIMIT, registerAuth } from './entry-points/auth.hook.js';
import { refuseUndeclaredBodies } from './entry-points/body-guard.hook.js';
import { recordRouteTable } from './entry-points/route-table.js';
import { crmRoutes } from './entry-points/crm.routes.js';
import { bookingsRoutes } from './entry-points/bookings.routes.js';
import { schedulingRoutes } from './entry-points/scheduling.routes.js';
import { reportsRoutes } from './entry-points/reports.routes.js';
import { healthRoutes } from './entry-points/health.routes.js';
import { registerOps } from './entry-points/ops.routes.js';
import { finishOpenApiDocument, withBodyExamples } from './entry-points/openapi-document.js';
import { registerProblemHandlers, sendProblem } from './entry-points/problem.js';
import type { RouteDeps } from './entry-points/route-deps.js';
import { searchRoutes } from './entry-points/search.routes.js';
import { sendRoutes } from './entry-points/send.routes.js';
import { cachedInboxSettings } from './data-access/inbox.repository.js';
import type { SendAdmission } from './entry-points/send-admission.js';
import { simulatorRoutes } from './entry-points/simulator.routes.js';
import { statusRoutes } from './entry-points/status.routes.js';
import { streamRoutes } from './entry-points/stream.routes.js';
import { threadsRoutes } from './entry-points/threads.routes.js';
import { inboxRoutes } from './entry-points/inbox.routes.js';
import { mediaRoutes } from './entry-points/media.routes.js';
import { mediaUploadRoutes } from './entry-points/media-upload.routes.js';
import { registerTracing } from './entry-points/tracing.hook.js';
import type { WebhookJobOptions } from './webhooks/webhook-dispatcher.js';
import { webhooksRoutes } from './webhooks/webhooks.routes.js';
import {
  loadWebAssets,
  webConfigRoutes,
  webRoutes,
  type WebConfig,
} from './entry-points/web.routes.js';
import { whatsappRoutes } from './entry-points/whatsapp.routes.js';

/** Settings from ApiGatewayEnv that shape the HTTP app. */
export interface GatewaySettings {
  bodyLimitBytes: number;
  corsOrigins: string[];
  rateLimit: { max: number; windowMs: number };
  /** Overload answers of the send route (SEND_MAX_IN_FLIGHT, SEND_ACCEPT_TIMEOUT_MS). */
  sendAdmission: SendAdmission;
  /** Failed authentications per client address and window before 429 (FAILED_AUTH_LIMIT). */
  failedAuthLimit?: { max: number; windowMs: number };
  adminToken?: string;
  metricsToken?: string;
  /** The WhatsApp network emulator's control API (WA_EMULATOR_URL): enables /api/dev/simulator/*. */
  emulatorUrl?: string;
  webhookJobs: WebhookJobOptions;
  /** The built web client (services/web/dist), served at `/` when it exists. */
  webRoot?: string;
  /** Firebase Auth for the web client's sign-in; absent when ID tokens cannot be issued. */
  firebaseWeb?: NonNullable<WebConfig['firebase']>;
}

export interface AppDeps {
  logger: Logger;
  probes: DependencyProbe[];
  version: string;
  startedAt?: number;
  healthTimeoutMs?: number;
  db: Firestore;
  auth: Auth;
  /** Commands connection with bounded retries (requests fail fast when Redis is down). */
  redis: Redis;
  queues: QueueRegistry;
  hub: RealtimeHub;
  settings: GatewaySettings;
  /** Shared with the webhook worker when it runs in this process. */
  metrics: GatewayMetrics;
  authStore: AuthStore;
  webhooksRepo: WebhooksRepository;
  /** Sealed webhook secrets (WEBHOOK_SECRET_KEY); without it, webhook routes answer 503. */
  webhookSecretBox: SecretBox | undefined;
  /** Requests to the AI worker (Ask AI, extraction), closed by the composition root. */
  ai: AiClient;
  /** Object storage of media (issue 17). */
  objects: ObjectStore;
  /** Largest file POST /api/media keeps (MEDIA_UPLOAD_MAX_BYTES). */
  mediaUploadMaxBytes: number;
}

export const SERVICE = 'api-gateway';

/**
 * Scripts only from this origin (the web client's bundles and the docs page), never inline.
 * Inline styles stay allowed for the docs page and React style attributes; images may be data:
 * URLs (the QR); images, audio and video may be blob: URLs (the chat's media). The browser may
 * call Firebase Auth when the web client signs in with it.
 */
function contentSecurityPolicy(firebase: GatewaySettings['firebaseWeb']) {
  const authOrigins =
    firebase === undefined
      ? []
      : firebase.emulatorUrl !== null
        ? [new URL(firebase.emulatorUrl).origin]
        : ['https://identitytoolkit.googleapis.com', 'https://securetoken.googleapis.com'];
  return {
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      // blob: the chat's media, fetched with the Bearer token and shown as object URLs.
      imgSrc: ["'self'", 'data:', 'blob:'],
      mediaSrc: ["'self'", 'blob:'],
      connectSrc: ["'self'", ...authOrigins],
      fontSrc: ["'self'"],
      formAction: ["'self'"],
      baseUri: ["'self'"],
      frameAncestors: ["'none'"],
      objectSrc: ["'none'"],
      // Self-hosted over plain HTTP on a LAN is legitimate; upgrading would break every request.
      upgradeInsecureRequests: null,
    },
  };
}

/** Builds the HTTP app without listening, so tests drive it with `inject()`. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  // Typed as Fastify's base logger so plugins and route modules share one instance type.
  const loggerInstance: FastifyBaseLogger = deps.logger;
  const app = Fastify({
    loggerInstance,
    bodyLimit: deps.settings.bodyLimitBytes,
    requestIdHeader: 'x-request-id',
    trustProxy: false,
    routerOptions: { maxParamLength: 1024 },
    // URLs the router cannot even parse still get a problem+json answer.
    frameworkErrors: (error, request, reply) => {
      sendProblem(
        reply,
        request,
        'VALIDATION_FAILED',
        error.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? 'a path segment is longer than 1024 characters'
          : 'the URL is not valid',
      );
    },
  });
  recordRouteTable(app);
  refuseUndeclaredBodies(app);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerProblemHandlers(app);
  // An operation without a request body must not refuse a request that has none because it
  // carries `Content-Type: application/json` (generated clients and proxies send it): an empty
  // JSON body is no body. A non-empty one is parsed as Fastify does (prototype poisoning refused);
  // an operation that declares a body still refuses its absence through the body schema.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body.length === 0) done(null, undefined);
    else void parseJson(request, body.toString(), done);
  });
  registerTracing(app);

  const { metrics, authStore, webhooksRepo, ai } = deps;

  await app.register(helmet, {
    contentSecurityPolicy: contentSecurityPolicy(deps.settings.firebaseWeb),
    crossOriginEmbedderPolicy: false,
  });
  await app.register(cors, {
    origin: deps.settings.corsOrigins.length > 0 ? deps.settings.corsOrigins : false,
    methods: ['GET', 'POST', 'PUT', 'PATCH'],
    allowedHeaders: [
      'authorization',
      'content-type',
      'x-api-key',
      'idempotency-key',
      'last-event-id',
      'x-request-id',
    ],
    exposedHeaders: ['x-request-id', 'retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining'],
    maxAge: 600,
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'wacrm API',
        version: deps.version,
        description:
          'WhatsApp CRM backend. Authenticate with `Authorization: Bearer <Firebase ID token>` or `X-API-Key`. Errors are application/problem+json.',
        license: { name: 'UNLICENSED', identifier: 'LicenseRef-wacrm-proprietary' },
        contact: { name: 'wacrm maintainers' },
      },
      servers: [
        {
          url: 'http://127.0.0.1:8080',
          description: 'A gateway on this machine (PORT defaults to 8080); use your own host.',
        },
      ],
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description: 'Firebase ID token or ADMIN_TOKEN',
          },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        },
      },
      security: [{ bearer: [] }, { apiKey: [] }],
    },
    transform: withBodyExamples(
      createJsonSchemaTransform({
        skipList: [
          '/docs',
          '/docs/*',
          '/docs/static/*',
          '/docs/json',
          '/docs/yaml',
          '/openapi.json',
        ],
      }),
    ),
    transformObject: (input) =>
      finishOpenApiDocument(
        ('openapiObject' in input ? input.openapiObject : input.swaggerObject) as Record<
          string,
          unknown
        >,
      ),
    // bull-board's UI routes are not part of the API.
    hideUntagged: true,
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    uiConfig: { url: '/openapi.json' },
  });
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, () =>
    Promise.resolve(app.swagger()),
  );

  registerAuth(app, {
    auth: deps.auth,
    store: authStore,
    failures: createFailedAuthLimiter(deps.redis, {
      prefix: `${deps.queues.prefix}:auth`,
      ...(deps.settings.failedAuthLimit ?? FAILED_AUTH_LIMIT),
    }),
    ...(deps.settings.adminToken !== undefined ? { adminToken: deps.settings.adminToken } : {}),
    ...(deps.settings.metricsToken !== undefined
      ? { metricsToken: deps.settings.metricsToken }
      : {}),
  });

  await app.register(rateLimit, {
    global: true,
    // After auth, so the limit is per API key or user; unauthenticated calls count per IP.
    hook: 'preHandler',
    max: deps.settings.rateLimit.max,
    timeWindow: deps.settings.rateLimit.windowMs,
    redis: deps.redis,
    nameSpace: `${deps.queues.prefix}:ratelimit:`,
    skipOnError: true,
    keyGenerator: (request) =>
      request.principal !== null
        ? `${request.principal.kind}:${request.principal.id}`
        : `ip:${request.ip}`,
    allowList: (request) =>
      request.routeOptions.config.public === true &&
      request.routeOptions.config.tokenInUrl !== true,
    errorResponseBuilder: (_request, context) =>
      new AppError(
        'RATE_LIMITED',
        `rate limit of ${context.max} requests exceeded; retry in ${context.after}`,
      ),
  });

  app.addHook('onResponse', (request, reply, done) => {
    metrics.httpDuration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status_code: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
    done();
  });

  const routeDeps: RouteDeps = {
    db: deps.db,
    redis: deps.redis,
    queues: deps.queues,
    authStore,
    metrics,
    logger: deps.logger,
    sendAdmission: deps.settings.sendAdmission,
    inboxSettings: cachedInboxSettings(deps.db, 1_000),
  };
  await app.register(
    healthRoutes({
      probes: deps.probes,
      service: SERVICE,
      version: deps.version,
      startedAt: deps.startedAt ?? Date.now(),
      timeoutMs: deps.healthTimeoutMs ?? 1500,
    }),
  );
  await app.register(whatsappRoutes(routeDeps));
  await app.register(sendRoutes(routeDeps));
  await app.register(threadsRoutes(routeDeps));
  await app.register(inboxRoutes(routeDeps));
  await app.register(mediaRoutes({ ...routeDeps, objects: deps.objects }));
  await app.register(
    mediaUploadRoutes({ ...routeDeps, objects: deps.objects, maxBytes: deps.mediaUploadMaxBytes }),
  );
  await app.register(searchRoutes(routeDeps));
  await app.register(statusRoutes(routeDeps));
  await app.register(adminRoutes(routeDeps));
  await app.register(crmRoutes({ ...routeDeps, ai }));
  await app.register(bookingsRoutes(routeDeps));
  await app.register(schedulingRoutes(routeDeps));
  await app.register(reportsRoutes(routeDeps));
  await app.register(streamRoutes({ hub: deps.hub, metrics }));
  await app.register(
    webhooksRoutes({
      repo: webhooksRepo,
      queues: deps.queues,
      secretBox: deps.webhookSecretBox,
      jobs: deps.settings.webhookJobs,
    }),
  );
  if (deps.settings.emulatorUrl !== undefined) {
    await app.register(simulatorRoutes({ emulatorUrl: deps.settings.emulatorUrl, db: deps.db }));
  }
  await app.register(
    webConfigRoutes({
      adminTokenSignIn: deps.settings.adminToken !== undefined,
      firebase: deps.settings.firebaseWeb ?? null,
    }),
  );
  if (deps.settings.webRoot !== undefined) {
    const assets = await loadWebAssets(deps.settings.webRoot);
    if (assets !== undefined) await app.register(webRoutes(assets));
    else {
      deps.logger.warn(
        { webRoot: deps.settings.webRoot },
        'the web client is not built (npm run build): only the API is served',
      );
    }
  }
  await registerOps(app, {
    metrics,
    queues: () => [...deps.queues.fixed, ...deps.queues.openedCommands()].map((q) => q.queue),
  });
  return app;
}
