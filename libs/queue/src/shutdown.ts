import type { Logger } from '@wacrm/observability';

export interface ShutdownRegistry {
  /** Tasks run in reverse order of registration: consumers stop before their connections. */
  add(name: string, task: () => Promise<unknown>): void;
  run(reason: string): Promise<void>;
}

export interface ShutdownOptions {
  logger: Logger;
  timeoutMs?: number;
  signals?: NodeJS.Signals[];
  /** Called with the exit code once every task settled; defaults to `process.exit`. */
  exit?: (code: number) => void;
}

/**
 * Graceful shutdown for a composition root: on SIGTERM/SIGINT, close workers (letting running
 * jobs finish), then connections, then exit; a hung task cannot hold the process past the timeout.
 */
export function createShutdown(options: ShutdownOptions): ShutdownRegistry {
  const tasks: Array<{ name: string; task: () => Promise<unknown> }> = [];
  const timeoutMs = options.timeoutMs ?? 25_000;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let running: Promise<void> | undefined;

  const registry: ShutdownRegistry = {
    add(name, task) {
      tasks.push({ name, task });
    },
    run(reason) {
      running ??= (async () => {
        options.logger.info({ reason }, 'shutting down');
        let code = 0;
        const timer = setTimeout(() => {
          options.logger.error({ timeoutMs }, 'shutdown timed out; exiting anyway');
          exit(1);
        }, timeoutMs);
        timer.unref();
        for (const { name, task } of [...tasks].reverse()) {
          try {
            await task();
          } catch (error) {
            code = 1;
            options.logger.error({ err: error, task: name }, 'shutdown task failed');
          }
        }
        clearTimeout(timer);
        options.logger.info('shutdown complete');
        exit(code);
      })();
      return running;
    },
  };
  for (const signal of options.signals ?? ['SIGTERM', 'SIGINT']) {
    process.once(signal, () => void registry.run(signal));
  }
  return registry;
}
