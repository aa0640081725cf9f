import { createHash } from 'node:crypto';
import { isMap, parseAllDocuments, parseDocument } from 'yaml';
import type { NodePack, PackStatus } from '../lambdas/contracts/packs.js';
import { NODE_INFO_PATH, type Distribution } from '../device/kubernetes.js';
import { nodePacksOf } from '../device/pack-reader.js';
import { CHART_CATALOG, findChart, type CatalogChart } from './chart-catalog.js';

/**
 * Packs on a simulated init node, from what was actually written to it: the files the node
 * configuration's stages wrote (node.json's pack list, each pack's file in the distribution's
 * manifests directory), checked as the real cluster would — every document must parse, a
 * HelmChart's chart and version must be in the simulated registry (chart-catalog.ts) and its
 * `valuesContent` must be a YAML mapping. Nothing comes from the command that asked for it.
 * A pack goes pending (Kubernetes not up, file not written) → installing (for `installDelayMs`
 * after its file was written and the API came up) → ready or error; a file whose content
 * changes (a reload) installs again.
 */

/** A file a stage wrote, and when (epoch ms). */
export interface WrittenFile {
  readonly content: string;
  readonly at: number;
}
export type WrittenFiles = Record<string, WrittenFile>;

/** One pack's install as the simulated cluster remembers it: which content, since when. */
export interface PackRecord {
  readonly digest: string;
  readonly since: number;
}

/** The distributions' auto-deploy manifests directories (kubeadm: the agent installs from here). */
export const SIMULATED_PACK_DIRS: Readonly<Record<Distribution, string>> = {
  k3s: '/var/lib/rancher/k3s/server/manifests',
  rke2: '/var/lib/rancher/rke2/server/manifests',
  kubeadm: '/etc/edgefleet/packs',
};

/** Whether a stage runs at boot (yip: rootfs, initramfs, boot and their .before/.after). */
export const runsAtBoot = (stage: string): boolean => stage === 'rootfs' || /^(initramfs|boot)(\.(before|after))?$/.test(stage);

/** The files (path, content) of the cloud-config's stages that `stage` selects, in order. */
export function stageFiles(cloudConfig: string | undefined, stage: (name: string) => boolean): { path: string; content: string }[] {
  if (!cloudConfig) return [];
  const doc = parseDocument(cloudConfig);
  if (doc.errors.length) return [];
  const stages = (doc.toJS() as { stages?: unknown } | null)?.stages;
  if (!stages || typeof stages !== 'object' || Array.isArray(stages)) return [];
  const out: { path: string; content: string }[] = [];
  for (const [name, steps] of Object.entries(stages)) {
    if (!stage(name)) continue;
    for (const step of Array.isArray(steps) ? steps : []) {
      const files: unknown = step && typeof step === 'object' ? (step as { files?: unknown }).files : undefined;
      for (const f of Array.isArray(files) ? files : []) {
        const { path, content } = (f ?? {}) as { path?: unknown; content?: unknown };
        if (typeof path === 'string' && typeof content === 'string') out.push({ path, content });
      }
    }
  }
  return out;
}

/** Keeps what a pack needs: node.json and the pack directories (the rest of the disk is not simulated). */
export const packRelevant = (path: string): boolean => path === NODE_INFO_PATH || Object.values(SIMULATED_PACK_DIRS).some((d) => path.startsWith(`${d}/`));

type Outcome = { readonly ok: true } | { readonly ok: false; readonly state: 'error' | 'pending'; readonly reason: string };

const firstLine = (s: string) => s.split('\n')[0]!.slice(0, 200);

/** What the cluster would make of a pack's file. */
export function evaluatePackFile(pack: NodePack, file: string, content: string, catalog: readonly CatalogChart[] = CHART_CATALOG): Outcome {
  const name = file.split('/').pop()!;
  const docs = parseAllDocuments(content);
  if (!Array.isArray(docs)) return { ok: false, state: 'error', reason: `${name} is empty or not YAML` };
  let helmChart = false;
  for (const [i, doc] of docs.entries()) {
    if (doc.errors.length) return { ok: false, state: 'error', reason: `${name} does not parse (document ${i + 1}: ${firstLine(doc.errors[0]!.message)}); fix the pack's manifests in a new profile version` };
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) return { ok: false, state: 'error', reason: `${name} document ${i + 1} is not a Kubernetes object (a YAML mapping)` };
    const o = value as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown }; spec?: Record<string, unknown> };
    if (typeof o.apiVersion !== 'string' || typeof o.kind !== 'string') return { ok: false, state: 'error', reason: `${name} document ${i + 1} has no apiVersion or kind: the API server refuses it` };
    if (o.kind !== 'HelmChart' || !o.apiVersion.startsWith('helm.cattle.io/')) continue;
    helmChart = true;
    const spec = o.spec ?? {};
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    const found = findChart({ repo: str(spec.repo), chart: str(spec.chart), version: str(spec.version) }, catalog);
    if (!found.found) return { ok: false, state: 'error', reason: `helm install of ${String(o.metadata?.name ?? pack.name)} failed: ${found.reason}` };
    const values = spec.valuesContent;
    if (values !== undefined) {
      const v = typeof values === 'string' ? parseDocument(values) : undefined;
      if (!v || v.errors.length || (v.contents !== null && !isMap(v.contents))) {
        const why = v?.errors[0] ? firstLine(v.errors[0].message) : 'not a mapping';
        return { ok: false, state: 'error', reason: `helm install of ${String(o.metadata?.name ?? pack.name)} failed: valuesContent is not a YAML mapping (${why})` };
      }
    }
  }
  if (pack.chart && !helmChart) return { ok: false, state: 'pending', reason: `HelmChart kube-system/${pack.name} not created yet (${name} holds none)` };
  return { ok: true };
}

export interface PackStatesInput {
  readonly files: Readonly<WrittenFiles>;
  readonly distribution: Distribution;
  /** When the API server came up on this node (epoch ms); undefined while it is not up. */
  readonly apiUpSince: number | undefined;
  readonly now: number;
  readonly installDelayMs: number;
  /** Injected: these packs fail with this reason. */
  readonly failures?: Readonly<Record<string, string>>;
  /** Injected: these packs' install jobs never finish (they stay installing). */
  readonly hung?: readonly string[];
  readonly records: Readonly<Record<string, PackRecord>>;
  readonly catalog?: readonly CatalogChart[];
}

/** Each pack's state now, and the install records to keep. Pure. */
export function simulatedPackStates(i: PackStatesInput): { packs: PackStatus[]; records: Record<string, PackRecord> } {
  const packs = nodePacksOf(i.files[NODE_INFO_PATH]?.content);
  const records: Record<string, PackRecord> = {};
  const out = packs.map((pack): PackStatus => {
    const base = { name: pack.name, type: pack.type, version: pack.chart?.version ?? pack.version };
    if (i.apiUpSince === undefined || i.apiUpSince > i.now) return { ...base, state: 'pending', reason: 'cannot read the pack\'s state yet: the Kubernetes API is not up on this node' };
    // A CNI the distribution installs itself (k3s's flannel, rke2's canal/calico/cilium) comes with it once the API is up.
    if (pack.builtin) return i.distribution === 'k3s' || i.now >= i.apiUpSince + i.installDelayMs ? { ...base, state: 'ready' } : { ...base, state: 'installing', reason: `helm install job helm-install-rke2-${pack.name} running` };
    const path = pack.file ?? `${SIMULATED_PACK_DIRS[i.distribution]}/edgefleet-${pack.name}.yaml`;
    const file = i.files[path];
    if (!file) return { ...base, state: 'pending', reason: `manifest ${path.split('/').pop()!.replace(/\.ya?ml$/, '')}.yaml not applied yet (not written to ${path})` };
    const injected = i.failures?.[pack.name];
    const digest = createHash('sha256').update(file.content).update('\0').update(injected ?? '').digest('hex');
    const known = i.records[pack.name];
    const record = known && known.digest === digest ? known : { digest, since: Math.max(file.at, i.apiUpSince) };
    records[pack.name] = record;
    if (i.now < record.since + i.installDelayMs || i.hung?.includes(pack.name)) {
      return { ...base, state: 'installing', reason: pack.chart ? `helm install job helm-install-${pack.name} running` : `applying ${path.split('/').pop()}` };
    }
    if (injected) return { ...base, state: 'error', reason: injected };
    const outcome = evaluatePackFile(pack, path, file.content, i.catalog);
    return outcome.ok ? { ...base, state: 'ready' } : { ...base, state: outcome.state, reason: outcome.reason };
  });
  return { packs: out, records };
}
