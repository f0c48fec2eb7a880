/* eslint-disable @typescript-eslint/no-unsafe-member-access -- the planted errors edit parsed YAML freely */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import {
  checkCompose,
  checkKubernetes,
  checkKustomization,
  checkRepository,
  expectationsFor,
  formatProblems,
  readKubernetesDir,
  type Manifest,
  type Problem,
} from './index.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
let expectations: Awaited<ReturnType<typeof expectationsFor>>;
let composeText: string;
let manifests: Manifest[];
let manifestFiles: string[];

beforeAll(async () => {
  expectations = await expectationsFor(ROOT);
  composeText = await readFile(join(ROOT, 'docker-compose.yml'), 'utf8');
  const read = await readKubernetesDir(join(ROOT, 'deploy/k8s'), []);
  manifests = read.manifests;
  manifestFiles = read.files;
});

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** docker-compose.yml with merge keys expanded, changed by `plant`, checked. */
function composeWith(plant: (doc: Doc) => void): string {
  const doc = parse(composeText, { merge: true }) as Doc;
  plant(doc);
  return formatProblems(checkCompose(stringify(doc), 'docker-compose.yml', expectations.compose));
}

/** deploy/k8s with one document changed by `plant`, checked. */
async function kubernetesWith(
  kind: string,
  name: string,
  plant: (doc: Doc) => void,
): Promise<string> {
  const copy = manifests.map((m) => ({ ...m, doc: structuredClone(m.doc) }));
  const target = copy.find((m) => m.doc.kind === kind && m.doc.metadata?.name === name);
  expect(target, `${kind}/${name} in deploy/k8s`).toBeDefined();
  plant(target!.doc);
  return formatProblems(await checkKubernetes(copy, expectations.kubernetes));
}

describe('deploy-check on this repository', () => {
  it('when the committed docker-compose.yml and deploy/k8s are checked, then there is no problem', async () => {
    const problems: Problem[] = await checkRepository(ROOT);
    expect(formatProblems(problems)).toBe('');
  });

  it('when the services are listed, then every composition root runs in compose and Kubernetes', () => {
    const kinds = new Set(manifests.map((m) => `${m.doc.kind}/${m.doc.metadata?.name}`));
    for (const service of expectations.kubernetes.requiredDeployments) {
      expect(kinds).toContain(`Deployment/${service}`);
    }
    expect(expectations.compose.serviceEntries).toContain('services/wa-gateway/dist/main.js');
    expect(kinds).toContain('ScaledObject/ingest');
  });
});

describe('deploy-check catches planted errors in docker-compose.yml', () => {
  it('when a top-level name is added (docker-compose 1.29 rejects it), then the schema fails', () => {
    expect(composeWith((d) => (d.name = 'wacrm'))).toMatch(
      /must NOT have additional properties \(name\)/,
    );
  });

  it('when a healthcheck interval is not a duration, then the schema fails', () => {
    expect(
      composeWith((d) => (d.services['api-gateway'].healthcheck.interval = 'ten seconds')),
    ).toMatch(/\/services\/api-gateway\/healthcheck\/interval: must match format "duration"/);
  });

  it('when Redis loses --appendonly yes, then it is reported', () => {
    expect(composeWith((d) => (d.services.redis.command = ['redis-server']))).toMatch(
      /Redis must run append-only/,
    );
  });

  it('when a secret is written in clear, then it is reported', () => {
    expect(
      composeWith((d) => (d.services['api-gateway'].environment.ADMIN_TOKEN = 'abc123abc123')),
    ).toMatch(/environment\/ADMIN_TOKEN: a secret must come from/);
  });

  it('when a service of the repository is missing, then it is reported', () => {
    expect(composeWith((d) => delete d.services.ingest)).toMatch(
      /no service runs services\/ingest\/dist\/main\.js/,
    );
  });

  it('when a worker loses its healthcheck, then it is reported', () => {
    expect(composeWith((d) => delete d.services['crm-aggregator'].healthcheck)).toMatch(
      /\/services\/crm-aggregator: a service built from the project image needs a healthcheck/,
    );
  });

  it('when a dependency names no service, then it is reported', () => {
    expect(
      composeWith(
        (d) => (d.services.ingest.depends_on = { redsi: { condition: 'service_started' } }),
      ),
    ).toMatch(/no service named redsi/);
  });
});

describe('deploy-check catches planted errors in deploy/k8s', () => {
  it('when a containerPort is a string, then the Kubernetes schema fails', async () => {
    const text = await kubernetesWith('Deployment', 'api-gateway', (d) => {
      d.spec.template.spec.containers[0].ports[0].containerPort = 'http';
    });
    expect(
      text.split('\n').find((line) => line.includes('Deployment/api-gateway: schema: ')),
    ).toContain('containerPort must be integer');
  });

  it('when a KEDA trigger lacks its type, then the KEDA schema fails', async () => {
    const text = await kubernetesWith('ScaledObject', 'ingest', (d) => {
      delete d.spec.triggers[0].type;
    });
    expect(
      text.split('\n').find((line) => line.includes('ScaledObject/ingest: schema: ')),
    ).toContain('type');
  });

  it('when a kind does not exist, then it is reported', async () => {
    const text = await kubernetesWith('Service', 'api-gateway', (d) => (d.kind = 'Servise'));
    expect(text).toMatch(/unknown apiVersion\/kind v1 Servise/);
  });

  it('when the wa-gateway grace period is shorter than its lease hand-off, then it is reported', async () => {
    const text = await kubernetesWith('Deployment', 'wa-gateway', (d) => {
      d.spec.template.spec.terminationGracePeriodSeconds = 30;
    });
    expect(text).toMatch(/30 s is shorter than the shutdown budget plus the lease TTL \(40 s\)/);
  });

  it('when the wa-gateway spool is not on a shared persistent volume, then it is reported', async () => {
    const text = await kubernetesWith('Deployment', 'wa-gateway', (d) => {
      const volumes = d.spec.template.spec.volumes as Array<Record<string, unknown>>;
      const spool = volumes.find((v) => v.name === 'spool')!;
      delete spool.persistentVolumeClaim;
      spool.emptyDir = {};
    });
    expect(text).toMatch(
      /the spool \(WA_SPOOL_DIR\) must be a ReadWriteMany PersistentVolumeClaim/,
    );
  });

  it('when a disruption budget can never be met, then it is reported', async () => {
    const text = await kubernetesWith('PodDisruptionBudget', 'api-gateway', (d) => {
      d.spec.minAvailable = 2;
    });
    expect(text).toMatch(/2 of 2 replicas blocks every drain/);
  });

  it('when an autoscaler watches a list that is not a queue, then it is reported', async () => {
    const text = await kubernetesWith('ScaledObject', 'outbox-sender', (d) => {
      d.spec.triggers[0].metadata.listName = 'bull:outbox:wait';
    });
    expect(text).toMatch(/bull:outbox:wait is not the wait list of a queue/);
  });

  it('when a secret is put in a plain env value, then it is reported', async () => {
    const text = await kubernetesWith('Deployment', 'wa-gateway', (d) => {
      const env = d.spec.template.spec.containers[0].env as Doc[];
      const key = env.find((e) => e.name === 'AUTH_STATE_KEY')!;
      delete key.valueFrom;
      key.value = 'ab'.repeat(32);
    });
    expect(text).toMatch(/env\/AUTH_STATE_KEY: a secret must come from a Secret/);
  });

  it('when the selector does not select the pod template, then it is reported', async () => {
    const text = await kubernetesWith('Deployment', 'ingest', (d) => {
      d.spec.selector.matchLabels['app.kubernetes.io/name'] = 'ingset';
    });
    expect(text).toMatch(/Deployment\/ingest\/spec\/selector: matchLabels do not select/);
  });

  it('when the queue prefix is not a hash tag, then it is reported', async () => {
    const text = await kubernetesWith('ConfigMap', 'wacrm-config', (d) => {
      d.data.QUEUE_PREFIX = 'wacrm';
    });
    expect(text).toMatch(/QUEUE_PREFIX: must be a Redis Cluster hash tag/);
  });

  it('when the kustomization lists a missing file or misses one, then it is reported', () => {
    const text = formatProblems(
      checkKustomization(
        'kustomization.yaml',
        'resources: [namespace.yaml, gone.yaml]',
        manifestFiles.slice(0, 2),
      ),
    );
    expect(text).toMatch(/gone\.yaml does not exist/);
    expect(text).toMatch(/is not listed/);
  });
});
