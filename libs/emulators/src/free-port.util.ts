import { createServer } from 'node:net';

/**
 * Asks the OS for a currently free TCP port on 127.0.0.1.
 *
 * The port is released before returning, so another process could grab it in between;
 * callers that spawn servers should treat "address in use" as retryable.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close((err) => {
        if (err) reject(err);
        else if (port > 0) resolve(port);
        else reject(new Error('The OS did not report a bound port'));
      });
    });
  });
}
