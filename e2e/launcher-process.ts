import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePort } from '@wacrm/emulators';

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

export interface ProcInfo {
  pid: number;
  ppid: number;
  state: string;
}

export function processTable(): ProcInfo[] {
  const table: ProcInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name may hold spaces and parentheses; the fields after it do not.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      table.push({ pid: Number(entry), state: fields[0] ?? '', ppid: Number(fields[1]) });
    } catch {
      // Exited while the table was read.
    }
  }
  return table;
}

/** Every live process below `root`, breadth first (detached children and their sessions too). */
export function descendants(root: number): number[] {
  const table = processTable();
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const p of table) {
      if (p.ppid === parent && p.state !== 'Z') {
        found.push(p.pid);
        queue.push(p.pid);
      }
    }
  }
  return found;
}

export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return '(gone)';
  }
}

/**
 * A crash of every process at once, as a power cut or the OOM killer on the whole cgroup: the
 * tree below `root` and `root` itself are stopped (SIGSTOP, so none reacts to another's death —
 * no graceful shutdown, no final flush), then all SIGKILLed.
 */
export async function crashProcessTree(
  root: number,
): Promise<{ killed: number; commands: string[] }> {
  const frozen = new Set<number>([root]);
  process.kill(root, 'SIGSTOP');
  // Stop until no new process appears: a child being spawned right now is caught next round.
  for (let round = 0; round < 5; round++) {
    const fresh = descendants(root).filter((pid) => !frozen.has(pid));
    if (fresh.length === 0) break;
    for (const pid of fresh) {
      try {
        process.kill(pid, 'SIGSTOP');
        frozen.add(pid);
      } catch {
        // Already gone.
      }
    }
  }
  const commands = [...frozen].map(commandLine);
  let killed = 0;
  for (const pid of frozen) {
    try {
      process.kill(pid, 'SIGKILL');
      killed += 1;
    } catch {
      // Already gone.
    }
  }
  const deadline = Date.now() + 10_000;
  while ([...frozen].some(isAlive) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  return { killed, commands };
}

export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Polls `check` until it gives a value (not undefined); its last error is in the timeout's message. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 60_000,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    const value = await Promise.resolve()
      .then(check)
      .catch((e: unknown) => ((last = e), undefined));
    if (value !== undefined) return value;
    await delay(intervalMs);
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms (last: ${String(last)})`);
}

/**
 * A JSON request with a 10 s timeout: its status and parsed body. For the network emulator's
 * control API; the system's own HTTP API is called through system-api.ts (validated).
 */
export async function json<T>(
  url: string,
  init: RequestInit = {},
): Promise<{ status: number; body: T }> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: (await res.json()) as T };
}

export interface LauncherSetup {
  dataDir: string;
  /** `npm start`'s environment: its own DATA_DIR, Redis, store and network emulator on free ports. */
  env: Record<string, string>;
  /** The network emulator's control API (the contacts' side of WhatsApp). */
  emulatorUrl: string;
}

/**
 * A fresh DATA_DIR and free ports for a launcher that must come back on the same ones after a
 * crash (the store, Redis and the emulator keep their data there); nothing taken from outside.
 */
export async function launcherSetup(name: string): Promise<LauncherSetup> {
  const dataDir = await mkdtemp(join(tmpdir(), `wacrm-e2e-${name}-`));
  const emulatorPort = await freePort();
  return {
    dataDir,
    emulatorUrl: `http://127.0.0.1:${emulatorPort}`,
    env: {
      DATA_DIR: dataDir,
      PORT: String(await freePort()),
      WA_EMULATOR_PORT: String(emulatorPort),
      FIRESTORE_EMULATOR_PORT: String(await freePort()),
      REDIS_PORT: String(await freePort()),
      FIREBASE_PROJECT_ID: `demo-e2e-${name}`,
      LOG_LEVEL: 'warn',
      REDIS_URL: '',
      FIRESTORE_EMULATOR_HOST: '',
      ADMIN_TOKEN: '',
    },
  };
}
