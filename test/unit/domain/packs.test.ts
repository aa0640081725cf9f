import { decidePackReport, packNames, type PackStatus } from '../../../lambdas/domain/packs.js';
import type { Layer } from '../../../lambdas/domain/profile.js';

const ready: PackStatus = { name: 'calico', type: 'cni', state: 'ready', version: 'v3.29.1' };
const installing: PackStatus = { name: 'calico', type: 'cni', state: 'installing', reason: 'helm install job helm-install-calico running' };
const cluster = (over: { packs?: PackStatus[]; packsReportedAt?: string } = {}) => ({ id: 'c-1', controlPlane: { hostIds: ['cp1', 'cp2'] }, ...over });
const T1 = '2026-11-30T21:00:00.000Z';
const T2 = '2026-11-30T21:01:00.000Z';

describe('decidePackReport(): which pack reports reach the cluster', () => {
  it.each<[string, ReturnType<typeof cluster> | undefined, string, PackStatus[], string, ReturnType<typeof decidePackReport>]>([
    ['the first report of the init node', cluster(), 'cp1', [installing], T1, { store: true }],
    ['a change of state', cluster({ packs: [installing], packsReportedAt: T1 }), 'cp1', [ready], T2, { store: true }],
    ['a change of reason only', cluster({ packs: [installing], packsReportedAt: T1 }), 'cp1', [{ ...installing, reason: 'retrying' }], T2, { store: true }],
    ['the same list again (any order) is not written', cluster({ packs: [installing, { ...ready, name: 'nfs' }], packsReportedAt: T1 }), 'cp1', [{ ...ready, name: 'nfs' }, installing], T2, { store: false, reason: 'unchanged' }],
    ['another control-plane node is ignored', cluster(), 'cp2', [ready], T1, { store: false, reason: 'not-init-node' }],
    ['a host in no cluster is ignored', undefined, 'cp1', [ready], T1, { store: false, reason: 'not-in-cluster' }],
    ['an older report never overwrites a newer one', cluster({ packs: [ready], packsReportedAt: T2 }), 'cp1', [installing], T1, { store: false, reason: 'stale' }],
  ])('%s', (_name, c, host, packs, at, expected) => {
    expect(decidePackReport(c, host, packs, at)).toEqual(expected);
  });
});

describe('packNames(): the packs a cluster waits for', () => {
  it('CNI, CSI and add-on layers that install a chart or manifests, in layer order', () => {
    const layers: Layer[] = [
      { type: 'os', pack: 'ubuntu', version: '24.04' }, { type: 'k8s', pack: 'k3s', version: '1.31.2' },
      { type: 'cni', pack: 'flannel', version: '0.25.0' },
      { type: 'csi', pack: 'longhorn', version: '1.7.2', chart: { repo: 'https://charts.longhorn.io', name: 'longhorn', version: '1.7.2' } },
      { type: 'addon', pack: 'quotas', version: '1.0.0', manifests: 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: q\n' },
      { type: 'addon', pack: 'empty', version: '1.0.0', manifests: '  \n' },
    ];
    expect(packNames(layers)).toEqual(['longhorn', 'quotas']);
  });
});
