import { describe, expect, it } from 'vitest';
import { parseConfig, WaGatewayEnv } from '@wacrm/config';
import { SERVICES, type LaunchContext } from './service-catalogue.js';

const ctx: LaunchContext = {
  emulator: true,
  emulatorPort: 7780,
  emulatorMediaPort: 7781,
  emulatorPreload: 'file:///repo/libs/wa-emulator/dist/preload.js',
  dataDir: '/tmp/wacrm-data',
};

function gatewayEnv(context: LaunchContext): Record<string, string> {
  const entry = SERVICES.find((s) => s.name === 'wa-gateway');
  if (!entry?.env) throw new Error('wa-gateway has no environment in the catalogue');
  return entry.env(context);
}

describe('launcher service catalogue', () => {
  it('when npm start runs against the WhatsApp network emulator, then wa-gateway reads the WhatsApp Web version from the emulator, never from web.whatsapp.com', () => {
    const env = gatewayEnv(ctx);
    expect(env.WHATSAPP_WEB_VERSION_URL).toBe('http://127.0.0.1:7780/sw.js');
    const config = parseConfig('wa-gateway', WaGatewayEnv, {
      ...env,
      AUTH_STATE_KEY: Buffer.alloc(32, 1).toString('base64'),
      FIREBASE_PROJECT_ID: 'demo-launcher',
      FIRESTORE_EMULATOR_HOST: '127.0.0.1:8080',
    });
    expect(new URL(config.WHATSAPP_WEB_VERSION_URL).hostname).toBe('127.0.0.1');
  });

  it('when npm start runs against WhatsApp itself, then wa-gateway reads the version from WhatsApp (the default)', () => {
    expect(gatewayEnv({ ...ctx, emulator: false }).WHATSAPP_WEB_VERSION_URL).toBeUndefined();
  });
});
