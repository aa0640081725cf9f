import type { NodePack, PackStatus } from '../lambdas/contracts/packs.js';

/**
 * A pack's state from what `kubectl get … -o json` says on the init node (k3s and rke2), as
 * pure functions. The agent reads; this decides.
 *
 * - k3s and rke2 apply every file of their auto-deploy manifests directory and track it as an
 *   `Addon` (k3s.cattle.io/v1, kube-system) named after the file's base name: EdgeFleet writes
 *   `edgefleet-<pack>.yaml`, so its Addon is `edgefleet-<pack>`; apply errors are recorded as
 *   Warning events on that Addon (https://docs.k3s.io/installation/packaged-components,
 *   "Auto-Deploying Manifests (AddOns)"; https://docs.rke2.io/install/packaged_components).
 * - The Addon's `spec.checksum` is the sha256 of the file content the deploy controller applied
 *   (k3s pkg/deploy): a different checksum on disk means a changed file not applied yet.
 * - A chart is a `HelmChart` (helm.cattle.io/v1, kube-system, name = the pack) that the
 *   embedded helm-controller installs through a Job (`status.jobName`, usually
 *   `helm-install-<name>`), retried on failure (https://docs.k3s.io/helm, "Using the Helm
 *   Controller"). Installed means the Job completed and the release's workloads are ready:
 *   deployments, daemonsets and statefulsets labelled `app.kubernetes.io/instance=<name>`
 *   (Helm's recommended label) or `release=<name>` (older charts) in the pack's namespace.
 */

/** The Kubernetes objects a pack is made of (pack-reader.ts packObjects). */
export interface PackObjects {
  readonly addon: string;
  readonly helmChart: string;
  readonly namespace: string;
  readonly release: string;
  /** Whether it is installed through a HelmChart. */
  readonly chart: boolean;
}

/** What the agent read for one pack (each `undefined` when kubectl found nothing). */
export interface PackObservation {
  readonly pack: NodePack;
  /** Which objects were read (default: ours, named after the pack). */
  readonly objects?: PackObjects;
  /** `kubectl get addon -n kube-system edgefleet-<pack> -o json`. */
  readonly addon?: unknown;
  /** Warning events on that Addon (`kubectl get events … -o json`: a List). */
  readonly addonEvents?: unknown;
  /** `kubectl get helmchart -n kube-system <pack> -o json` (chart packs). */
  readonly helmChart?: unknown;
  /** `kubectl get job -n kube-system <status.jobName> -o json`. */
  readonly job?: unknown;
  /** The last lines of the install Job's log, when it failed. */
  readonly jobLog?: string;
  /** `kubectl get deployments,daemonsets,statefulsets -n <namespace> -l <release label> -o json` (a List). */
  readonly workloads?: unknown;
  /** A kubectl call failed (API not reachable, …): the pack's state is unknown for now. */
  readonly readError?: string;
  /** sha256 (hex) of the pack's file as it is on disk now: the Addon's `spec.checksum` once applied. */
  readonly fileChecksum?: string;
}

/** A Job that failed this many times (helm-controller retries it) counts as an error. */
export const JOB_FAILURES_BEFORE_ERROR = 3;

const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const clip = (s: string, n = 400): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** The Addon of a pack's file: its base name without `.yaml`. */
export function addonName(pack: Pick<NodePack, 'name' | 'file'>): string {
  const base = (pack.file ?? `edgefleet-${pack.name}.yaml`).split('/').pop()!;
  return base.replace(/\.ya?ml$/, '');
}

interface Condition { readonly type?: string; readonly status?: string; readonly reason?: string; readonly message?: string }
const conditions = (o: unknown): Condition[] => arr(obj(obj(o).status).conditions).map((c) => obj(c) as Condition);
const isTrue = (o: unknown, type: string): Condition | undefined => conditions(o).find((c) => c.type === type && c.status === 'True');

/** The newest Warning event's message on the Addon, if any. */
function addonWarning(events: unknown): string | undefined {
  const warnings = arr(obj(events).items).map(obj).filter((e) => e.type === 'Warning');
  const time = (e: Record<string, unknown>) => Date.parse(str(e.lastTimestamp) ?? str(e.eventTime) ?? str(obj(e.metadata).creationTimestamp) ?? '') || 0;
  const last = warnings.sort((a, b) => time(a) - time(b)).at(-1);
  return last ? `${str(last.reason) ?? 'Warning'}: ${str(last.message) ?? 'no message'}` : undefined;
}

/** Workloads of the release that are not ready yet ("deployment/x 0/1 ready"). */
export function unreadyWorkloads(list: unknown): string[] {
  const out: string[] = [];
  for (const item of arr(obj(list).items).map(obj)) {
    const kind = str(item.kind)?.toLowerCase() ?? 'workload';
    const name = str(obj(item.metadata).name) ?? '?';
    const spec = obj(item.spec);
    const status = obj(item.status);
    let ready: number;
    let desired: number;
    if (kind === 'daemonset') {
      desired = num(status.desiredNumberScheduled);
      ready = num(status.numberReady);
    } else {
      desired = spec.replicas === undefined ? 1 : num(spec.replicas);
      ready = num(status.readyReplicas);
    }
    if (ready < desired) out.push(`${kind}/${name} ${ready}/${desired} ready`);
  }
  return out;
}

const status = (pack: NodePack, state: PackStatus['state'], reason?: string): PackStatus => ({
  name: pack.name, type: pack.type, state, version: pack.chart?.version ?? pack.version, ...(reason ? { reason: clip(reason, 1024) } : {}),
});

/** One pack's state and, when it is not ready, a reason an operator can act on. */
export function packStatusOf(o: PackObservation): PackStatus {
  const { pack } = o;
  const objects = o.objects ?? { addon: addonName(pack), helmChart: pack.name, namespace: pack.namespace, release: pack.name, chart: !!pack.chart };
  const addon = objects.addon;
  if (o.readError) return status(pack, 'pending', `cannot read the pack's state yet: ${clip(o.readError, 300)}`);
  const warning = addonWarning(o.addonEvents);
  if (warning) return status(pack, 'error', `applying ${pack.file ?? `${addon}.yaml`} failed (${clip(warning)}); fix the pack in a new profile version, or see kubectl describe addon -n kube-system ${addon}`);
  if (!o.addon) return status(pack, 'pending', `manifest ${addon}.yaml not applied yet (the distribution's deploy controller applies it once the API server is up)`);
  // The deploy controller records the sha256 of the content it applied: another one means the
  // file changed (a reload) and the change is not applied yet, whatever the old objects say.
  const applied = str(obj(obj(o.addon).spec).checksum);
  if (o.fileChecksum && applied && applied !== o.fileChecksum) return status(pack, 'installing', `the change to ${addon}.yaml is not applied yet (the deploy controller applies a changed file within a minute)`);
  if (objects.chart) {
    if (!o.helmChart) return status(pack, 'pending', `HelmChart kube-system/${objects.helmChart} not created yet`);
    const chartFailed = isTrue(o.helmChart, 'Failed');
    const jobName = str(obj(obj(o.helmChart).status).jobName);
    const logs = `kubectl logs -n kube-system job/${jobName ?? `helm-install-${objects.helmChart}`}`;
    const tail = o.jobLog?.trim() ? `: ${clip(o.jobLog.trim().split('\n').slice(-3).join(' | '))}` : '';
    if (!jobName || !o.job) {
      if (chartFailed) return status(pack, 'error', `helm install of ${objects.helmChart} failed: ${chartFailed.message ?? chartFailed.reason ?? 'no message'} (${logs})`);
      return status(pack, 'installing', `waiting for the helm-controller to start the install job of ${objects.helmChart}`);
    }
    const jobStatus = obj(obj(o.job).status);
    const failedJob = isTrue(o.job, 'Failed');
    const failures = num(jobStatus.failed);
    if (failedJob || chartFailed || failures >= JOB_FAILURES_BEFORE_ERROR) {
      const why = failedJob?.message ?? chartFailed?.message ?? `failed ${failures} times`;
      return status(pack, 'error', `helm install job ${jobName} of chart ${chartName(pack)} failed (${why})${tail}; see ${logs}`);
    }
    if (!isTrue(o.job, 'Complete') && num(jobStatus.succeeded) < 1) {
      return status(pack, 'installing', failures > 0 ? `helm install job ${jobName} retrying after ${failures} failure${failures > 1 ? 's' : ''}${tail}` : `helm install job ${jobName} running`);
    }
  }
  const unready = unreadyWorkloads(o.workloads);
  if (unready.length > 0) return status(pack, 'installing', `in namespace ${objects.namespace}: ${unready.slice(0, 5).join(', ')}${unready.length > 5 ? ` and ${unready.length - 5} more` : ''}`);
  return status(pack, 'ready');
}

function chartName(pack: NodePack): string {
  const c = pack.chart;
  if (!c) return pack.name;
  return 'oci' in c ? `${c.oci}:${c.version}` : `${c.name} ${c.version} from ${c.repo}`;
}

export type PackWait =
  | { readonly done: true; readonly ok: boolean; readonly detail: string }
  | { readonly done: false; readonly detail: string };

const describeState = (p: PackStatus | undefined, name: string): string =>
  (p ? `${name} ${p.state}${p.reason ? ` (${p.reason})` : ''}` : `${name} unknown (not in /etc/edgefleet/node.json: the profile's node configuration is not on this host)`);

/**
 * Where waiting for `wanted` packs stands, given what the node reports now: done when every
 * one is ready; failed at once when one is in error (naming it and its reason); otherwise
 * still waiting. `timedOut` turns the wait into a failure naming the packs not ready and their states.
 */
export function packWait(wanted: readonly string[], packs: readonly PackStatus[], timedOut: boolean, seconds: number): PackWait {
  const byName = new Map(packs.map((p) => [p.name, p]));
  const errors = wanted.map((n) => byName.get(n)).filter((p): p is PackStatus => p?.state === 'error');
  if (errors.length > 0) return { done: true, ok: false, detail: errors.map((p) => `pack ${p.name} failed: ${p.reason ?? 'no reason reported'}`).join('; ') };
  const notReady = wanted.filter((n) => byName.get(n)?.state !== 'ready');
  if (notReady.length === 0) {
    return { done: true, ok: true, detail: `every pack ready: ${wanted.map((n) => [n, byName.get(n)?.version].filter(Boolean).join(' ')).join(', ')}` };
  }
  const waiting = notReady.map((n) => describeState(byName.get(n), n)).join('; ');
  if (timedOut) return { done: true, ok: false, detail: `packs not ready within ${seconds} s: ${waiting}` };
  return { done: false, detail: `waiting for ${notReady.length} of ${wanted.length} packs: ${waiting}` };
}

/** What a report compares: names, states and reasons (a change of any of them is reported). */
export function packsFingerprint(packs: readonly PackStatus[] | undefined): string {
  return JSON.stringify((packs ?? []).map((p) => [p.name, p.state, p.reason ?? '']));
}
