import type { HostStep } from '../../../lambdas/contracts/workflows.js';
import { ConflictError } from '../../../lambdas/domain/errors.js';
import { commandFor, needsLayers, needsNodeConfig, profileTargetOf, REQUIRED_FREE_MB, roleIn, type StepTask, type TaskStep } from '../../../lambdas/domain/host-command.js';
import type { ClusterRecord, OperationRecord, UpgradeOperation } from '../../../lambdas/domain/model.js';
import type { Layer } from '../../../lambdas/domain/profile.js';

const T0 = '2026-01-01T00:00:00.000Z';
const cluster: ClusterRecord = {
  id: 'c-1', project: 'p', name: 'shop', profile: { name: 'edge', version: '1.0.0' },
  controlPlane: { hostIds: ['c1', 'c2'] }, workers: [{ name: 'pos', hostIds: ['w1'] }], controlPlaneAddress: '192.0.2.10',
  status: 'running', version: 1, createdAt: T0, updatedAt: T0,
};
const OS_IMAGE = 'quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.5.0-k3sv1.32.3-k3s1';
const base = { id: 'op-1', project: 'p', target: { type: 'cluster' as const, id: 'c-1' }, status: 'running' as const, step: 'run', hosts: {}, startedAt: T0 };
const create: OperationRecord = { ...base, type: 'create-cluster' };
const scaleOut: OperationRecord = { ...base, type: 'scale-out', input: { pool: 'pos', add: ['w2'], after: { controlPlane: cluster.controlPlane, workers: [{ name: 'pos', hostIds: ['w1', 'w2'] }] } } };
const plan = (target: UpgradeOperation['input']['plan']['target']): UpgradeOperation['input']['plan'] => ({
  behaviour: 'reboot', changes: [], controlPlane: [], workers: [], maxUnavailable: 1, target, downtime: { expected: false }, skippedWorkers: false,
});
const upgrade = (over: Partial<UpgradeOperation['input']> = {}, target: UpgradeOperation['input']['plan']['target'] = { image: 'img:v2', kairosVersion: 'v3.5.0', kubeletVersion: 'v1.32.3+k3s1' }): OperationRecord => ({
  ...base, type: 'upgrade-cluster', input: { to: { name: 'edge', version: '2.0.0' }, from: { name: 'edge', version: '1.0.0' }, plan: plan(target), ...over },
});
const layers: Layer[] = [
  { type: 'os', pack: 'ubuntu', version: '24.04', image: OS_IMAGE },
  { type: 'k8s', pack: 'k3s', version: '1.32.3+k3s1' },
];
const JOIN = { placeholder: '@@JOIN@@', secret: 'clusters/c-1/join-token' };
const run = (op: OperationRecord, task: StepTask, over: { layers?: Layer[]; hostTimeoutSeconds?: number; cluster?: ClusterRecord } = {}) =>
  commandFor({ op, cluster, task, layers, hostTimeoutSeconds: 600, joinToken: JOIN, ...over });

// The domain's step union is the wire's (contracts/workflows.ts): `tsc` fails if they drift.
const sameSteps: [HostStep] extends [TaskStep] ? ([TaskStep] extends [HostStep] ? true : false) : false = true;

describe('commandFor(): the command of each step', () => {
  it('knows every step the workflows send', () => expect(sameSteps).toBe(true));

  it.each<[string, OperationRecord, StepTask, { type: string; params: Record<string, unknown> }]>([
    ['drain from a peer, 30 s inside the step timeout', create, { hostId: 'c2', step: 'drain', subject: 'c1' }, { type: 'kube-node', params: { action: 'drain', node: 'c1', timeoutSeconds: 570 } }],
    ['an upgrade drains with its own timeout', upgrade({ drainTimeoutSeconds: 120 }), { hostId: 'c2', step: 'drain', subject: 'c1' }, { type: 'kube-node', params: { action: 'drain', node: 'c1', timeoutSeconds: 120 } }],
    ['a drain timeout is capped at one hour', upgrade({ drainTimeoutSeconds: 99999 }), { hostId: 'c2', step: 'drain', subject: 'c1' }, { type: 'kube-node', params: { action: 'drain', node: 'c1', timeoutSeconds: 3600 } }],
    ['remove the leaving node from a peer', create, { hostId: 'c2', step: 'remove-node', subject: 'c1' }, { type: 'kube-node', params: { action: 'delete', node: 'c1' } }],
    ['cordon the node itself when no subject', upgrade(), { hostId: 'w1', step: 'cordon' }, { type: 'kube-node', params: { action: 'cordon', node: 'w1' } }],
    ['uncordon', upgrade(), { hostId: 'c1', step: 'uncordon', subject: 'w1' }, { type: 'kube-node', params: { action: 'uncordon', node: 'w1' } }],
    ['reset', create, { hostId: 'w1', step: 'reset' }, { type: 'reset', params: {} }],
    ['export the kubeconfig from the init node, pointed at the control-plane address (no VIP: the init node\'s recorded address)', create, { hostId: 'c1', step: 'export-kubeconfig' }, { type: 'export-kubeconfig', params: { address: '192.0.2.10' } }],
    ['preflight checks the image and room for three images', upgrade(), { hostId: 'w1', step: 'preflight' }, { type: 'preflight', params: { image: 'img:v2', requiredFreeMb: REQUIRED_FREE_MB } }],
    ['a rollback\'s preflight waits for Ready within the host step (the node may just have fallen back)', upgrade({ rollbackOf: 'op-failed' }), { hostId: 'w1', step: 'preflight' }, { type: 'preflight', params: { image: 'img:v2', requiredFreeMb: REQUIRED_FREE_MB, readyTimeoutSeconds: 570 } }],
    ['preflight of a Kubernetes-only upgrade has no image to check', upgrade({}, { kubeletVersion: 'v1.33.0+k3s1' }), { hostId: 'w1', step: 'preflight' }, { type: 'preflight', params: { requiredFreeMb: REQUIRED_FREE_MB } }],
    ['upgrade to the planned image and versions', upgrade(), { hostId: 'w1', step: 'upgrade' }, { type: 'upgrade', params: { image: 'img:v2', version: 'v3.5.0', kubeletVersion: 'v1.32.3+k3s1' } }],
    ['a create\'s repave: preflight of the profile\'s os image', create, { hostId: 'w1', step: 'preflight' }, { type: 'preflight', params: { image: OS_IMAGE, requiredFreeMb: REQUIRED_FREE_MB } }],
    ['a create\'s repave: upgrade to the os image at the Kairos version of its tag, no kubelet (not a node yet)', create, { hostId: 'w1', step: 'upgrade' }, { type: 'upgrade', params: { image: OS_IMAGE, version: 'v3.5.0' } }],
    ['a scale-out\'s repave: the same', scaleOut, { hostId: 'w2', step: 'upgrade' }, { type: 'upgrade', params: { image: OS_IMAGE, version: 'v3.5.0' } }],
  ])('%s', (_name, op, task, expected) => {
    expect(run(op, task)).toEqual(expected);
  });

  it('export-kubeconfig points the kubeconfig at the VIP when the cluster has one', () => {
    expect(commandFor({ op: create, cluster: { ...cluster, vip: '192.0.2.50' }, task: { hostId: 'c1', step: 'export-kubeconfig' }, hostTimeoutSeconds: 600, joinToken: JOIN }))
      .toEqual({ type: 'export-kubeconfig', params: { address: '192.0.2.50' } });
  });

  it.each<[string, TaskStep, string, string, Record<string, unknown>]>([
    ['init bootstraps the first control-plane node, done only at the k8s layer\'s kubelet', 'init', 'c1', 'init', { mode: 'bootstrap', kubeletVersion: 'v1.32.3+k3s1' }],
    ['a joining control-plane node', 'join-control-plane', 'c2', 'control-plane', { mode: 'bootstrap', kubeletVersion: 'v1.32.3+k3s1' }],
    ['a joining worker, in its pool', 'join-worker', 'w1', 'worker', { mode: 'bootstrap', kubeletVersion: 'v1.32.3+k3s1' }],
    ['restart keeps the node its role', 'restart', 'c2', 'control-plane', { mode: 'restart', kubeletVersion: 'v1.32.3+k3s1' }],
    ['reload (waits for nothing)', 'reload', 'w1', 'worker', { mode: 'reload' }],
    ['an upgrade reboot writes the configuration and reboots', 'reboot', 'c1', 'init', { mode: 'write', reboot: true, kubeletVersion: 'v1.32.3+k3s1' }],
  ])('%s: the rendered node configuration', (_name, step, hostId, role, params) => {
    const c = run(create, { hostId, step });
    expect(c.type).toBe('apply-cloud-config');
    expect(c.params).toEqual({ cloudConfig: expect.any(String), readyTimeoutSeconds: 600, ...params });
    expect(c.params.cloudConfig).toContain('control_plane_host: 192.0.2.10');
    expect(c.params.cloudConfig).toContain(role === 'worker' ? 'pos' : 'control-plane');
    expect(c.params.cloudConfig).toContain(JOIN.placeholder);
    expect(c.secrets).toEqual({ [JOIN.placeholder]: JOIN.secret });
    expect(roleIn(cluster, hostId)).toBe(role);
  });

  it.each<[string, OperationRecord, StepTask, string]>([
    ['preflight outside an upgrade, a create or a scale-out', { ...base, type: 'delete-cluster' }, { hostId: 'w1', step: 'preflight' }, 'plan-missing'],
    ['an upgrade without a target image', upgrade({}, { kubeletVersion: 'v1.33.0+k3s1' }), { hostId: 'w1', step: 'upgrade' }, 'image-required'],
  ])('refuses %s', (_name, op, task, code) => {
    expect(() => run(op, task)).toThrow(ConflictError);
    expect(() => run(op, task)).toThrow(expect.objectContaining({ code }));
  });

  it('a create\'s repave of a profile without an os image is refused (the begin step plans none)', () => {
    expect(() => run(create, { hostId: 'w1', step: 'upgrade' }, { layers: [layers[1]!] })).toThrow(expect.objectContaining({ code: 'image-required' }));
  });

  it('a node configuration joins through the VIP, else the stored control-plane address — never a host id; with neither it is refused', () => {
    const vip = run(create, { hostId: 'w1', step: 'join-worker' }, { cluster: { ...cluster, vip: '192.0.2.100' } });
    expect(vip.params.cloudConfig).toContain('control_plane_host: 192.0.2.100');
    const { controlPlaneAddress: _none, ...bare } = cluster;
    expect(() => run(create, { hostId: 'w1', step: 'join-worker' }, { cluster: bare })).toThrow(expect.objectContaining({ code: 'no-control-plane-address' }));
  });

  it('a node-configuration step without the layers is refused, not rendered empty', () => {
    expect(() => commandFor({ op: create, cluster, task: { hostId: 'c1', step: 'init' }, hostTimeoutSeconds: 600, joinToken: JOIN })).toThrow(expect.objectContaining({ code: 'layers-required' }));
  });

  it.each<[TaskStep, boolean]>([
    ['init', true], ['join-control-plane', true], ['join-worker', true], ['restart', true], ['reload', true], ['reboot', true],
    ['drain', false], ['remove-node', false], ['reset', false], ['cordon', false], ['uncordon', false], ['preflight', false], ['upgrade', false], ['wait-packs', false], ['export-kubeconfig', false],
  ])('%s is a node configuration: %s', (step, needs) => {
    expect(needsNodeConfig(step)).toBe(needs);
    expect(needsLayers(upgrade(), step)).toBe(needs || step === 'wait-packs');
  });

  const withPacks: Layer[] = [
    ...layers,
    { type: 'cni', pack: 'calico', version: '3.29.1', chart: { repo: 'https://docs.tigera.io/calico/charts', name: 'tigera-operator', version: 'v3.29.1' } },
    { type: 'addon', pack: 'ingress', version: '1.0.0', manifests: 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ingress\n' },
  ];
  it.each<[string, OperationRecord]>([
    ['create', create],
    ['reconfigure', { ...base, type: 'reconfigure', input: { profile: { name: 'edge', version: '1.1.0' }, behaviour: 'reload', changes: [] } }],
  ])('%s: wait-packs on the init node names every pack of the profile, 30 s inside the step timeout', (_name, op) => {
    expect(run(op, { hostId: 'c1', step: 'wait-packs' }, { layers: withPacks })).toEqual({ type: 'wait-packs', params: { packs: 'calico,ingress', timeoutSeconds: 570 } });
  });

  it('wait-packs is refused for a profile without packs and without its layers', () => {
    expect(() => run(create, { hostId: 'c1', step: 'wait-packs' })).toThrow(expect.objectContaining({ code: 'no-packs' }));
    expect(() => commandFor({ op: create, cluster, task: { hostId: 'c1', step: 'wait-packs' }, hostTimeoutSeconds: 600, joinToken: JOIN })).toThrow(expect.objectContaining({ code: 'layers-required' }));
  });

  it.each<[string, OperationRecord, boolean]>([['create', create, true], ['scale-out', scaleOut, true], ['upgrade (its plan names the image)', upgrade(), false]])(
    'preflight and upgrade of a %s need the profile layers: %s', (_name, op, needs) => {
      expect(needsLayers(op, 'preflight')).toBe(needs);
      expect(needsLayers(op, 'upgrade')).toBe(needs);
    });

  it.each<[string, OperationRecord, string]>([
    ['create renders the cluster profile', create, '1.0.0'],
    ['an upgrade renders its target', upgrade(), '2.0.0'],
    ['a reconfigure renders its new version', { ...base, type: 'reconfigure', input: { profile: { name: 'edge', version: '1.1.0' }, behaviour: 'reload', changes: [] } }, '1.1.0'],
  ])('%s', (_name, op, version) => {
    expect(profileTargetOf(op, cluster)).toEqual({ name: 'edge', version });
  });
});

describe('commandFor(): profile variables in the node configuration', () => {
  const withVars: Layer[] = [
    ...layers.map((l) => (l.type === 'k8s' ? { ...l, values: 'node-label:\n  - site={{ .vars.SITE }}\n' } : l)),
    { type: 'addon', pack: 'app', version: '1.0.0', chart: { repo: 'https://charts.example.com', name: 'app', version: '1.0.0' }, values: 'password: {{ .vars.PASSWORD }}\nreplicas: {{ .vars.REPLICAS }}\n' },
  ];
  const variables = [{ name: 'SITE' }, { name: 'PASSWORD', secret: true }, { name: 'REPLICAS', type: 'number' as const, default: 1 }];
  const withValues: ClusterRecord = { ...cluster, variables: { SITE: 'shop-7' }, secretVariables: ['PASSWORD'] };
  const PH = '@@EDGEFLEET_SECRET_VAR_PASSWORD@@';

  it('fills in the cluster\'s values; a secret is its placeholder, filled in from the secret store on publish', () => {
    const c = commandFor({ op: create, cluster: withValues, task: { hostId: 'c1', step: 'init' }, layers: withVars, variables, hostTimeoutSeconds: 600, joinToken: JOIN });
    const cloudConfig = String(c.params.cloudConfig);
    expect(cloudConfig).toContain('site=shop-7');
    expect(cloudConfig).toContain(PH);
    expect(cloudConfig).not.toContain('{{ .vars.');
    expect(c.secrets).toEqual({ [JOIN.placeholder]: JOIN.secret, [PH]: 'clusters/c-1/vars/PASSWORD' });
  });

  it('a reconfigure renders its new values, not the cluster\'s', () => {
    const op: OperationRecord = { ...base, type: 'reconfigure', input: { profile: cluster.profile, behaviour: 'service-restart', changes: [], variables: { values: { SITE: 'shop-8' }, secrets: ['PASSWORD'], changed: ['SITE'] } } };
    const c = commandFor({ op, cluster: withValues, task: { hostId: 'c1', step: 'restart' }, layers: withVars, variables, hostTimeoutSeconds: 600, joinToken: JOIN });
    expect(String(c.params.cloudConfig)).toContain('site=shop-8');
    expect(String(c.params.cloudConfig)).not.toContain('shop-7');
  });
});
