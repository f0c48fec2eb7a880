/**
 * The catalogue of error codes with their HTTP status and whether a retry may succeed.
 * The gateway maps them to problem+json; workers rethrow retryable ones and fail the rest once.
 */
export const ErrorCatalogue = {
  VALIDATION_FAILED: { status: 400, retryable: false, title: 'The request is not valid' },
  UNAUTHENTICATED: { status: 401, retryable: false, title: 'Authentication required' },
  FORBIDDEN: { status: 403, retryable: false, title: 'Not allowed' },
  NOT_FOUND: { status: 404, retryable: false, title: 'Not found' },
  CONFLICT: { status: 409, retryable: false, title: 'Conflict' },
  PAYLOAD_TOO_LARGE: { status: 413, retryable: false, title: 'Payload too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, retryable: false, title: 'Unsupported media type' },
  RATE_LIMITED: { status: 429, retryable: true, title: 'Too many requests' },
  DEPENDENCY_UNAVAILABLE: { status: 503, retryable: true, title: 'A dependency is unavailable' },
  INVALID_JOB_PAYLOAD: { status: 422, retryable: false, title: 'The job payload is not valid' },
  INTERNAL: { status: 500, retryable: false, title: 'Internal error' },
} as const;

export type ErrorCode = keyof typeof ErrorCatalogue;

export interface AppErrorOptions {
  detail?: string;
  cause?: unknown;
  /** Field-level problems, e.g. from a zod parse. */
  errors?: Array<{ path: string; message: string }>;
  /** Overrides the catalogue, e.g. a dependency error known to be permanent. */
  retryable?: boolean;
}

/** The one error type that steers control flow across services. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  readonly errors: Array<{ path: string; message: string }> | undefined;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = ErrorCatalogue[code].status;
    this.retryable = options.retryable ?? ErrorCatalogue[code].retryable;
    this.errors = options.errors;
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
