import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface AdminToken {
  token: string;
  source: 'env' | 'file' | 'generated';
  path: string;
}

/**
 * The bootstrap admin credential: ADMIN_TOKEN when set, else the one generated on the first
 * start and kept (mode 0600) in DATA_DIR/admin-token, so it stays the same across restarts.
 */
export async function resolveAdminToken(
  dataDir: string,
  fromEnv: string | undefined,
): Promise<AdminToken> {
  const path = join(dataDir, 'admin-token');
  if (fromEnv !== undefined) return { token: fromEnv, source: 'env', path };
  try {
    const token = (await readFile(path, 'utf8')).trim();
    if (token.length >= 24) return { token, source: 'file', path };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const token = randomBytes(32).toString('base64url');
  await writeFile(path, `${token}\n`, { mode: 0o600, flag: 'w' });
  return { token, source: 'generated', path };
}
