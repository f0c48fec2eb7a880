import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface LocalSecret {
  value: string;
  source: 'env' | 'file' | 'generated';
  path: string;
}

/**
 * A secret for the local system (admin token, auth-state key): the environment's when set, else
 * the one generated on first start and kept (mode 0600) in DATA_DIR, so restarts keep it.
 */
export async function resolveLocalSecret(
  dataDir: string,
  name: string,
  fromEnv: string | undefined,
  generate: () => string,
  isValid: (value: string) => boolean,
): Promise<LocalSecret> {
  const path = join(dataDir, name);
  if (fromEnv !== undefined) return { value: fromEnv, source: 'env', path };
  try {
    const value = (await readFile(path, 'utf8')).trim();
    if (isValid(value)) return { value, source: 'file', path };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const value = generate();
  await writeFile(path, `${value}\n`, { mode: 0o600, flag: 'w' });
  return { value, source: 'generated', path };
}

export const generateAdminToken = (): string => randomBytes(32).toString('base64url');
export const generateAesKey = (): string => randomBytes(32).toString('hex');
