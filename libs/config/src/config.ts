import type { z } from 'zod';

/** Thrown by `parseConfig` with every problem found, not just the first. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(service: string, problems: string[]) {
    super(`${service}: invalid configuration\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export type Env = Record<string, string | undefined>;

/** Parses `env` against `schema`, collecting every problem into one `ConfigError`. */
export function parseConfig<S extends z.ZodType>(service: string, schema: S, env: Env): z.infer<S> {
  // An empty variable (`FOO=`) means unset, as compose files and shells often write it.
  const present = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ''),
  );
  const result = schema.safeParse(present);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const key = issue.path.map(String).join('.') || '(env)';
    // Never echo the received value: it may be a secret.
    return `${key}: ${issue.message}`;
  });
  throw new ConfigError(service, problems);
}

/**
 * Reads the process environment once, at start. On any problem it prints all of them and exits
 * with EX_CONFIG (78), so a misconfigured deploy fails fast and says why.
 */
export function loadConfig<S extends z.ZodType>(service: string, schema: S): z.infer<S> {
  try {
    return parseConfig(service, schema, process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
}

/** Everything a process reads outside its own config: the few values libraries need. */
export function readRuntimeEnv(): Env {
  return { ...process.env };
}
