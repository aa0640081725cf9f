import type { ClusterRecord, OperationRecord } from '../../../lambdas/domain/model.js';
import { planPhases, type PhaseFacts } from '../../../lambdas/domain/workflow-phases.js';

const T0 = '2026-01-01T00:00:00.000Z';
const cluster: Pick<ClusterRecord, 'name' | 'controlPlane' | 'workers'> = {
  name: 'shop', controlPlane: { hostIds: ['c1', 'c2'] }, workers: [{ name: 'pos', hostIds: ['w1', 'w2'] }],
};
const base = { id: 'op-1', project: 'p', target: { type: 'cluster' as const, id: 'c-1' }, status: 'queued' as const, step: 'queued', hosts: {}, startedAt: T0 };
const after = { controlPlane: { hostIds: ['c1', 'c2'] }, workers: [{ name: 'pos', hostIds: ['w1', 'w2', 'w3'] }] };
type Item = { hostId: string; step: string; subject?: string } | { hostId: string; steps: { hostId: string; step: string }[] };
const show = (x: Item): string => ('steps' in x ? `${x.hostId}: ${x.steps.map((s) => `${s.step}@${s.hostId}`).join(' → ')}` : `${x.step}@${x.hostId}${x.subject ? `(${x.subject})` : ''}`);
const tasks = (phases: Record<string, Item[]>) => Object.fromEntries(Object.entries(phases).map(([id, t]) => [id, t.map(show)]));
const claimed = (ids: string[] = []): PhaseFacts => ({ claimed: new Set(ids) });
const repave = (ids: string[]): PhaseFacts => ({ repave: { repave: ids } });

describe('planPhases(): the phases of each workflow kind', () => {
  const reconfigure = (behaviour: 'reload' | 'service-restart' | 'no-op'): OperationRecord => ({ ...base, type: 'reconfigure', input: { profile: { name: 'p', version: '2' }, behaviour, changes: [] } });
  it.each<[string, OperationRecord, string[], Record<string, string[]>]>([
    ['create with packs: the init node waits for every pack at the end', { ...base, type: 'create-cluster' }, ['calico', 'longhorn'],
      { repave: [], init: ['init@c1'], controlPlane: ['join-control-plane@c2'], workers: ['join-worker@w1', 'join-worker@w2'], kubeconfig: ['export-kubeconfig@c1'], packs: ['wait-packs@c1'] }],
    ['create without packs: an empty packs phase', { ...base, type: 'create-cluster' }, [],
      { repave: [], init: ['init@c1'], controlPlane: ['join-control-plane@c2'], workers: ['join-worker@w1', 'join-worker@w2'], kubeconfig: ['export-kubeconfig@c1'], packs: [] }],
    ['reconfigure (reload) with packs: reload every node, then the init node waits for the packs', reconfigure('reload'), ['calico'],
      { controlPlane: ['reload@c1', 'reload@c2'], workers: ['reload@w1', 'reload@w2'], packs: ['wait-packs@c1'] }],
    ['reconfigure (restart) with packs', reconfigure('service-restart'), ['calico'],
      { controlPlane: ['restart@c1', 'restart@c2'], workers: ['restart@w1', 'restart@w2'], packs: ['wait-packs@c1'] }],
    ['a reconfigure that changes nothing waits for nothing', reconfigure('no-op'), ['calico'], { controlPlane: [], workers: [], packs: [] }],
    ['scale-out has no packs phase', { ...base, type: 'scale-out', input: { pool: 'pos', add: ['w3'], after } }, ['calico'], { repave: [], controlPlane: [], workers: ['join-worker@w3'] }],
  ])('%s', (_name, op, packs, phases) => {
    const plan = planPhases(op, cluster, { packs });
    if (!plan.ok) throw new Error(plan.message);
    expect(tasks(plan.phases)).toEqual(phases);
  });

  it.each<[string, OperationRecord, PhaseFacts, Record<string, string[]>, string[], boolean]>([
    ['create: init the first control-plane node, join the others, then the workers', { ...base, type: 'create-cluster' }, claimed(),
      { repave: [], init: ['init@c1'], controlPlane: ['join-control-plane@c2'], workers: ['join-worker@w1', 'join-worker@w2'], kubeconfig: ['export-kubeconfig@c1'], packs: [] }, ['c1', 'c2', 'w1', 'w2'], true],
    ['create whose hosts c1 and w2 run another image: each is repaved (preflight, then upgrade) before anything joins', { ...base, type: 'create-cluster' }, repave(['c1', 'w2']),
      { repave: ['c1: preflight@c1 → upgrade@c1', 'w2: preflight@w2 → upgrade@w2'], init: ['init@c1'], controlPlane: ['join-control-plane@c2'], workers: ['join-worker@w1', 'join-worker@w2'], kubeconfig: ['export-kubeconfig@c1'], packs: [] }, ['c1', 'c2', 'w1', 'w2'], true],
    ['scale-out of workers: join the new hosts as workers', { ...base, type: 'scale-out', input: { pool: 'pos', add: ['w3'], after } }, claimed(),
      { repave: [], controlPlane: [], workers: ['join-worker@w3'] }, ['w3'], true],
    ['scale-out of workers whose new host runs another image: repaved first', { ...base, type: 'scale-out', input: { pool: 'pos', add: ['w3'], after } }, repave(['w3']),
      { repave: ['w3: preflight@w3 → upgrade@w3'], controlPlane: [], workers: ['join-worker@w3'] }, ['w3'], true],
    ['scale-out of the control plane', { ...base, type: 'scale-out', input: { pool: 'control-plane', add: ['c3'], after } }, claimed(),
      { repave: [], controlPlane: ['join-control-plane@c3'], workers: [] }, ['c3'], true],
    ['scale-in: drain and delete each leaving node from a remaining control-plane node, then reset it', { ...base, type: 'scale-in', input: { pool: 'control-plane', remove: ['c1'], after } }, claimed(),
      { drain: ['drain@c2(c1)', 'remove-node@c2(c1)'], reset: ['reset@c1'] }, ['c2'], false],
    ['reconfigure with a service restart: restart every node, control plane first', { ...base, type: 'reconfigure', input: { profile: { name: 'p', version: '2' }, behaviour: 'service-restart', changes: [] } }, claimed(),
      { controlPlane: ['restart@c1', 'restart@c2'], workers: ['restart@w1', 'restart@w2'], packs: [] }, ['c1', 'c2', 'w1', 'w2'], true],
    ['reconfigure with a reload', { ...base, type: 'reconfigure', input: { profile: { name: 'p', version: '2' }, behaviour: 'reload', changes: [] } }, claimed(),
      { controlPlane: ['reload@c1', 'reload@c2'], workers: ['reload@w1', 'reload@w2'], packs: [] }, ['c1', 'c2', 'w1', 'w2'], true],
    ['reconfigure that changes nothing: no host is asked anything', { ...base, type: 'reconfigure', input: { profile: { name: 'p', version: '2' }, behaviour: 'no-op', changes: [] } }, claimed(),
      { controlPlane: [], workers: [], packs: [] }, [], false],
    ['delete: reset only the hosts still claimed', { ...base, type: 'delete-cluster' }, claimed(['c1', 'w2']),
      { reset: ['reset@c1', 'reset@w2'] }, [], false],
  ])('%s', (_name, op, facts, phases, needOnline, joinToken) => {
    const plan = planPhases(op, cluster, facts);
    if (!plan.ok) throw new Error(plan.message);
    expect(tasks(plan.phases)).toEqual(phases);
    expect(plan.needOnline).toEqual(needOnline);
    expect(plan.joinToken).toBe(joinToken);
  });

  it('refuses a scale-in that leaves no control-plane node to drain from', () => {
    const op: OperationRecord = { ...base, type: 'scale-in', input: { pool: 'control-plane', remove: ['c1', 'c2'], after } };
    expect(planPhases(op, cluster, claimed())).toMatchObject({ ok: false, code: 'no-control-plane-peer' });
  });
});
