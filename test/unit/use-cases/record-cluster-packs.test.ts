/** The init node's pack reports on the in-memory adapters: stored on its cluster on change only, from the init node only. */
import { memoryAdapters } from '../../../lambdas/adapters/memory/index.js';
import type { ClusterRecord, HostRecord } from '../../../lambdas/domain/model.js';
import type { DeviceDeps } from '../../../lambdas/use-cases/device-deps.js';
import { recordStatus } from '../../../lambdas/use-cases/device-messages.js';

const T0 = '2026-11-30T21:00:00.000Z';
const at = (s: number) => new Date(Date.parse(T0) + s * 1000).toISOString();
const host = (id: string, clusterId?: string): HostRecord => ({ id, uid: id, project: 'p', tags: {}, status: clusterId ? 'in-cluster' : 'approved', version: 1, createdAt: T0, updatedAt: T0, ...(clusterId ? { clusterId } : {}) });

function setup() {
  const a = memoryAdapters({ now: T0 });
  const cluster: ClusterRecord = {
    id: 'c-1', project: 'p', name: 'shop', profile: { name: 'edge', version: '1.0.0' }, controlPlane: { hostIds: ['cp1', 'cp2'] }, workers: [],
    status: 'provisioning', version: 3, createdAt: T0, updatedAt: T0,
  };
  a.state.clusters.set(cluster.id, cluster);
  for (const h of [host('cp1', 'c-1'), host('cp2', 'c-1'), host('lone')]) a.state.hosts.set(h.id, h);
  const deps: DeviceDeps = { clock: a.clock, presence: a.presence, status: a.status, commands: a.commands, publisher: a.publisher, hostLifecycle: a.hostLifecycle, clusters: a.clusters };
  const report = (seq: number, packs: { name: string; type: 'cni' | 'csi' | 'addon'; state: 'pending' | 'installing' | 'ready' | 'error'; reason?: string }[]) =>
    ({ seq, at: at(seq), kind: 'change' as const, agentVersion: '1', packs });
  return { a, deps, report, cluster: () => a.state.clusters.get('c-1')! };
}

describe('pack reports reach the cluster', () => {
  it('the init node\'s report is stored with its time; the version and updatedAt stay (not an operator change)', async () => {
    const s = setup();
    await recordStatus(s.deps, 'cp1', s.report(1, [{ name: 'calico', type: 'cni', state: 'installing', reason: 'helm install job running' }]));
    expect(s.cluster()).toMatchObject({ packs: [{ name: 'calico', state: 'installing', reason: 'helm install job running' }], packsReportedAt: at(1), version: 3, updatedAt: T0 });
    await recordStatus(s.deps, 'cp1', s.report(2, [{ name: 'calico', type: 'cni', state: 'ready' }]));
    expect(s.cluster()).toMatchObject({ packs: [{ name: 'calico', state: 'ready' }], packsReportedAt: at(2) });
  });

  it('another node\'s report and a host in no cluster change nothing', async () => {
    const s = setup();
    await recordStatus(s.deps, 'cp2', s.report(1, [{ name: 'calico', type: 'cni', state: 'error', reason: 'x' }]));
    await recordStatus(s.deps, 'lone', s.report(1, [{ name: 'calico', type: 'cni', state: 'error', reason: 'x' }]));
    expect(s.cluster().packs).toBeUndefined();
  });

  it('a repeated unchanged list writes nothing (a status report with other changes neither)', async () => {
    const s = setup();
    const writes: string[] = [];
    const record = s.a.clusters.recordPacks.bind(s.a.clusters);
    s.a.clusters.recordPacks = async (...args) => { writes.push(args[3]); return record(...args); };
    await recordStatus(s.deps, 'cp1', s.report(1, [{ name: 'calico', type: 'cni', state: 'ready' }]));
    await recordStatus(s.deps, 'cp1', { ...s.report(2, [{ name: 'calico', type: 'cni', state: 'ready' }]), agentVersion: '2' });
    await recordStatus(s.deps, 'cp1', s.report(3, [{ name: 'calico', type: 'cni', state: 'ready' }]));
    expect(writes).toEqual([at(1)]);
  });
});

describe('a redelivered report', () => {
  it('reaches the cluster when its first delivery stored the host status but failed to write the cluster', async () => {
    const s = setup();
    const record = s.a.clusters.recordPacks.bind(s.a.clusters);
    s.a.clusters.recordPacks = async () => { throw new Error('ProvisionedThroughputExceeded'); };
    const r = s.report(1, [{ name: 'calico', type: 'cni', state: 'ready' }]);
    await expect(recordStatus(s.deps, 'cp1', r)).rejects.toThrow(/Provisioned/);
    s.a.clusters.recordPacks = record;
    // IoT delivers the same message again (same seq and time: stale for the host's status).
    expect(await recordStatus(s.deps, 'cp1', r)).toEqual({ store: false, reason: 'stale' });
    expect(s.cluster().packs).toEqual([{ name: 'calico', type: 'cni', state: 'ready' }]);
  });
});
