import { parseAllDocuments } from 'yaml';
import { type Problem, isSecretName, record } from './problems.js';

/** A parsed manifest document with where it came from. */
export interface Manifest {
  file: string;
  index: number;
  doc: K8sObject;
}

interface K8sObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  spec?: Record<string, unknown>;
  resources?: string[];
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string } };
}

interface Container {
  name: string;
  image?: string;
  args?: string[];
  command?: string[];
  ports?: Array<{ name?: string; containerPort: number }>;
  env?: EnvVar[];
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
}

interface PodSpec {
  containers: Array<Container & { volumeMounts?: Array<{ name: string; mountPath: string }> }>;
  terminationGracePeriodSeconds?: number;
  volumes?: Array<{ name: string; persistentVolumeClaim?: { claimName?: string } }>;
}

interface DeploymentSpec {
  replicas?: number;
  selector: { matchLabels?: Record<string, string> };
  template: { metadata?: { labels?: Record<string, string> }; spec: PodSpec };
}

export interface KubernetesExpectations {
  namespace: string;
  /** The one Secret that holds every secret, created out of band. */
  secretName: string;
  /** Entry points a container may run, e.g. services/ingest/dist/main.js. */
  serviceEntries: string[];
  /** Every one of these runs as a Deployment. */
  requiredDeployments: string[];
  /** Names of the BullMQ queues (for the autoscalers' list names). */
  queueNames: string[];
  /** The in-process graceful shutdown budget of every service (libs/queue createShutdown). */
  shutdownBudgetMs: number;
}

type ModelClass = new (data: unknown) => { validate(): void };

const KIND = /^[A-Z][A-Za-z0-9]+$/;
const GROUP_VERSION = /^([a-z0-9.-]+\/)?v\d+((alpha|beta)\d+)?$/;

/** The kubernetes-models class of an apiVersion/kind, or undefined for an unknown one. */
async function modelFor(apiVersion: string, kind: string): Promise<ModelClass | undefined> {
  if (!KIND.test(kind) || !GROUP_VERSION.test(apiVersion)) return undefined;
  const spec = apiVersion.startsWith('keda.sh/')
    ? `@kubernetes-models/keda/${apiVersion}/${kind}`
    : `kubernetes-models/${apiVersion}/${kind}`;
  try {
    const module = (await import(spec)) as Record<string, unknown>;
    return module[kind] as ModelClass | undefined;
  } catch {
    return undefined;
  }
}

export function parseManifests(file: string, text: string, problems: Problem[]): Manifest[] {
  const out: Manifest[] = [];
  parseAllDocuments(text).forEach((document, index) => {
    if (document.errors.length > 0) {
      for (const error of document.errors) {
        problems.push({ file, where: `#${index}`, message: `not valid YAML: ${error.message}` });
      }
      return;
    }
    const doc = document.toJS() as K8sObject | null;
    if (doc !== null) out.push({ file, index, doc });
  });
  return out;
}

const where = (m: Manifest, path = '') =>
  `${m.doc.kind ?? '?'}/${m.doc.metadata?.name ?? '?'}${path}`;

function labelsMatch(selector: Record<string, string> = {}, labels: Record<string, string> = {}) {
  const keys = Object.keys(selector);
  return keys.length > 0 && keys.every((k) => labels[k] === selector[k]);
}

/**
 * Validates manifests against the Kubernetes and KEDA schemas (kubernetes-models), then checks
 * what the schemas cannot see: selectors that select, references that resolve, secrets only
 * from the Secret, disruption budgets that allow a drain, autoscalers on real queues, and a
 * wa-gateway termination grace longer than its lease hand-off.
 */
export async function checkKubernetes(
  manifests: Manifest[],
  expect: KubernetesExpectations,
): Promise<Problem[]> {
  const problems: Problem[] = [];
  const at = (m: Manifest) => record(problems, m.file);

  for (const m of manifests) {
    const { apiVersion, kind } = m.doc;
    if (typeof apiVersion !== 'string' || typeof kind !== 'string') {
      at(m)(`#${m.index}`, 'apiVersion and kind are required');
      continue;
    }
    const Model = await modelFor(apiVersion, kind);
    if (Model === undefined) {
      at(m)(where(m), `unknown apiVersion/kind ${apiVersion} ${kind}`);
      continue;
    }
    try {
      new Model(m.doc).validate();
    } catch (error) {
      at(m)(where(m), `schema: ${(error as Error).message}`);
    }
    if (m.doc.metadata?.name === undefined) at(m)(where(m), 'metadata.name is required');
    if (kind !== 'Namespace' && m.doc.metadata?.namespace !== expect.namespace) {
      at(m)(where(m, '/metadata/namespace'), `must be ${expect.namespace}`);
    }
  }
  if (problems.length > 0) return problems;

  const ofKind = (kind: string) => manifests.filter((m) => m.doc.kind === kind);
  const deployments = ofKind('Deployment');
  const configMaps = new Map(ofKind('ConfigMap').map((m) => [m.doc.metadata?.name, m.doc]));
  const scaled = new Map(
    ofKind('ScaledObject').map((m) => [
      (m.doc.spec?.scaleTargetRef as { name?: string } | undefined)?.name,
      m,
    ]),
  );
  const config = (key: string): string | undefined => {
    for (const cm of configMaps.values()) if (cm.data?.[key] !== undefined) return cm.data[key];
    return undefined;
  };

  for (const cm of configMaps.values()) {
    for (const key of Object.keys(cm.data ?? {})) {
      if (isSecretName(key)) {
        problems.push({
          file: 'ConfigMap',
          where: `${cm.metadata?.name}/${key}`,
          message: 'a secret belongs in the Secret, not a ConfigMap',
        });
      }
    }
  }

  const names = new Set<string>();
  for (const m of deployments) {
    const add = at(m);
    const name = m.doc.metadata?.name ?? '?';
    names.add(name);
    const spec = m.doc.spec as unknown as DeploymentSpec;
    if (!labelsMatch(spec.selector.matchLabels, spec.template.metadata?.labels)) {
      add(where(m, '/spec/selector'), 'matchLabels do not select the pod template');
    }
    for (const c of spec.template.spec.containers) {
      const entry = c.args?.[0] ?? c.command?.[0];
      const ours = c.image === undefined || c.image === 'wacrm' || c.image.startsWith('wacrm:');
      if (ours && (entry === undefined || !expect.serviceEntries.includes(entry))) {
        add(where(m, `/containers/${c.name}`), `runs ${entry ?? 'nothing'}, not a service entry`);
      }
      for (const e of c.env ?? []) {
        if (isSecretName(e.name) && e.valueFrom?.secretKeyRef === undefined) {
          add(where(m, `/containers/${c.name}/env/${e.name}`), 'a secret must come from a Secret');
        }
        const ref = e.valueFrom?.secretKeyRef;
        if (ref !== undefined && ref.name !== expect.secretName) {
          add(where(m, `/env/${e.name}`), `secrets come from ${expect.secretName}`);
        }
      }
      for (const from of c.envFrom ?? []) {
        const cm = from.configMapRef?.name;
        if (cm !== undefined && !configMaps.has(cm)) {
          add(where(m, `/containers/${c.name}/envFrom`), `no ConfigMap named ${cm}`);
        }
      }
    }
    const replicas =
      (scaled.get(name)?.doc.spec?.minReplicaCount as number | undefined) ?? spec.replicas ?? 1;
    const pdbs = ofKind('PodDisruptionBudget').filter((p) =>
      labelsMatch(
        (p.doc.spec?.selector as { matchLabels?: Record<string, string> } | undefined)?.matchLabels,
        spec.template.metadata?.labels,
      ),
    );
    if (pdbs.length !== 1) {
      add(where(m), `needs exactly one PodDisruptionBudget (found ${pdbs.length})`);
    }
    for (const p of pdbs) {
      const min = p.doc.spec?.minAvailable;
      if (typeof min === 'number' && min >= replicas) {
        add(where(p, '/spec/minAvailable'), `${min} of ${replicas} replicas blocks every drain`);
      }
      if (p.doc.spec?.maxUnavailable === 0) {
        add(where(p, '/spec/maxUnavailable'), '0 blocks every drain');
      }
    }
  }
  for (const required of expect.requiredDeployments) {
    if (!names.has(required))
      problems.push({ file: '', where: '', message: `no Deployment ${required}` });
  }

  // wa-gateway: several replicas sharing accounts through leases, no volume for auth state, and
  // time to hand the accounts off before the kubelet kills the pod.
  const wa = deployments.find((m) => m.doc.metadata?.name === 'wa-gateway');
  if (wa !== undefined) {
    const spec = wa.doc.spec as unknown as DeploymentSpec;
    const add = at(wa);
    if ((spec.replicas ?? 1) < 2) add(where(wa, '/spec/replicas'), 'run at least 2 replicas');
    // The spool (events that could not reach Redis) must outlive the pod and be shared, so a
    // surviving replica replays a dead one's files; auth state needs no volume (Firestore).
    const container = spec.template.spec.containers.find((c) => c.name === 'wa-gateway');
    const spoolDir = container?.env?.find((e) => e.name === 'WA_SPOOL_DIR')?.value;
    const spoolVolume = container?.volumeMounts?.find((m) => m.mountPath === spoolDir)?.name;
    for (const volume of spec.template.spec.volumes ?? []) {
      const claim = volume.persistentVolumeClaim;
      if (volume.name === spoolVolume) {
        const pvc = ofKind('PersistentVolumeClaim').find(
          (m) => m.doc.metadata?.name === claim?.claimName,
        );
        const modes = (pvc?.doc.spec as { accessModes?: string[] } | undefined)?.accessModes;
        if (claim === undefined || pvc === undefined || !modes?.includes('ReadWriteMany')) {
          add(
            where(wa, `/volumes/${volume.name}`),
            'the spool (WA_SPOOL_DIR) must be a ReadWriteMany PersistentVolumeClaim of deploy/k8s, shared by the replicas',
          );
        }
      } else if (claim !== undefined) {
        add(where(wa, '/volumes'), 'auth state lives in Firestore: no persistent volume');
      }
    }
    if (spoolVolume === undefined) {
      add(where(wa, '/volumeMounts'), 'WA_SPOOL_DIR must be a mounted volume');
    }
    const ttl = Number(config('WA_LEASE_TTL_MS') ?? 15_000);
    const graceMs = (spec.template.spec.terminationGracePeriodSeconds ?? 30) * 1000;
    if (graceMs < expect.shutdownBudgetMs + ttl) {
      add(
        where(wa, '/spec/template/spec/terminationGracePeriodSeconds'),
        `${graceMs / 1000} s is shorter than the shutdown budget plus the lease TTL (${(expect.shutdownBudgetMs + ttl) / 1000} s)`,
      );
    }
  }

  const prefix = config('QUEUE_PREFIX');
  if (prefix === undefined || !/\{[^{}]+\}/.test(prefix)) {
    problems.push({
      file: 'ConfigMap',
      where: 'QUEUE_PREFIX',
      message: 'must be a Redis Cluster hash tag like {wacrm}, so a queue stays in one slot',
    });
  }
  for (const m of ofKind('ScaledObject')) {
    const add = at(m);
    const target = (m.doc.spec?.scaleTargetRef as { name?: string } | undefined)?.name;
    if (target === undefined || !names.has(target)) {
      add(where(m, '/spec/scaleTargetRef'), `no Deployment named ${target}`);
    }
    const triggers = (m.doc.spec?.triggers ?? []) as Array<{
      type: string;
      metadata?: Record<string, string>;
    }>;
    for (const t of triggers) {
      if (t.type !== 'redis' && t.type !== 'redis-cluster') continue;
      const list = t.metadata?.listName ?? '';
      const queue = list.startsWith(`${prefix}:`) ? list.slice(`${prefix}:`.length) : undefined;
      const name = queue?.endsWith(':wait') === true ? queue.slice(0, -':wait'.length) : undefined;
      if (name === undefined || !expect.queueNames.includes(name)) {
        add(
          where(m, '/triggers'),
          `${list} is not the wait list of a queue (${prefix}:<queue>:wait)`,
        );
      }
      for (const key of ['address', 'addresses', 'password']) {
        if (t.metadata?.[key] !== undefined) {
          add(
            where(m, `/triggers/${key}`),
            'Redis address and password come from a TriggerAuthentication',
          );
        }
      }
    }
  }

  for (const m of ofKind('Service')) {
    const selector = m.doc.spec?.selector as Record<string, string> | undefined;
    const targets = deployments.filter((d) =>
      labelsMatch(selector, (d.doc.spec as unknown as DeploymentSpec).template.metadata?.labels),
    );
    if (targets.length === 0) {
      at(m)(where(m, '/spec/selector'), 'selects no Deployment');
      continue;
    }
    const ports = (m.doc.spec?.ports ?? []) as Array<{ targetPort?: string | number }>;
    for (const p of ports) {
      if (typeof p.targetPort !== 'string') continue;
      const named = targets.some((d) =>
        (d.doc.spec as unknown as DeploymentSpec).template.spec.containers.some((c) =>
          c.ports?.some((cp) => cp.name === p.targetPort),
        ),
      );
      if (!named) at(m)(where(m, '/spec/ports'), `no container port named ${p.targetPort}`);
    }
  }
  return problems;
}

/** A kustomization's resources must all exist, and every manifest must be listed. */
export function checkKustomization(file: string, text: string, manifestFiles: string[]): Problem[] {
  const problems: Problem[] = [];
  const add = record(problems, file);
  const doc = parseAllDocuments(text)[0]?.toJS() as K8sObject | undefined;
  const listed = new Set(doc?.resources ?? []);
  for (const resource of listed) {
    if (!manifestFiles.includes(resource)) add('/resources', `${resource} does not exist`);
  }
  for (const manifest of manifestFiles) {
    if (!listed.has(manifest)) add('/resources', `${manifest} is not listed`);
  }
  return problems;
}
