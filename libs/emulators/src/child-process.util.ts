import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';

const liveChildren = new Map<ChildProcess, NodeJS.Signals>();
let exitHookInstalled = false;

/**
 * Registers a spawned child so it gets `exitSignal` (SIGKILL unless a guard must pass it on)
 * when this process exits, which keeps crashed tests and launchers from leaking servers that
 * hold ports and data dirs.
 */
export function trackChild(child: ChildProcess, exitSignal: NodeJS.Signals = 'SIGKILL'): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // 'exit' handlers must be synchronous; kill() is.
    process.on('exit', () => {
      for (const [c, signal] of liveChildren) c.kill(signal);
    });
  }
  liveChildren.set(child, exitSignal);
  child.once('exit', () => liveChildren.delete(child));
}

export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Sends SIGTERM, waits up to `graceMs` for the exit, then SIGKILLs and waits again. */
export async function terminate(child: ChildProcess, graceMs: number): Promise<void> {
  if (hasExited(child)) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Keeps the last `maxChars` characters written to the streams, for error messages. */
export class OutputTail {
  private text = '';

  constructor(private readonly maxChars = 8_000) {}

  attach(stream: NodeJS.ReadableStream | null): void {
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => this.push(chunk));
  }

  push(chunk: string): void {
    this.text = (this.text + chunk).slice(-this.maxChars);
  }

  toString(): string {
    return this.text;
  }
}
