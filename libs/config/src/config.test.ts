import { describe, expect, it } from 'vitest';
import { ApiGatewayEnv, ConfigError, parseConfig } from './index.js';

describe('parseConfig', () => {
  it('when several variables are wrong, then every problem is listed at once', () => {
    let error: unknown;
    try {
      parseConfig('api-gateway', ApiGatewayEnv, {
        PORT: 'eighty',
        REDIS_URL: 'http://nope',
        LOG_LEVEL: 'loud',
        FIRESTORE_EMULATOR_HOST: '127.0.0.1:8181',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/PORT/);
    expect(problems).toMatch(/REDIS_URL/);
    expect(problems).toMatch(/LOG_LEVEL/);
  });

  it('when a secret is invalid, then its value is not echoed', () => {
    try {
      parseConfig('api-gateway', ApiGatewayEnv, {
        FIRESTORE_EMULATOR_HOST: '127.0.0.1:8181',
        ADMIN_TOKEN: 'short-secret',
      });
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toMatch(/ADMIN_TOKEN/);
      expect((e as Error).message).not.toMatch(/short-secret/);
    }
  });

  it('when Firestore has neither emulator nor credentials, then start-up is refused', () => {
    expect(() => parseConfig('api-gateway', ApiGatewayEnv, {})).toThrow(/FIRESTORE_EMULATOR_HOST/);
  });

  it('when only the emulator is given, then defaults fill the rest', () => {
    const config = parseConfig('api-gateway', ApiGatewayEnv, {
      FIRESTORE_EMULATOR_HOST: '127.0.0.1:8181',
    });
    expect(config.PORT).toBe(8080);
    expect(config.HOST).toBe('127.0.0.1');
    expect(config.QUEUE_PREFIX).toBe('{wacrm}');
    expect(config.LOG_PRETTY).toBe(false);
  });

  it('when the service-account JSON is not a key file, then it is rejected', () => {
    expect(() =>
      parseConfig('api-gateway', ApiGatewayEnv, { FIREBASE_SERVICE_ACCOUNT_JSON: '{"a":1}' }),
    ).toThrow(/private_key/);
  });
});

describe('empty variables', () => {
  it('when a variable is set but empty, then it counts as unset', () => {
    const config = parseConfig('api-gateway', ApiGatewayEnv, {
      FIRESTORE_EMULATOR_HOST: '127.0.0.1:8181',
      REDIS_URL: '',
      ADMIN_TOKEN: '',
    });
    expect(config.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(config.ADMIN_TOKEN).toBeUndefined();
  });
});
