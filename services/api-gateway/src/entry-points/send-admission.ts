import { AppError } from '@wacrm/contracts';

/** How the send route answers overload (ApiGatewayEnv SEND_MAX_IN_FLIGHT, SEND_ACCEPT_TIMEOUT_MS). */
export interface SendAdmission {
  /** Unanswered sends in this process beyond which a new one is refused at once. */
  maxInFlight: number;
  /** How long a send waits for the store to confirm its outbox document. */
  acceptTimeoutMs: number;
}

/**
 * Counts the sends this process is answering and refuses one beyond the bound with 503 and
 * Retry-After (problem+json through the error handler): under overload the client hears "retry
 * shortly" at once instead of waiting behind minutes of queued work for a timeout or a 500.
 */
export function admissionGate(admission: SendAdmission) {
  let inFlight = 0;
  return async <T>(work: () => Promise<T>): Promise<T> => {
    if (inFlight >= admission.maxInFlight) {
      throw new AppError(
        'DEPENDENCY_UNAVAILABLE',
        `${inFlight} sends are being accepted; retry shortly with the same requestId`,
      );
    }
    inFlight += 1;
    try {
      return await work();
    } finally {
      inFlight -= 1;
    }
  };
}

/**
 * `write` (the outbox document's create) within the accept deadline, else 503: the store did not
 * confirm in time, so nothing was acknowledged. The write may still land; the client's retry with
 * the same requestId then reads it back and answers the first acceptance (create-once).
 */
export async function withinAcceptDeadline<T>(write: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new AppError(
            'DEPENDENCY_UNAVAILABLE',
            `the store did not confirm the send within ${timeoutMs} ms; retry with the same requestId`,
          ),
        ),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([write, deadline]);
  } finally {
    clearTimeout(timer);
    // A write that fails after the deadline answered has no one to tell; it must not go unhandled.
    write.catch(() => undefined);
  }
}
