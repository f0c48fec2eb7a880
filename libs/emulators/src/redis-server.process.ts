import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { hasExited, OutputTail, terminate, trackChild } from './child-process.util.js';
import { freePort } from './free-port.util.js';
import { waitFor } from './wait-for.util.js';

export interface RedisServerOptions {
  /** Port on 127.0.0.1; a free one is picked when omitted. */
  port?: number;
  /** Working directory for AOF/RDB files; a temporary directory (removed on stop) when omitted. */
  dir?: string;
  /** Enables the append-only file so data in `dir` survives restarts. */
  appendOnly?: boolean;
  /** redis-server log file; when omitted its log is kept in memory for error messages. */
  logFile?: string;
  /** redis-server executable; `redis-server` from PATH by default. */
  bin?: string;
  /** How long to wait for PING to succeed. Default 15 000 ms. */
  startTimeoutMs?: number;
  /** How long `stop()` waits after SIGTERM before SIGKILL. Default 10 000 ms. */
  stopTimeoutMs?: number;
  /**
   * Runs redis-server under a small Node guard holding an IPC channel to this process, so it
   * stops (SIGTERM, AOF flushed) when this process ends however it ends, SIGKILL included.
   * `pid` and `kill()` then refer to the guard, which passes SIGTERM/SIGINT/SIGHUP on. Runs the
   * guard from the built package (`dist/parent-guard.main.js`), as the launcher does.
   */
  endWithParent?: boolean;
}

export interface RedisServerHandle {
  /** `redis://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  /** PID of the current redis-server process (changes after `restart()`). */
  readonly pid: number;
  /** SIGTERM (redis flushes the AOF), then SIGKILL after the stop timeout. */
  stop(): Promise<void>;
  /** Sends a signal without waiting, e.g. SIGKILL to simulate a crash. */
  kill(signal?: NodeJS.Signals): void;
  /** Stops (if running) and starts again on the same port and directory. */
  restart(): Promise<void>;
}

const HOST = '127.0.0.1';
const PARENT_GUARD = fileURLToPath(new URL('./parent-guard.main.js', import.meta.url));

/**
 * Spawns a real `redis-server` bound to 127.0.0.1 and resolves once it answers PING.
 * The process is killed when the current process exits.
 */
export async function startRedisServer(
  options: RedisServerOptions = {},
): Promise<RedisServerHandle> {
  const ownsDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'wacrm-redis-')));
  const stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
  let port = options.port ?? (await freePort());
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    await mkdir(dir, { recursive: true });
    // A port picked by freePort() can be taken before redis binds it; retry with another.
    for (let attempt = 1; ; attempt++) {
      try {
        child = await spawnAndWait(port, dir, options);
        return;
      } catch (err) {
        const portRace = err instanceof Error && /address already in use/i.test(err.message);
        if (!portRace || options.port !== undefined || attempt >= 3) throw err;
        port = await freePort();
      }
    }
  };

  const stopProcess = async (): Promise<void> => {
    if (child) await terminate(child, stopTimeoutMs);
  };

  try {
    await launch();
  } catch (err) {
    if (ownsDir) await rm(dir, { recursive: true, force: true });
    throw err;
  }

  return {
    get url() {
      return `redis://${HOST}:${port}`;
    },
    get port() {
      return port;
    },
    get pid() {
      return child?.pid ?? -1;
    },
    async stop() {
      await stopProcess();
      if (ownsDir) await rm(dir, { recursive: true, force: true });
    },
    kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (child && !hasExited(child)) child.kill(signal);
    },
    async restart() {
      await stopProcess();
      try {
        await launch();
      } catch (err) {
        if (ownsDir) await rm(dir, { recursive: true, force: true });
        throw err;
      }
    },
  };
}

async function spawnAndWait(
  port: number,
  dir: string,
  options: RedisServerOptions,
): Promise<ChildProcess> {
  const persistent = options.appendOnly === true && options.dir !== undefined;
  const args = [
    '--port',
    String(port),
    '--bind',
    HOST,
    '--protected-mode',
    'yes',
    '--appendonly',
    options.appendOnly ? 'yes' : 'no',
    '--dir',
    dir,
    '--daemonize',
    'no',
    // Without persistence RDB dumps would only litter the directory.
    ...(persistent ? [] : ['--save', '']),
    ...(options.logFile ? ['--logfile', options.logFile] : []),
  ];
  const bin = options.bin ?? 'redis-server';
  // Its own process group: a terminal's Ctrl-C must not stop Redis before the services using it.
  const child = options.endWithParent
    ? spawn(process.execPath, [PARENT_GUARD, bin, ...args], {
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        detached: true,
      })
    : spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  // SIGKILL would end the guard alone and leave redis-server running; SIGTERM reaches both.
  trackChild(child, options.endWithParent ? 'SIGTERM' : 'SIGKILL');
  const tail = new OutputTail();
  tail.attach(child.stdout);
  tail.attach(child.stderr);
  let spawnError: Error | undefined;
  child.once('error', (err) => (spawnError = err));
  // 'exit' can fire before the pipes drain; 'close' means the output tail is complete.
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));

  const details = async (): Promise<string> => {
    if (!options.logFile) return tail.toString();
    const log = await readFile(options.logFile, 'utf8').catch(() => '');
    return `${tail.toString()}${log.slice(-4_000)}`;
  };
  try {
    await waitFor(() => redisPing(port), {
      timeoutMs: options.startTimeoutMs ?? 15_000,
      intervalMs: 50,
      what: `redis-server on ${HOST}:${port} to answer PING`,
      abortReason: () => {
        if (spawnError) return `Could not spawn redis-server: ${spawnError.message}`;
        if (!hasExited(child)) return undefined;
        return `redis-server exited early (code ${child.exitCode}, signal ${child.signalCode})`;
      },
    });
  } catch (err) {
    await terminate(child, 2_000);
    await Promise.race([closed, delay(1_000)]);
    const message = err instanceof Error ? err.message : String(err);
    const out = (await details()).trim();
    throw new Error(out ? `${message}\n--- redis-server output tail ---\n${out}` : message);
  }
  return child;
}

/**
 * Sends one RESP command to a Redis on 127.0.0.1 and returns the raw reply text.
 * Tiny on purpose: readiness checks should not depend on a client library.
 */
export function redisCommand(port: number, args: string[], timeoutMs = 2_000): Promise<string> {
  const payload = `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
  return new Promise((resolve, reject) => {
    const socket = connect({ host: HOST, port });
    let reply = '';
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error('Redis command timed out')));
    socket.setEncoding('utf8');
    socket.once('error', reject);
    socket.once('connect', () => socket.write(payload));
    socket.on('data', (chunk: string) => {
      reply += chunk;
      if (isCompleteReply(reply)) {
        socket.end();
        resolve(reply);
      }
    });
    socket.once('close', () =>
      reject(new Error(`Connection closed before a full reply: ${reply}`)),
    );
  });
}

function isCompleteReply(reply: string): boolean {
  if (!reply.endsWith('\r\n')) return false;
  if (reply.startsWith('$')) {
    const length = Number(reply.slice(1, reply.indexOf('\r\n')));
    return length < 0 || reply.length >= reply.indexOf('\r\n') + 2 + length + 2;
  }
  return true;
}

async function redisPing(port: number): Promise<boolean> {
  return (await redisCommand(port, ['PING'], 1_000)).startsWith('+PONG');
}
