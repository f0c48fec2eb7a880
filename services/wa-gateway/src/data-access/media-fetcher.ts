import { AppError } from '@wacrm/contracts';
import {
  boundedFetch,
  OutboundFetchError,
  OutboundRefusedError,
  type OutboundPolicy,
} from '@wacrm/net';

export interface MediaFetcherOptions {
  policy: OutboundPolicy;
  maxBytes: number;
  timeoutMs: number;
}

/**
 * Fetches the bytes of media a caller sent by URL. The URL is the caller's choice, so the fetch
 * runs under the outbound policy (no internal address on any hop), bounded in size and time. A
 * refused, oversized or redirect-looping URL fails the send for good; an HTTP error or a timeout
 * may pass, so the command retries.
 */
export function mediaFetcher(options: MediaFetcherOptions): (url: string) => Promise<Buffer> {
  return async (url) => {
    try {
      const response = await boundedFetch(url, { ...options, maxRedirects: 3 });
      if (response.status < 200 || response.status > 299) {
        throw new AppError(
          'DEPENDENCY_UNAVAILABLE',
          `media download failed: HTTP ${response.status}`,
        );
      }
      return response.body;
    } catch (error) {
      if (error instanceof OutboundRefusedError) {
        throw new AppError('FORBIDDEN', `media download failed: ${error.message}`, {
          cause: error,
        });
      }
      if (error instanceof OutboundFetchError) {
        throw new AppError(
          error.permanent ? 'PAYLOAD_TOO_LARGE' : 'DEPENDENCY_UNAVAILABLE',
          `media download failed: ${error.message}`,
          { cause: error, retryable: !error.permanent },
        );
      }
      throw error;
    }
  };
}
