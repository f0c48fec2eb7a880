import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Logger } from '@wacrm/observability';

export interface SupervisedProcessOptions {
  name: string;
  command: string;
  args: string[];
  env: Record<string, string | undefined>;
  cwd: string;
  logger: Logger;
  /** Where the child's lines go, prefixed with its name. */
  output: NodeJS.WritableStream;
  /** Colour code for the prefix on a TTY. */
  colour?: number;
  stopTimeoutMs?: number;
  /** Called with the pid of every start, restarts included. */
  onStart?: (pid: number | undefined) => void;
}

/**
 * One child process kept alive: when it dies unexpectedly it is started again with a capped,
 * growing delay (reset after a minute of good behaviour). Its output is prefixed line by line.
 */
export class SupervisedProcess {
  private child: ChildProcess | undefined;
  private stopping = false;
  private restarts = 0;
  private startedAt = 0;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: SupervisedProcessOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get restartCount(): number {
    return this.restarts;
  }

  start(): void {
    const { options } = this;
    this.startedAt = Date.now();
    const child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: options.env,
      // The IPC channel is how the child notices the launcher's death, whatever kills it: the
      // kernel closes it and the child's 'disconnect' fires (see end-with-launcher.preload.ts).
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // Its own process group: Ctrl-C reaches only the launcher, which stops services in order.
      detached: true,
    });
    this.child = child;
    options.onStart?.(child.pid);
    options.logger.info({ process: options.name, pid: child.pid }, `${options.name} started`);
    const prefix =
      options.colour === undefined
        ? `[${options.name}] `
        : `\u001b[${options.colour}m[${options.name}]\u001b[0m `;
    for (const stream of [child.stdout, child.stderr]) {
      if (stream === null) continue;
      createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
        options.output.write(`${prefix}${line}\n`);
      });
    }
    child.once('error', (error) => {
      options.logger.error({ err: error, process: options.name }, 'could not start process');
    });
    child.once('exit', (code, signal) => {
      if (this.stopping) return;
      // A process that ran for a minute is healthy again: its next crash restarts quickly.
      if (Date.now() - this.startedAt > 60_000) this.restarts = 0;
      this.restarts += 1;
      const delayMs = Math.min(500 * 2 ** (this.restarts - 1), 15_000);
      options.logger.error(
        { process: options.name, code, signal, restartInMs: delayMs, restarts: this.restarts },
        `${options.name} exited unexpectedly; restarting`,
      );
      this.restartTimer = setTimeout(() => this.start(), delayMs);
    });
  }

  /** Synchronous last resort for the launcher's own exit: no service outlives it. */
  killNow(): void {
    const child = this.child;
    this.stopping = true;
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }

  /** SIGTERM, then SIGKILL if it has not exited within the timeout. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => {
      this.options.logger.warn({ process: this.options.name }, 'did not stop in time; killing');
      child.kill('SIGKILL');
    }, this.options.stopTimeoutMs ?? 15_000);
    await exited;
    clearTimeout(timer);
  }
}
