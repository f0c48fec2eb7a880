/**
 * The benches' process group: each service from its build output as its own process, the way
 * `npm start` runs them, each one's whole output kept in a file (the cause of a 5xx is there) and
 * its CPU read from /proc, so a bench reports CPU per operation summed over the processes that did
 * the work with its own load generation apart.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, from `services/api-gateway/dist/bench/api-gateway/bench/`. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../../..');

export interface Proc {
  name: string;
  child: ChildProcess;
  output: () => string;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** utime + stime in ms of one process (Linux /proc). */
export async function cpuMsOf(pid: number | undefined): Promise<number> {
  if (pid === undefined) return Number.NaN;
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** This process's own CPU ms (user + system). */
export function ownCpuMs(): number {
  const self = process.cpuUsage();
  return (self.user + self.system) / 1000;
}

export const httpOk = (url: string) => async () => ((await fetch(url)).ok ? true : undefined);

export class BenchProcesses {
  readonly procs: Proc[] = [];

  /**
   * @param logDir where each process's output goes, `<name>.log`
   * @param cpuProfDir when set, every process writes a V8 CPU profile under `<dir>/<name>` on exit
   */
  constructor(
    private readonly logDir: string,
    private readonly cpuProfDir?: string,
  ) {}

  /** @param nodeArgs node's own options for this process, such as `--trace-gc` */
  start(
    name: string,
    entry: string,
    env: Record<string, string>,
    args: string[] = [],
    nodeArgs: string[] = [],
  ): Proc {
    const node = [
      ...nodeArgs,
      ...(this.cpuProfDir === undefined
        ? []
        : ['--cpu-prof', `--cpu-prof-dir=${this.cpuProfDir}/${name}`]),
    ];
    const child = spawn(process.execPath, [...node, join(ROOT, entry), ...args], {
      cwd: ROOT,
      // eslint-disable-next-line no-restricted-properties -- a child needs PATH to find its tools
      env: { PATH: process.env.PATH ?? '', METADATA_SERVER_DETECTION: 'none', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let tail = '';
    const file = createWriteStream(join(this.logDir, `${name}.log`));
    const keep = (c: Buffer) => {
      file.write(c);
      tail = (tail + c.toString('utf8')).slice(-8000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const proc = { name, child, output: () => tail };
    this.procs.push(proc);
    return proc;
  }

  /** Polls `probe` until it gives a value; fails at once if one of the processes has exited. */
  async until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const crashed = this.procs.find((p) => p.child.exitCode !== null);
      if (crashed) throw new Error(`${crashed.name} exited:\n${crashed.output()}`);
      try {
        const value = await probe();
        if (value !== undefined) return value;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** CPU ms so far of each process, by name. */
  async cpu(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const p of this.procs) out.set(p.name, await cpuMsOf(p.child.pid));
    return out;
  }

  /** SIGTERM to each (last started first), SIGKILL after 10 s. */
  async stopAll(): Promise<void> {
    for (const p of [...this.procs].reverse()) {
      if (p.child.exitCode === null) p.child.kill('SIGTERM');
    }
    await Promise.all(
      this.procs.map(
        (p) =>
          new Promise<void>((r) => {
            if (p.child.exitCode !== null) return r();
            const timer = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
            p.child.once('exit', () => {
              clearTimeout(timer);
              r();
            });
          }),
      ),
    );
  }
}
