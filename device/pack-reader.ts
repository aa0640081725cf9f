import { z } from 'zod';
import { nodePack, type NodePack, type PackStatus } from '../lambdas/contracts/packs.js';
import type { CommandRunner } from './command-runner.js';
import { LAYOUTS, type Distribution } from './kubernetes.js';
import { addonName, packStatusOf, type PackObservation } from './pack-status.js';

/**
 * Reads each pack's objects on the init node with kubectl (argv, the admin kubeconfig, a
 * request timeout) and leaves the decision to pack-status.ts. Only `get`, `logs`: nothing is
 * changed.
 */

const nodeJsonPacks = z.object({ packs: z.array(nodePack).max(64).optional() });

/** The packs /etc/edgefleet/node.json lists (none when it lists none or cannot be read as JSON). */
export function nodePacksOf(text: string | undefined): NodePack[] {
  if (!text) return [];
  try {
    const parsed = nodeJsonPacks.safeParse(JSON.parse(text));
    return parsed.success ? (parsed.data.packs ?? []) : [];
  } catch {
    return [];
  }
}

const KUBECTL_TIMEOUT_MS = 20_000;

/** kubectl get … -o json --ignore-not-found: the object, or undefined when there is none. */
async function getJson(runner: CommandRunner, kubectl: string, kubeconfig: string, args: readonly string[]): Promise<unknown> {
  const out = await runner.run(kubectl, ['--kubeconfig', kubeconfig, 'get', ...args, '-o', 'json', '--ignore-not-found', '--request-timeout=10s'], { timeoutMs: KUBECTL_TIMEOUT_MS });
  return out.stdout.trim() ? (JSON.parse(out.stdout) as unknown) : undefined;
}

/** Everything pack-status.ts needs to decide one pack's state. */
export async function observePack(runner: CommandRunner, distribution: Exclude<Distribution, 'kubeadm'>, pack: NodePack): Promise<PackObservation> {
  const { kubectl, adminKubeconfig: kc } = LAYOUTS[distribution];
  const get = (args: readonly string[]) => getJson(runner, kubectl, kc, args);
  try {
    const addon = addonName(pack);
    const [addonObject, addonEvents] = await Promise.all([
      get(['addons.k3s.cattle.io', '-n', 'kube-system', addon]),
      get(['events', '-n', 'kube-system', '--field-selector', `involvedObject.kind=Addon,involvedObject.name=${addon},type=Warning`]),
    ]);
    let helmChart: unknown;
    let job: unknown;
    let jobLog: string | undefined;
    if (pack.chart) {
      helmChart = await get(['helmcharts.helm.cattle.io', '-n', 'kube-system', pack.name]);
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
    const selector = (label: string) => ['deployments,daemonsets,statefulsets', '-n', pack.namespace, '-l', `${label}=${pack.name}`];
    const [byInstance, byRelease] = await Promise.all([get(selector('app.kubernetes.io/instance')), get(selector('release'))]);
    // A workload labelled both ways counts once.
    const items = [...new Map([...listItems(byInstance), ...listItems(byRelease)].map((i) => [workloadKey(i), i])).values()];
    return { pack, addon: addonObject, addonEvents, helmChart, job, ...(jobLog !== undefined ? { jobLog } : {}), workloads: { items } };
  } catch (e) {
    return { pack, readError: (e as Error).message };
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
export async function readPackStates(runner: CommandRunner, distribution: Exclude<Distribution, 'kubeadm'>, packs: readonly NodePack[]): Promise<PackStatus[]> {
  const out: PackStatus[] = [];
  // One pack at a time: a handful of kubectl calls each, on a small edge box.
  for (const pack of packs) out.push(packStatusOf(await observePack(runner, distribution, pack)));
  return out;
}
