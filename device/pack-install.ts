import { mkdir, readFile, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Document, isMap, parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { chartRef, nodePack, packState, type ChartRef, type NodePack, type PackStatus } from '../lambdas/contracts/packs.js';
import type { CommandRunner } from './command-runner.js';
import { CommandFailed } from './command-runner.js';
import { writeFileAtomic } from './state-store.js';

/**
 * kubeadm has no helm-controller: the agent on the init node installs the packs the rendered
 * node configuration wrote under /etc/edgefleet/packs/ (lambdas/domain/node-packs.ts), after
 * the provider brought Kubernetes up and again on reload. For each pack of node.json, in layer
 * order: the file's `HelmChart` becomes `helm upgrade --install` (argv, never a shell; values
 * through a 0600 file under /run that is removed afterwards), the other documents `kubectl
 * apply -f` (also from a 0600 file under /run). Each pack's outcome is recorded in
 * /oem/edgefleet-packs.json, which `kubeadmPackStates` reads for the pack status report.
 */

export const PACK_RESULTS_FILE = 'edgefleet-packs.json';
/** Where the rendered configuration writes kubeadm's pack files (lambdas/domain/node-packs.ts PACK_DIRS). */
export const KUBEADM_PACK_DIR = '/etc/edgefleet/packs';
export const KUBEADM_ADMIN_KUBECONFIG = '/etc/kubernetes/admin.conf';
/** How long one helm release or one apply may take. */
export const PACK_INSTALL_TIMEOUT_MS = 10 * 60_000;

export interface PackInstallPaths {
  /** /etc/edgefleet/node.json */
  readonly nodeInfo: string;
  /** Where the pack files are (/etc/edgefleet/packs). */
  readonly packDir: string;
  /** Scratch space for values and manifests (tmpfs: /run/edgefleet/packs). */
  readonly workDir: string;
  /** /oem: the results file survives a reboot. */
  readonly oemDir: string;
  readonly kubeconfig: string;
  readonly kubectl: string;
}

/** One pack's install outcome, as recorded. */
export const packRecord = z.object({
  state: packState,
  version: z.string().max(64).optional(),
  reason: z.string().max(1024).optional(),
  at: z.string().max(40),
});
export type PackRecord = z.infer<typeof packRecord>;
const packRecords = z.object({ packs: z.record(z.string(), packRecord) });

/** The packs node.json lists (none when it lists none or cannot be read as JSON). */
export function nodePacksOf(nodeJson: string | undefined): NodePack[] {
  if (!nodeJson) return [];
  try {
    const v = z.object({ packs: z.array(nodePack).optional() }).safeParse(JSON.parse(nodeJson));
    return v.success ? (v.data.packs ?? []) : [];
  } catch {
    return [];
  }
}

/**
 * Pure: each pack's state from the results file (P3's status reader calls it on kubeadm init
 * nodes): recorded → its state and reason; not recorded yet → pending; a damaged file → every
 * pack pending (it is written again by the next install).
 */
export function kubeadmPackStates(fileText: string | undefined, packs: readonly NodePack[]): PackStatus[] {
  let records: Record<string, PackRecord> = {};
  if (fileText) {
    try {
      const v = packRecords.safeParse(JSON.parse(fileText));
      if (v.success) records = v.data.packs;
    } catch { /* no record */ }
  }
  return packs.map((p) => {
    const r = Object.hasOwn(records, p.name) ? records[p.name] : undefined;
    return {
      name: p.name, type: p.type, state: r?.state ?? 'pending', version: r?.version ?? p.chart?.version ?? p.version,
      ...(r?.reason ? { reason: r.reason } : {}),
    };
  });
}

/** What a pack file holds, split for helm and kubectl. */
export interface PackFileParts {
  /** The HelmChart's valuesContent, when it has a HelmChart. */
  readonly chart?: { readonly values?: string };
  /** The other documents, serialized again (multi-document YAML), or undefined when there are none. */
  readonly manifests?: string;
}

/** Pure: splits a pack file into its HelmChart (named `pack`) and the plain manifests. */
export function splitPackFile(text: string, pack: string): PackFileParts {
  const docs = parseAllDocuments(text).filter((d) => d.contents !== null);
  let chart: PackFileParts['chart'];
  const rest: Document[] = [];
  for (const d of docs) {
    if (d.errors.length || !isMap(d.contents)) throw new Error(`the pack file of ${pack} does not parse as Kubernetes objects: ${d.errors[0]?.message.split('\n')[0] ?? 'not a mapping'}`);
    if (d.get('apiVersion') === 'helm.cattle.io/v1' && d.get('kind') === 'HelmChart' && d.getIn(['metadata', 'name']) === pack) {
      const values = d.getIn(['spec', 'valuesContent']);
      chart = typeof values === 'string' && values.trim() ? { values } : {};
    } else {
      rest.push(new Document(d.toJS()));
    }
  }
  return { ...(chart ? { chart } : {}), ...(rest.length ? { manifests: rest.map((d) => d.toString({ lineWidth: 0 })).join('---\n') } : {}) };
}

/** The helm argv (after `helm`) of one pack; every value checked first (nothing may start with "-"). */
export function helmArgs(pack: NodePack, chart: ChartRef, kubeconfig: string, valuesFile?: string): string[] {
  const p = nodePack.parse(pack);
  const c = chartRef.parse(chart);
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(p.name) || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(p.namespace)) {
    throw new Error(`pack ${JSON.stringify(p.name)} in namespace ${JSON.stringify(p.namespace)}: not DNS-1123 labels`);
  }
  const source = 'oci' in c ? [c.oci] : [c.name, '--repo', c.repo];
  return [
    'upgrade', '--install', p.name, ...source, '--version', c.version, '--namespace', p.namespace, '--create-namespace',
    '--kubeconfig', kubeconfig, '--timeout', '10m0s', ...(valuesFile ? ['--values', valuesFile] : []),
  ];
}

const why = (e: unknown): string => (e instanceof CommandFailed ? e.message : (e as Error).message).slice(0, 1000);

async function readRecords(file: string): Promise<Record<string, PackRecord>> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  try {
    const v = text ? packRecords.safeParse(JSON.parse(text)) : undefined;
    return v?.success ? v.data.packs : {};
  } catch {
    return {};
  }
}

/**
 * Installs every pack of node.json (kubeadm init node), in order, and records each outcome.
 * A pack that fails is recorded `error` with the reason and the next one is still tried;
 * returns the recorded states. Never throws for a pack: the node joined; the pack status says
 * what failed.
 */
export async function installPacks(runner: CommandRunner, paths: PackInstallPaths, now: () => Date = () => new Date()): Promise<PackStatus[]> {
  const packs = nodePacksOf(await readFile(paths.nodeInfo, 'utf8').catch(() => undefined));
  const resultsFile = join(paths.oemDir, PACK_RESULTS_FILE);
  const records = await readRecords(resultsFile);
  const save = () => writeFileAtomic(resultsFile, `${JSON.stringify({ packs: records })}\n`);
  const set = async (p: NodePack, state: PackRecord['state'], reason?: string) => {
    records[p.name] = { state, version: p.chart?.version ?? p.version, ...(reason ? { reason } : {}), at: now().toISOString() };
    await save();
  };
  if (packs.length) await mkdir(paths.workDir, { recursive: true, mode: 0o700 });
  for (const p of packs) {
    if (p.builtin) {
      await set(p, 'ready');
      continue;
    }
    if (!p.file) {
      await set(p, 'error', `pack ${p.name} has no file on this node: the ${p.type} layer brings neither a chart nor manifests; add one in a new profile version`);
      continue;
    }
    await set(p, 'installing');
    const scratch: string[] = [];
    try {
      const text = await readFile(join(paths.packDir, basename(p.file)), 'utf8').catch((e: NodeJS.ErrnoException) => {
        throw new Error(`cannot read ${join(paths.packDir, basename(p.file!))} (${e.code ?? e.message}): the node configuration was not written (run kairos-agent run-stage edgefleet-reload)`);
      });
      const parts = splitPackFile(text, p.name);
      if (p.chart && !parts.chart) throw new Error(`${basename(p.file)} holds no HelmChart named ${p.name}`);
      if (p.chart) {
        let valuesFile: string | undefined;
        if (parts.chart?.values) {
          valuesFile = join(paths.workDir, `${p.name}-values.yaml`);
          scratch.push(valuesFile);
          await writeFileAtomic(valuesFile, parts.chart.values, 0o600);
        }
        await runner.run('helm', helmArgs(p, p.chart, paths.kubeconfig, valuesFile), { timeoutMs: PACK_INSTALL_TIMEOUT_MS }).catch((e: unknown) => {
          throw new Error(`helm upgrade --install ${p.name} failed: ${why(e)}`);
        });
      }
      if (parts.manifests) {
        const manifestsFile = join(paths.workDir, `${p.name}-manifests.yaml`);
        scratch.push(manifestsFile);
        await writeFileAtomic(manifestsFile, parts.manifests, 0o600);
        await runner.run(paths.kubectl, ['--kubeconfig', paths.kubeconfig, 'apply', '-f', manifestsFile], { timeoutMs: PACK_INSTALL_TIMEOUT_MS }).catch((e: unknown) => {
          throw new Error(`kubectl apply of ${p.name}'s manifests failed: ${why(e)}`);
        });
      }
      await set(p, 'ready');
    } catch (e) {
      await set(p, 'error', (e as Error).message.slice(0, 1024));
    } finally {
      // Values may hold secrets: nothing stays behind in /run.
      await Promise.all(scratch.map((f) => unlink(f).catch(() => undefined)));
    }
  }
  return kubeadmPackStates(JSON.stringify({ packs: records }), packs);
}
