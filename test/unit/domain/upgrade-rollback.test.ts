import type { HostProgress, Topology } from '../../../lambdas/domain/model.js';
import type { Layer } from '../../../lambdas/domain/profile.js';
import { planUpgrade, type UpgradeNode, type UpgradePlan } from '../../../lambdas/domain/upgrade-plan.js';
import { leftDrained, planRollback, reachedUpgrade } from '../../../lambdas/domain/upgrade-rollback.js';

const IMG_OLD = 'quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.4.0-k3sv1.30.4-k3s1';
const IMG_NEW = 'quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.5.0-k3sv1.31.2-k3s1';
const PREVIOUS: Layer[] = [{ type: 'os', pack: 'ubuntu', version: '24.04', image: IMG_OLD }, { type: 'k8s', pack: 'k3s', version: '1.30.4' }];
const NEXT: Layer[] = [{ type: 'os', pack: 'ubuntu', version: '24.04', image: IMG_NEW }, { type: 'k8s', pack: 'k3s', version: '1.31.2' }];

const CLUSTER: Topology = { controlPlane: { hostIds: ['c1', 'c2', 'c3'] }, workers: [{ name: 'edge', hostIds: ['w1', 'w2'] }] };
const NODES: UpgradeNode[] = [
  ...CLUSTER.controlPlane.hostIds.map((hostId) => ({ hostId, role: 'control-plane' as const, pool: 'control-plane' })),
  ...CLUSTER.workers[0]!.hostIds.map((hostId) => ({ hostId, role: 'worker' as const, pool: 'edge' })),
];
function upgradePlan(): UpgradePlan {
  const r = planUpgrade({ from: PREVIOUS, to: NEXT, nodes: NODES, options: {} });
  if (!r.ok) throw new Error(r.message);
  return r.plan;
}
const at = (step: string, status: HostProgress['status'] = 'succeeded'): HostProgress => ({ status, step });
/** The rollback as "<host>:<steps>" in the order it runs (one phase, one node at a time). */
const shape = (p: UpgradePlan | undefined) => p && { first: p.controlPlane.map((n) => `${n.hostId}:${n.steps.map((s) => s.step).join(',')}`), workers: p.workers.length };

describe('step bookkeeping', () => {
  it.each<[string, HostProgress | undefined, boolean, boolean]>([
    ['no progress', undefined, false, false],
    ['pending', { status: 'pending' }, false, false],
    ['preflight done', at('preflight'), false, false],
    ['cordoned', at('cordon'), true, false],
    ['drained', at('drain'), true, false],
    ['failed at upgrade', at('upgrade', 'failed'), true, true],
    ['rebooting', at('reboot', 'progress'), true, true],
    ['uncordoned', at('uncordon'), false, true],
    ['found at the target', at('verified'), false, true],
  ])('%s: left drained %s, reached the upgrade %s', (_name, p, drained, upgraded) => {
    expect(leftDrained(p)).toBe(drained);
    expect(reachedUpgrade(p)).toBe(upgraded);
  });
});

describe('planRollback()', () => {
  // The planner's repave steps (cordon and reboot are part of drain and upgrade).
  const REPAVE_BACK = 'preflight,drain,upgrade,uncordon';
  it.each<[string, Record<string, HostProgress>, ReturnType<typeof shape>]>([
    ['no node touched: nothing to roll back', { c1: { status: 'pending' }, c2: { status: 'pending' } }, undefined],
    ['only preflight ran: nothing to roll back', { c1: at('preflight') }, undefined],
    ['a node left drained is only uncordoned (from a peer)', { c1: at('drain', 'failed') }, { first: ['c1:uncordon'], workers: 0 }],
    ['the node that failed its upgrade goes back to the previous image', { c1: at('upgrade', 'failed') }, { first: [`c1:${REPAVE_BACK}`], workers: 0 }],
    ['upgraded nodes go back, workers before the control plane; a drained one is uncordoned first',
      { c1: at('uncordon'), c2: at('uncordon'), c3: at('verified'), w1: at('reboot', 'failed'), w2: at('cordon') },
      { first: ['w2:uncordon', `w1:${REPAVE_BACK}`, `c1:${REPAVE_BACK}`, `c2:${REPAVE_BACK}`, `c3:${REPAVE_BACK}`], workers: 0 }],
  ])('%s', (_name, hosts, expected) => {
    expect(shape(planRollback({ plan: upgradePlan(), hosts, cluster: CLUSTER, upgradedTo: NEXT, previous: PREVIOUS }))).toEqual(expected);
  });

  it('goes back to the previous image and kubelet, one node at a time', () => {
    const back = planRollback({ plan: upgradePlan(), hosts: { c1: at('uncordon') }, cluster: CLUSTER, upgradedTo: NEXT, previous: PREVIOUS });
    expect(back).toMatchObject({ maxUnavailable: 1, target: { image: IMG_OLD, kubeletVersion: expect.stringContaining('1.30.4') } });
  });

  it('a single-node cluster that was only drained has nothing to uncordon from: no steps', () => {
    const single: Topology = { controlPlane: { hostIds: ['c1'] }, workers: [] };
    const r = planUpgrade({ from: PREVIOUS, to: NEXT, nodes: [NODES[0]!], options: { acknowledgeDowntime: true } });
    if (!r.ok) throw new Error(r.message);
    expect(shape(planRollback({ plan: r.plan, hosts: { c1: at('drain') }, cluster: single, upgradedTo: NEXT, previous: PREVIOUS }))).toEqual({ first: ['c1:'], workers: 0 });
  });
});
