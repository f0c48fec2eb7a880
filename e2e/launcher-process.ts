import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface LauncherProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the URL once the launcher prints that the system is up. */
  ready: Promise<string>;
  /** Ctrl-C, as a person would; resolves with the exit code. */
  interrupt(timeoutMs?: number): Promise<number | null>;
}

/** Starts `npm start`'s launcher (built) as a child process in its own process group. */
export function startLauncher(env: Record<string, string>): LauncherProcess {
  const child = spawn(process.execPath, ['tools/launcher/dist/main.js'], {
    cwd: ROOT,
    env: { ...process.env, LOG_PRETTY: 'false', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let text = '';
  const ready = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      text += chunk.toString();
      const match = /WhatsApp CRM is running at (\S+)/.exec(text);
      if (match?.[1] !== undefined) resolve(match[1]);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`launcher exited (${code}) before ready:\n${text.slice(-4000)}`)),
    );
  });
  ready.catch(() => undefined);
  return {
    child,
    output: () => text,
    ready,
    async interrupt(timeoutMs = 30_000) {
      // A launcher killed by a signal has a signalCode and no exit code: nothing to wait for.
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = once(child, 'exit') as Promise<[number | null]>;
      child.kill('SIGINT');
      const timer = setTimeout(() => {
        // Last resort: the whole group, so no redis-server or emulator outlives the test.
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      }, timeoutMs);
      const [code] = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
