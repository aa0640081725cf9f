import type { NodePack, PackStatus } from '../../../lambdas/contracts/packs.js';
import { addonName, packStatusOf, packWait, unreadyWorkloads, type PackObservation } from '../../../device/pack-status.js';
import { nodePacksOf } from '../../../device/pack-reader.js';

const calico: NodePack = {
  name: 'calico', type: 'cni', version: '3.29.1', namespace: 'tigera-operator', file: '/var/lib/rancher/k3s/server/manifests/edgefleet-calico.yaml',
  chart: { repo: 'https://docs.tigera.io/calico/charts', name: 'tigera-operator', version: 'v3.29.1' }, manifests: false,
};
const quotas: NodePack = { name: 'quotas', type: 'addon', version: '1.0.0', namespace: 'quotas', file: '/var/lib/rancher/k3s/server/manifests/edgefleet-quotas.yaml', manifests: true };

// Shaped like `kubectl get … -o json` on k3s v1.31 (helm-controller v0.16).
const addon = (name: string) => ({ apiVersion: 'k3s.cattle.io/v1', kind: 'Addon', metadata: { name, namespace: 'kube-system' }, spec: { source: `/var/lib/rancher/k3s/server/manifests/${name}.yaml`, checksum: 'ab12' }, status: { gvks: [{ group: 'helm.cattle.io', version: 'v1', kind: 'HelmChart' }] } });
const helmChart = (status: Record<string, unknown>) => ({
  apiVersion: 'helm.cattle.io/v1', kind: 'HelmChart', metadata: { name: 'calico', namespace: 'kube-system' },
  spec: { chart: 'tigera-operator', repo: 'https://docs.tigera.io/calico/charts', version: 'v3.29.1', targetNamespace: 'tigera-operator', createNamespace: true }, status,
});
const job = (status: Record<string, unknown>) => ({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'helm-install-calico', namespace: 'kube-system' }, spec: { backoffLimit: 1000 }, status });
const complete = job({ succeeded: 1, conditions: [{ type: 'SuccessCriteriaMet', status: 'True' }, { type: 'Complete', status: 'True', lastTransitionTime: '2026-11-30T20:00:00Z' }] });
const deployment = (name: string, replicas: number, ready?: number) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, labels: { 'app.kubernetes.io/instance': 'calico' } }, spec: { replicas }, status: { replicas, ...(ready !== undefined ? { readyReplicas: ready } : {}) } });
const daemonset = (name: string, desired: number, ready: number) => ({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name }, spec: {}, status: { desiredNumberScheduled: desired, numberReady: ready } });
const list = (...items: unknown[]) => ({ apiVersion: 'v1', kind: 'List', items });
const warning = (message: string) => list({ apiVersion: 'v1', kind: 'Event', type: 'Warning', reason: 'ApplyManifestFailed', message, lastTimestamp: '2026-11-30T20:00:00Z', involvedObject: { kind: 'Addon', name: 'edgefleet-quotas' } });

describe('packStatusOf(): a pack\'s state from kubectl JSON', () => {
  it.each<[string, PackObservation, PackStatus['state'], RegExp | undefined]>([
    ['API not reachable yet', { pack: calico, readError: 'The connection to the server 127.0.0.1:6443 was refused' }, 'pending', /cannot read the pack's state yet: The connection/],
    ['file not applied yet (no Addon)', { pack: calico }, 'pending', /manifest edgefleet-calico.yaml not applied yet/],
    ['Addon applied, no HelmChart yet', { pack: calico, addon: addon('edgefleet-calico') }, 'pending', /HelmChart kube-system\/calico not created yet/],
    ['HelmChart without a job yet', { pack: calico, addon: addon('edgefleet-calico'), helmChart: helmChart({}) }, 'installing', /waiting for the helm-controller/],
    ['install job running', { pack: calico, addon: addon('edgefleet-calico'), helmChart: helmChart({ jobName: 'helm-install-calico' }), job: job({ active: 1 }) }, 'installing', /helm install job helm-install-calico running/],
    ['install job retrying', { pack: calico, addon: addon('edgefleet-calico'), helmChart: helmChart({ jobName: 'helm-install-calico' }), job: job({ active: 1, failed: 1 }), jobLog: 'Error: INSTALLATION FAILED: timed out' }, 'installing', /retrying after 1 failure: Error: INSTALLATION FAILED/],
    ['install job failed 3 times: error with the log and where to look',
      { pack: calico, addon: addon('edgefleet-calico'), helmChart: helmChart({ jobName: 'helm-install-calico' }), job: job({ active: 1, failed: 3 }), jobLog: 'Error: chart "tigera-operator" version "v9.9.9" not found in https://docs.tigera.io/calico/charts repository' },
      'error', /helm install job helm-install-calico of chart tigera-operator v3.29.1 from https:\/\/docs.tigera.io\/calico\/charts failed \(failed 3 times\): Error: chart "tigera-operator" version "v9.9.9" not found.*kubectl logs -n kube-system job\/helm-install-calico/],
    ['install job Failed condition', { pack: calico, addon: addon('edgefleet-calico'), helmChart: helmChart({ jobName: 'helm-install-calico' }), job: job({ failed: 1, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }] }) }, 'error', /backoff limit/],
    ['HelmChart Failed condition, job gone', { pack: calico, addon: addon('edgefleet-calico'), helmChart: helmChart({ jobName: 'helm-install-calico', conditions: [{ type: 'Failed', status: 'True', reason: 'Error', message: 'See Job logs for details' }] }) }, 'error', /helm install of calico failed: See Job logs/],
    ['job complete, workloads still starting', { pack: calico, addon: addon('edgefleet-calico'), helmChart: helmChart({ jobName: 'helm-install-calico' }), job: complete, workloads: list(deployment('tigera-operator', 1, 0)) }, 'installing', /in namespace tigera-operator: deployment\/tigera-operator 0\/1 ready/],
    ['job complete, every workload ready', { pack: calico, addon: addon('edgefleet-calico'), helmChart: helmChart({ jobName: 'helm-install-calico' }), job: complete, workloads: list(deployment('tigera-operator', 1, 1), daemonset('calico-node', 3, 3)) }, 'ready', undefined],
    ['manifests applied', { pack: quotas, addon: addon('edgefleet-quotas'), workloads: list() }, 'ready', undefined],
    ['manifests refused by the API server', { pack: quotas, addon: addon('edgefleet-quotas'), addonEvents: warning('failed to create quotas/ns: namespaces "x" is invalid') }, 'error', /applying \/var\/lib\/rancher\/k3s\/server\/manifests\/edgefleet-quotas.yaml failed \(ApplyManifestFailed: failed to create.*kubectl describe addon -n kube-system edgefleet-quotas/],
  ])('%s', (_name, o, state, reason) => {
    const s = packStatusOf(o);
    expect(s).toMatchObject({ name: o.pack.name, type: o.pack.type, state });
    if (reason) expect(s.reason).toMatch(reason);
    else expect(s.reason).toBeUndefined();
    expect(s.version).toBe(o.pack.chart?.version ?? o.pack.version);
  });

  it('a daemonset counts desired vs ready; a deployment without readyReplicas is 0 ready; default 1 replica', () => {
    expect(unreadyWorkloads(list(daemonset('ds', 3, 2), deployment('d', 2), { kind: 'Deployment', metadata: { name: 'one' }, spec: {}, status: {} }))).toEqual(['daemonset/ds 2/3 ready', 'deployment/d 0/2 ready', 'deployment/one 0/1 ready']);
  });

  it('the Addon is named after the file (k3s: the base name without .yaml)', () => {
    expect(addonName(calico)).toBe('edgefleet-calico');
    expect(addonName({ name: 'x' })).toBe('edgefleet-x');
  });

  it('node.json packs: the list when valid, none otherwise', () => {
    expect(nodePacksOf(JSON.stringify({ hostId: 'h', packs: [calico, quotas] }))).toEqual([calico, quotas]);
    expect(nodePacksOf(JSON.stringify({ hostId: 'h' }))).toEqual([]);
    expect(nodePacksOf('{not json')).toEqual([]);
    expect(nodePacksOf(undefined)).toEqual([]);
  });
});

describe('packWait(): waiting for packs', () => {
  const p = (name: string, state: PackStatus['state'], reason?: string): PackStatus => ({ name, type: 'addon', state, version: '1.0.0', ...(reason ? { reason } : {}) });
  it.each<[string, PackStatus[], boolean, { done: boolean; ok?: boolean; detail: RegExp }]>([
    ['every pack ready', [p('a', 'ready'), p('b', 'ready')], false, { done: true, ok: true, detail: /^every pack ready: a 1.0.0, b 1.0.0$/ }],
    ['one installing: still waiting, naming it', [p('a', 'ready'), p('b', 'installing', 'helm install job running')], false, { done: false, detail: /waiting for 1 of 2 packs: b installing \(helm install job running\)/ }],
    ['one in error fails at once, naming it and its reason', [p('a', 'installing'), p('b', 'error', 'chart x version 9 not found in https://r')], false, { done: true, ok: false, detail: /^pack b failed: chart x version 9 not found in https:\/\/r$/ }],
    ['time is up: names the packs not ready and their states', [p('a', 'ready'), p('b', 'pending', 'not applied yet')], true, { done: true, ok: false, detail: /^packs not ready within 60 s: b pending \(not applied yet\)$/ }],
    ['a pack the node does not know', [p('a', 'ready')], true, { done: true, ok: false, detail: /b unknown \(not in \/etc\/edgefleet\/node.json/ }],
  ])('%s', (_name, packs, timedOut, expected) => {
    const w = packWait(['a', 'b'], packs, timedOut, 60);
    expect(w.done).toBe(expected.done);
    if (w.done) expect(w.ok).toBe(expected.ok);
    expect(w.detail).toMatch(expected.detail);
  });
});

describe('a changed pack file not applied yet', () => {
  it('an Addon checksum other than the file on disk is installing, whatever the old Job says', () => {
    const o: PackObservation = {
      pack: calico, addon: { ...addon('edgefleet-calico'), spec: { checksum: 'a'.repeat(64) } }, helmChart: helmChart({ jobName: 'helm-install-calico' }), job: complete, workloads: list(),
    };
    expect(packStatusOf({ ...o, fileChecksum: 'b'.repeat(64) })).toMatchObject({ state: 'installing', reason: expect.stringContaining('the change to edgefleet-calico.yaml is not applied yet') });
    expect(packStatusOf({ ...o, fileChecksum: 'a'.repeat(64) })).toMatchObject({ state: 'ready' });
  });
});
