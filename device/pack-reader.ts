import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { NodePack, PackStatus } from '../lambdas/contracts/packs.js';
import type { CommandRunner } from './command-runner.js';
import { LAYOUTS, type Distribution } from './kubernetes.js';
import { addonName, packStatusOf, type PackObjects, type PackObservation } from './pack-status.js';

/**
 * Reads each pack's objects on the init node with kubectl (argv, the admin kubeconfig, a
 * request timeout) and leaves the decision to pack-status.ts. Only `get`, `logs`: nothing is
 * changed.
 */

/** Re-exported: the packs /etc/edgefleet/node.json lists (device/pack-install.ts). */
export { nodePacksOf } from './pack-install.js';

const KUBECTL_TIMEOUT_MS = 20_000;

const readText = (path: string): Promise<string | undefined> => readFile(path, 'utf8').catch(() => undefined);

/** kubectl get … -o json --ignore-not-found: the object, or undefined when there is none. */
async function getJson(runner: CommandRunner, kubectl: string, kubeconfig: string, args: readonly string[]): Promise<unknown> {
  const out = await runner.run(kubectl, ['--kubeconfig', kubeconfig, 'get', ...args, '-o', 'json', '--ignore-not-found', '--request-timeout=10s'], { timeoutMs: KUBECTL_TIMEOUT_MS });
  return out.stdout.trim() ? (JSON.parse(out.stdout) as unknown) : undefined;
}

/**
 * The objects a pack is: ours (`edgefleet-<pack>` Addon, HelmChart `<pack>`, its namespace), or
 * for a CNI rke2 installs itself, rke2's own (`rke2-<pack>` Addon, HelmChart and release in
 * kube-system: https://docs.rke2.io/networking/basic_network_options).
 */
export function packObjects(distribution: Exclude<Distribution, 'kubeadm'>, pack: NodePack): PackObjects {
  if (pack.builtin && distribution === 'rke2') return { addon: `rke2-${pack.name}`, helmChart: `rke2-${pack.name}`, namespace: 'kube-system', release: `rke2-${pack.name}`, chart: true };
  return { addon: addonName(pack), helmChart: pack.name, namespace: pack.namespace, release: pack.name, chart: !!pack.chart };
}

/** Everything pack-status.ts needs to decide one pack's state. */
export async function observePack(runner: CommandRunner, distribution: Exclude<Distribution, 'kubeadm'>, pack: NodePack, readFileText: (path: string) => Promise<string | undefined> = readText): Promise<PackObservation> {
  const { kubectl, adminKubeconfig: kc } = LAYOUTS[distribution];
  const get = (args: readonly string[]) => getJson(runner, kubectl, kc, args);
  const objects = packObjects(distribution, pack);
  try {
    const addon = objects.addon;
    const [addonObject, addonEvents] = await Promise.all([
      get(['addons.k3s.cattle.io', '-n', 'kube-system', addon]),
      get(['events', '-n', 'kube-system', '--field-selector', `involvedObject.kind=Addon,involvedObject.name=${addon},type=Warning`]),
    ]);
    let helmChart: unknown;
    let job: unknown;
    let jobLog: string | undefined;
    if (objects.chart) {
      helmChart = await get(['helmcharts.helm.cattle.io', '-n', 'kube-system', objects.helmChart]);
      const jobName = (helmChart as { status?: { jobName?: unknown } } | undefined)?.status?.jobName;
      if (typeof jobName === 'string' && /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(jobName)) {
        job = await get(['job', '-n', 'kube-system', jobName]);
        const failed = (job as { status?: { failed?: unknown } } | undefined)?.status?.failed;
        if (typeof failed === 'number' && failed > 0) {
          jobLog = await runner.run(kubectl, ['--kubeconfig', kc, 'logs', '-n', 'kube-system', `job/${jobName}`, '--tail=5', '--request-timeout=10s'], { timeoutMs: KUBECTL_TIMEOUT_MS })
            .then((r) => r.stdout, () => undefined);
        }
      }
    }
    const selector = (label: string) => ['deployments,daemonsets,statefulsets', '-n', objects.namespace, '-l', `${label}=${objects.release}`];
    const [byInstance, byRelease] = await Promise.all([get(selector('app.kubernetes.io/instance')), get(selector('release'))]);
    // A workload labelled both ways counts once.
    const items = [...new Map([...listItems(byInstance), ...listItems(byRelease)].map((i) => [workloadKey(i), i])).values()];
    const content = pack.file && !pack.builtin ? await readFileText(pack.file) : undefined;
    const fileChecksum = content === undefined ? {} : { fileChecksum: createHash('sha256').update(content).digest('hex') };
    return { pack, objects, addon: addonObject, addonEvents, helmChart, job, ...(jobLog !== undefined ? { jobLog } : {}), workloads: { items }, ...fileChecksum };
  } catch (e) {
    return { pack, objects, readError: (e as Error).message };
  }
}

function workloadKey(item: unknown): string {
  const i = item as { kind?: unknown; metadata?: { name?: unknown } } | undefined;
  return `${String(i?.kind)}/${String(i?.metadata?.name)}`;
}

function listItems(list: unknown): unknown[] {
  const items = (list as { items?: unknown } | undefined)?.items;
  return Array.isArray(items) ? items : [];
}

/** Each pack's state on a k3s or rke2 init node. */
export async function readPackStates(runner: CommandRunner, distribution: Exclude<Distribution, 'kubeadm'>, packs: readonly NodePack[], readFileText?: (path: string) => Promise<string | undefined>): Promise<PackStatus[]> {
  const out: PackStatus[] = [];
  // One pack at a time: a handful of kubectl calls each, on a small edge box.
  for (const pack of packs) {
    // k3s's flannel is part of k3s itself: there is nothing of it to install or watch.
    if (pack.builtin && distribution === 'k3s') out.push({ name: pack.name, type: pack.type, state: 'ready', version: pack.version });
    else out.push(packStatusOf(await observePack(runner, distribution, pack, readFileText)));
  }
  return out;
}
