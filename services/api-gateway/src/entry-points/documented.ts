import type {
  ContextConfigDefault,
  FastifyBaseLogger,
  FastifyInstance,
  FastifySchema,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
  RouteGenericInterface,
  RouteHandlerMethod,
  RouteShorthandOptions,
} from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';

/** The document's tags, declared once with their descriptions (OpenAPI `tags`). */
export const API_TAGS = {
  whatsapp: 'WhatsApp accounts: adding, pairing (QR or code), commands, and sending messages.',
  threads: 'Conversations and their messages, read marks and media.',
  search: 'Full-text search over messages and clients.',
  crm: 'Clients and their CRM events (bookings, orders, …), and questions to the AI assistant.',
  realtime: 'Server-sent events: messages, statuses and account changes as they happen.',
  webhooks: 'Webhook subscriptions, their deliveries and replays (payloads under `webhooks`).',
  status: 'The dashboard: accounts, queues and failures at a glance.',
  auth: 'Who the caller is, and what the web client needs to sign in.',
  admin: 'API keys, users and roles, failed jobs (admin only).',
  operations: 'Health and metrics for orchestrators and monitoring.',
  dev: 'The WhatsApp network emulator, when WA_EMULATOR_URL is set (development only).',
} as const;
export type ApiTag = keyof typeof API_TAGS;

type LowerLetter =
  | 'a'
  | 'b'
  | 'c'
  | 'd'
  | 'e'
  | 'f'
  | 'g'
  | 'h'
  | 'i'
  | 'j'
  | 'k'
  | 'l'
  | 'm'
  | 'n'
  | 'o'
  | 'p'
  | 'q'
  | 'r'
  | 's'
  | 't'
  | 'u'
  | 'v'
  | 'w'
  | 'x'
  | 'y'
  | 'z';

/**
 * What every documented operation must say. A route registered through documentedRoutes()
 * without one of these is a type error; finishOpenApiDocument() also refuses a duplicate or
 * non-camelCase operationId at start.
 */
export interface OperationDoc {
  /** Stable camelCase name SDK generators use for the method: `sendMessage`, `listThreads`. */
  operationId: `${LowerLetter}${string}`;
  /** One line. */
  summary: string;
  /** What it does, for whom, and what its answers mean. */
  description: string;
  tags: readonly [ApiTag];
}

/** A route that takes a body shows an example of it (the document's request example, and /docs). */
export type BodyDoc = { body?: undefined } | { body: unknown; bodyExample: unknown };

/** An operation's doc and body, for a module that registers several routes through one helper. */
export type RouteDoc = Omit<OperationDoc, 'tags'> & BodyDoc;

export type DocumentedSchema = FastifySchema & OperationDoc & BodyDoc;

type Server = RawServerDefault;
type Req = RawRequestDefaultExpression;
type Rep = RawReplyDefaultExpression;
type ZodApp = FastifyInstance<Server, Req, Rep, FastifyBaseLogger, ZodTypeProvider>;

type DocumentedMethod = <
  RouteGeneric extends RouteGenericInterface = RouteGenericInterface,
  ContextConfig = ContextConfigDefault,
  const Schema extends DocumentedSchema = DocumentedSchema,
>(
  path: string,
  opts: RouteShorthandOptions<
    Server,
    Req,
    Rep,
    RouteGeneric,
    ContextConfig,
    Schema,
    ZodTypeProvider,
    FastifyBaseLogger
  > & { schema: Schema },
  handler: RouteHandlerMethod<
    Server,
    Req,
    Rep,
    RouteGeneric,
    ContextConfig,
    Schema,
    ZodTypeProvider,
    FastifyBaseLogger
  >,
) => ZodApp;

type RouteMethods = 'get' | 'post' | 'put' | 'patch' | 'delete' | 'head' | 'options' | 'all';

/** The app as route modules see it: zod-typed, and every route method demands an OperationDoc. */
export type DocumentedApp = Omit<ZodApp, RouteMethods | 'route'> & {
  get: DocumentedMethod;
  post: DocumentedMethod;
  put: DocumentedMethod;
  patch: DocumentedMethod;
  delete: DocumentedMethod;
};

/** Use in every API route module instead of `root.withTypeProvider<ZodTypeProvider>()`. */
export function documentedRoutes(root: FastifyInstance): DocumentedApp {
  return root.withTypeProvider<ZodTypeProvider>();
}
