import { describe, expect, it } from 'vitest';
import {
  AiExtractorEnv,
  ApiGatewayEnv,
  ConfigError,
  CrmAggregatorEnv,
  IngestEnv,
  OutboxSenderEnv,
  WaGatewayEnv,
  parseConfig,
} from './index.js';

// Issue 15 item 6: with FIREBASE_AUTH_EMULATOR_HOST set, firebase-admin accepts unsigned ID
// tokens, so a production process must refuse emulator variables unless told otherwise.
const credentials = JSON.stringify({ private_key: 'k', client_email: 'a@b.c', project_id: 'p' });

function problems(
  schema: Parameters<typeof parseConfig>[1],
  env: Record<string, string>,
): string[] {
  try {
    parseConfig('svc', schema, env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

describe('emulators and dev routes in production', () => {
  const schemas = {
    ApiGatewayEnv,
    AiExtractorEnv,
    CrmAggregatorEnv,
    IngestEnv,
    OutboxSenderEnv,
    WaGatewayEnv,
  };

  for (const [name, schema] of Object.entries(schemas)) {
    it(`${name}: when NODE_ENV=production names an emulator, then start-up is refused naming it`, () => {
      const base = {
        NODE_ENV: 'production',
        FIREBASE_SERVICE_ACCOUNT_JSON: credentials,
        AUTH_STATE_KEY: 'a'.repeat(64),
      };
      const auth = problems(schema, { ...base, FIREBASE_AUTH_EMULATOR_HOST: '127.0.0.1:9099' });
      expect(auth.find((p) => p.startsWith('FIREBASE_AUTH_EMULATOR_HOST: '))).toContain(
        'production',
      );
      const store = problems(schema, { ...base, FIRESTORE_EMULATOR_HOST: '127.0.0.1:8181' });
      expect(store.find((p) => p.startsWith('FIRESTORE_EMULATOR_HOST: '))).toContain('production');
    });
  }

  it('when ALLOW_EMULATORS_IN_PRODUCTION=true, then an emulator is accepted in production', () => {
    expect(
      problems(ApiGatewayEnv, {
        NODE_ENV: 'production',
        FIRESTORE_EMULATOR_HOST: '127.0.0.1:8181',
        FIREBASE_AUTH_EMULATOR_HOST: '127.0.0.1:9099',
        ALLOW_EMULATORS_IN_PRODUCTION: 'true',
      }),
    ).toEqual([]);
  });

  it('when not in production, then emulators need no permission', () => {
    for (const NODE_ENV of ['development', 'test']) {
      expect(
        problems(ApiGatewayEnv, {
          NODE_ENV,
          FIRESTORE_EMULATOR_HOST: '127.0.0.1:8181',
          FIREBASE_AUTH_EMULATOR_HOST: '127.0.0.1:9099',
        }),
      ).toEqual([]);
    }
  });

  it('when api-gateway runs in production with WA_EMULATOR_URL, then start-up is refused (dev routes)', () => {
    const env = { NODE_ENV: 'production', FIREBASE_SERVICE_ACCOUNT_JSON: credentials };
    const refused = problems(ApiGatewayEnv, { ...env, WA_EMULATOR_URL: 'http://127.0.0.1:9' });
    expect(refused.filter((p) => p.startsWith('WA_EMULATOR_URL:'))[0]).toContain('production');
    // Even where other emulators are allowed: the dev routes never face production traffic.
    const allowed = { ...env, ALLOW_EMULATORS_IN_PRODUCTION: 'true' };
    expect(
      problems(ApiGatewayEnv, { ...allowed, WA_EMULATOR_URL: 'http://127.0.0.1:9' }),
    ).not.toEqual([]);
    expect(problems(ApiGatewayEnv, env)).toEqual([]);
  });

  it('when wa-gateway runs in production with WA_MEDIA_HOST_OVERRIDE, then start-up is refused', () => {
    const env = {
      NODE_ENV: 'production',
      FIREBASE_SERVICE_ACCOUNT_JSON: credentials,
      AUTH_STATE_KEY: 'a'.repeat(64),
    };
    expect(problems(WaGatewayEnv, env)).toEqual([]);
    const refused = problems(WaGatewayEnv, { ...env, WA_MEDIA_HOST_OVERRIDE: '127.0.0.1:8443' });
    expect(refused.filter((p) => p.startsWith('WA_MEDIA_HOST_OVERRIDE:'))[0]).toContain(
      'production',
    );
    const dev = { ...env, NODE_ENV: 'development', WA_MEDIA_HOST_OVERRIDE: '127.0.0.1:8443' };
    expect(problems(WaGatewayEnv, dev)).toEqual([]);
    expect(
      problems(WaGatewayEnv, { ...dev, WA_MEDIA_HOST_OVERRIDE: 'mmg.example.com:443' }),
    ).not.toEqual([]);
  });
});
