/**
 * A small control plane on the in-memory adapters for use-case and workflow-step unit tests:
 * a profile with a published base version and a published repave version, a running cluster
 * (one control-plane node, two workers) whose hosts are online and report the base image.
 */
import { memoryAdapters } from '../../../lambdas/adapters/memory/index.js';
import type { Layer } from '../../../lambdas/domain/profile.js';
import type { ClusterRecord, HostRecord } from '../../../lambdas/domain/model.js';
import type { RequestContext } from '../../../lambdas/use-cases/context.js';
import { startUpgrade } from '../../../lambdas/use-cases/upgrades.js';
import { DEFAULT_WORKFLOW_SETTINGS } from '../../../lambdas/use-cases/workflows/deps.js';

export const PROJECT = 'p';
export const T0 = '2026-11-30T10:00:00.000Z';
export const IMG_OLD = 'quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.4.0-k3sv1.30.4-k3s1';
export const IMG_NEW = 'quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.5.0-k3sv1.31.2-k3s1';

const os: Layer = { type: 'os', pack: 'ubuntu', version: '24.04', image: IMG_OLD, values: 'stages: {}' };
const k8s: Layer = { type: 'k8s', pack: 'k3s', version: '1.30.4', values: 'write-kubeconfig-mode: "0644"' };
const cni: Layer = { type: 'cni', pack: 'flannel', version: '0.25.0' };
export const BASE: Layer[] = [os, k8s, cni];
export const REPAVE: Layer[] = [{ ...os, image: IMG_NEW }, { ...k8s, version: '1.31.2' }, cni];

export const ctxOf = (role: 'admin' | 'operator' | 'viewer', subject = 'alice'): RequestContext =>
  ({ principal: { subject, roles: { [PROJECT]: role } }, project: PROJECT, requestId: `req-${subject}` });
export const ADMIN = ctxOf('admin');

export const CLUSTER_ID = 'c1';
export const CP = 'h1';
export const WORKERS = ['h2', 'h3'];

export async function world(opts: { hosts?: number } = {}) {
  const a = memoryAdapters({ now: T0, idPrefix: 'n' });
  const deps = { ...a, settings: DEFAULT_WORKFLOW_SETTINGS, workflowSettings: DEFAULT_WORKFLOW_SETTINGS };
  await a.profiles.create({ name: 'edge', project: PROJECT, version: 1, createdAt: T0, updatedAt: T0 });
  for (const [version, layers] of [['1.0.0', BASE], ['2.0.0', REPAVE]] as const) {
    await a.profiles.createVersion({ name: 'edge', project: PROJECT, version, layers, status: 'draft', createdAt: T0, createdBy: 'alice' }, { setLatest: false });
    await a.profiles.publishVersion(PROJECT, 'edge', version, T0, { setLatest: true });
  }
  await a.profiles.createVersion({ name: 'edge', project: PROJECT, version: '3.0.0-draft', layers: REPAVE, status: 'draft', createdAt: T0, createdBy: 'alice' }, { setLatest: false });
  const ids = [CP, ...WORKERS].slice(0, opts.hosts ?? 3);
  for (const id of ids) {
    const h: HostRecord = { id, uid: id, project: PROJECT, tags: {}, status: 'in-cluster', clusterId: CLUSTER_ID, version: 1, createdAt: T0, updatedAt: T0 };
    await a.hosts.create(h);
    await a.presence.apply(id, { presence: 'online', at: Date.parse(T0) });
    await report(a, id, IMG_OLD, 'v1.30.4+k3s1');
  }
  const cluster: ClusterRecord = {
    id: CLUSTER_ID, project: PROJECT, name: 'shop', profile: { name: 'edge', version: '1.0.0' },
    controlPlane: { hostIds: [CP] }, workers: ids.length > 1 ? [{ name: 'w', hostIds: ids.slice(1) }] : [],
    status: 'running', version: 1, createdAt: T0, updatedAt: T0,
  };
  a.state.clusters.set(cluster.id, cluster);
  a.state.clusterNames.set(`${PROJECT}#${cluster.name}`, cluster.id);
  return { ...deps, deps };
}

export type World = Awaited<ReturnType<typeof world>>;

let seq = 0;
/** The host's status report: booted active on `image`, kubelet Ready at `kubelet`. */
export async function report(a: Pick<World, 'status' | 'clock'>, hostId: string, image: string, kubelet: string, extra: { cordoned?: boolean; ready?: boolean } = {}) {
  const kairosVersion = /-(v\d+\.\d+\.\d+)-/.exec(image)?.[1];
  const content = {
    boot: { state: 'active', image, ...(kairosVersion ? { kairosVersion } : {}) },
    agentVersion: '1.0.0',
    kubernetes: { ready: extra.ready ?? true, version: kubelet, ...(extra.cordoned !== undefined ? { cordoned: extra.cordoned } : {}) },
  };
  await a.status.put(hostId, { at: a.clock.now().getTime() + ++seq, seq, fingerprint: `f${seq}`, storedAt: a.clock.now().getTime(), content });
}

/** A world whose cluster has an upgrade to 2.0.0 started (queued, its run started). */
export async function upgrading() {
  const w = await world();
  const op = await startUpgrade(w.deps, ADMIN, CLUSTER_ID, { to: { version: '2.0.0' }, acknowledgeDowntime: true });
  return { w, op };
}
