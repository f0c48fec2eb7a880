import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './index.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _e, cb) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  return { lines, logger: createLogger({ service: 'svc', version: '1.2.3', destination }) };
}

describe('createLogger', () => {
  it('when a line is logged, then it carries service and version', () => {
    const { lines, logger } = capture();
    logger.info('hello');
    expect(JSON.parse(lines[0]!)).toMatchObject({ service: 'svc', version: '1.2.3', msg: 'hello' });
  });

  it('when secrets are logged at any common depth, then they are redacted', () => {
    const { lines, logger } = capture();
    logger.info(
      {
        token: 'tok-secret',
        req: { headers: { authorization: 'Bearer abc-secret', 'x-api-key': 'key-secret' } },
        config: {
          FIREBASE_SERVICE_ACCOUNT_JSON: '{"private_key":"pk-secret"}',
          GROQ_API_KEY: 'gsk-secret',
        },
        session: { creds: { noiseKey: 'nk-secret' } },
        account: { authState: { keys: 'k-secret' } },
      },
      'login attempt',
    );
    const text = lines.join('\n');
    expect(text).not.toMatch(/secret/);
    expect(text).toMatch(/\[redacted\]/);
  });
});
