import { trace } from '@opentelemetry/api';
import { pino, type Logger, type LoggerOptions, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths whose values are secrets. pino's redaction matches exact paths (one `*` level),
 * so the common nestings are listed; `serializeError` strips the rest from error objects.
 */
export const REDACT_PATHS: string[] = (() => {
  const keys = [
    'authorization',
    'Authorization',
    'cookie',
    'token',
    'idToken',
    'accessToken',
    'refreshToken',
    'apiKey',
    'api_key',
    'x-api-key',
    'password',
    'secret',
    'privateKey',
    'private_key',
    'adminToken',
    'ADMIN_TOKEN',
    'GROQ_API_KEY',
    'AUTH_STATE_KEY',
    'FIREBASE_SERVICE_ACCOUNT_JSON',
    'serviceAccount',
    'creds',
    'keys',
    'authState',
    'noiseKey',
    'signedIdentityKey',
    'signedPreKey',
    'mediaKey',
    'mediaKeyBase64',
  ];
  const paths: string[] = [];
  for (const key of keys) {
    const k = /^[A-Za-z_$][\w$]*$/.test(key) ? key : `["${key}"]`;
    const dot = k.startsWith('[') ? '' : '.';
    paths.push(k, `*${dot}${k}`, `req.headers${dot}${k}`, `*.*${dot}${k}`);
  }
  return paths;
})();

export interface CreateLoggerOptions {
  service: string;
  version: string;
  level?: LoggerOptions['level'];
  /** Human-readable output (pino-pretty) for a terminal; JSON otherwise. */
  pretty?: boolean;
  instanceId?: string;
  /** Where lines go; tests pass a stream to read them back. */
  destination?: DestinationStream;
}

/**
 * The one root logger of a process: `{service, version}` on every line, secrets redacted,
 * and the active trace and span ids so a log line leads to its trace.
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  const base: Record<string, string> = { service: options.service, version: options.version };
  if (options.instanceId !== undefined) base.instance = options.instanceId;
  const config: LoggerOptions = {
    level: options.level ?? 'info',
    base,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    mixin() {
      const span = trace.getActiveSpan();
      if (span === undefined) return {};
      const ctx = span.spanContext();
      return { trace_id: ctx.traceId, span_id: ctx.spanId };
    },
  };
  if (options.destination !== undefined) return pino(config, options.destination);
  if (options.pretty === true) {
    return pino({
      ...config,
      transport: {
        target: 'pino-pretty',
        options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' },
      },
    });
  }
  return pino(config);
}
