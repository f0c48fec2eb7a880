import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  AiRequestsQueue,
  CrmEventsQueue,
  OutboxQueue,
  WaInboundQueue,
  WebhooksQueue,
} from '@wacrm/contracts';
import { checkCompose, type ComposeExpectations } from './compose.js';
import {
  checkKubernetes,
  checkKustomization,
  parseManifests,
  type KubernetesExpectations,
  type Manifest,
} from './kubernetes.js';
import type { Problem } from './problems.js';

export * from './compose.js';
export * from './kubernetes.js';
export * from './problems.js';

/** Every service with a composition root (`services/<name>/src/main.ts`) and its built entry. */
export async function serviceEntries(root: string): Promise<Map<string, string>> {
  const entries = new Map<string, string>();
  for (const name of (await readdir(join(root, 'services'))).sort()) {
    const main = await readFile(join(root, 'services', name, 'src/main.ts')).catch(() => null);
    if (main !== null) entries.set(name, `services/${name}/dist/main.js`);
  }
  return entries;
}

export async function expectationsFor(
  root: string,
): Promise<{ compose: ComposeExpectations; kubernetes: KubernetesExpectations }> {
  const services = await serviceEntries(root);
  return {
    compose: { serviceEntries: [...services.values()] },
    kubernetes: {
      namespace: 'wacrm',
      secretName: 'wacrm-secrets',
      serviceEntries: [...services.values()],
      requiredDeployments: [...services.keys()],
      queueNames: [WaInboundQueue, OutboxQueue, AiRequestsQueue, CrmEventsQueue, WebhooksQueue].map(
        (q) => q.name,
      ),
      // libs/queue createShutdown's default timeout.
      shutdownBudgetMs: 25_000,
    },
  };
}

/** Reads deploy/k8s/*.yaml (the kustomization apart) into manifests. */
export async function readKubernetesDir(
  dir: string,
  problems: Problem[],
): Promise<{ manifests: Manifest[]; files: string[]; kustomization: string | null }> {
  const files = (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).sort();
  const manifestFiles = files.filter((f) => !/^kustomization\.ya?ml$/.test(f));
  const manifests: Manifest[] = [];
  for (const file of manifestFiles) {
    manifests.push(...parseManifests(file, await readFile(join(dir, file), 'utf8'), problems));
  }
  const kustomizationFile = files.find((f) => /^kustomization\.ya?ml$/.test(f));
  const kustomization =
    kustomizationFile === undefined ? null : await readFile(join(dir, kustomizationFile), 'utf8');
  return { manifests, files: manifestFiles, kustomization };
}

/** Checks the repository's docker-compose.yml and deploy/k8s. */
export async function checkRepository(root: string): Promise<Problem[]> {
  const expect = await expectationsFor(root);
  const problems: Problem[] = [];
  const compose = await readFile(join(root, 'docker-compose.yml'), 'utf8');
  problems.push(...checkCompose(compose, 'docker-compose.yml', expect.compose));
  const k8sDir = join(root, 'deploy/k8s');
  const { manifests, files, kustomization } = await readKubernetesDir(k8sDir, problems);
  if (kustomization === null) {
    problems.push({ file: 'deploy/k8s', where: '', message: 'no kustomization.yaml' });
  } else {
    problems.push(...checkKustomization('deploy/k8s/kustomization.yaml', kustomization, files));
  }
  problems.push(...(await checkKubernetes(manifests, expect.kubernetes)));
  return problems;
}
