import { spawn, type ChildProcess } from 'node:child_process';

/** A service started from its build output, as `npm start` runs it, with its JSON log lines. */
export interface NodeProcess {
  name: string;
  child: ChildProcess;
  /** Every JSON log line the process printed (other lines as `{ msg }`). */
  lines: Array<Record<string, unknown>>;
  port: number;
  url: string;
  exited: Promise<number | null>;
  /** Signals it and waits for the exit (SIGKILL after 20 s); a failed SIGTERM exit throws. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Runs `node <entry>` (an absolute path) in `cwd` with only PATH and `env`, so nothing of the
 * test's environment leaks in; killed when the test process exits.
 */
export function spawnNodeProcess(options: {
  name: string;
  entry: string;
  cwd: string;
  env: Record<string, string>;
  port?: number;
}): NodeProcess {
  const { name, port = 0 } = options;
  const child = spawn(process.execPath, [options.entry], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', METADATA_SERVER_DETECTION: 'none', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  let buffer = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    for (const p of parts) {
      try {
        lines.push(JSON.parse(p) as Record<string, unknown>);
      } catch {
        lines.push({ msg: p });
      }
    }
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-4000)));
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  process.once('exit', () => child.kill('SIGKILL'));
  return {
    name,
    child,
    lines,
    port,
    url: `http://127.0.0.1:${port}`,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
      if (stderr.trim() !== '' && signal === 'SIGTERM' && child.exitCode !== 0) {
        throw new Error(`${name} exited ${child.exitCode}: ${stderr}`);
      }
    },
  };
}
