import { hostStep } from '../../../lambdas/contracts/workflows.js';
import type { Layer } from '../../../lambdas/domain/profile.js';
import type { ChangeBehaviour } from '../../../lambdas/domain/reconfigure.js';
import {
  kairosVersionOfImage, parseKubeVersion, planUpgrade,
  type NodeStep, type UpgradeNode, type UpgradeOptions, type UpgradePlan,
} from '../../../lambdas/domain/upgrade-plan.js';

const IMG_OLD = 'quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.4.0-k3sv1.30.4-k3s1';
const IMG_NEW = 'quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.5.0-k3sv1.31.2-k3s1';
const os: Layer = { type: 'os', pack: 'ubuntu', version: '24.04', image: IMG_OLD, values: 'stages: {}' };
const k8s: Layer = { type: 'k8s', pack: 'k3s', version: '1.30.4', values: 'write-kubeconfig-mode: "0644"' };
const cni: Layer = { type: 'cni', pack: 'flannel', version: '0.25.0' };
const base: Layer[] = [os, k8s, cni];
const swap = (layer: Layer, next: Layer): Layer[] => base.map((l) => (l === layer ? next : l));

/** One target per behaviour class. */
const TO: Record<ChangeBehaviour, Layer[]> = {
  repave: [{ ...os, image: IMG_NEW }, { ...k8s, version: '1.31.2' }, cni],
  reboot: swap(os, { ...os, values: 'stages: {boot: []}' }),
  'service-restart': swap(k8s, { ...k8s, values: 'write-kubeconfig-mode: "0600"' }),
  reload: swap(cni, { ...cni, version: '0.26.0' }),
  'no-op': base.map((l) => ({ ...l })),
};

const cp = (id: string, kubeletVersion?: string): UpgradeNode => ({ hostId: id, role: 'control-plane', pool: 'control-plane', ...(kubeletVersion ? { kubeletVersion } : {}) });
const wk = (id: string, kubeletVersion?: string, pool = 'edge'): UpgradeNode => ({ hostId: id, role: 'worker', pool, ...(kubeletVersion ? { kubeletVersion } : {}) });
const SHAPES: Record<string, UpgradeNode[]> = {
  '1': [cp('c1')],
  '1+2': [cp('c1'), wk('w1'), wk('w2')],
  '3': [cp('c1'), cp('c2'), cp('c3')],
  '3+2': [cp('c1'), cp('c2'), cp('c3'), wk('w1'), wk('w2')],
  '5+3': [cp('c1'), cp('c2'), cp('c3'), cp('c4'), cp('c5'), wk('w1'), wk('w2'), wk('w3')],
};
const NOW = new Date('2026-12-01T00:00:00Z');

function plan(to: Layer[], nodes: UpgradeNode[], options: UpgradeOptions = {}, from: Layer[] = base): UpgradePlan {
  const r = planUpgrade({ from, to, nodes, options, now: NOW });
  if (!r.ok) throw new Error(`expected a plan, got ${r.code}: ${r.message}`);
  return r.plan;
}
function refusal(to: Layer[], nodes: UpgradeNode[], options: UpgradeOptions = {}, from: Layer[] = base) {
  const r = planUpgrade({ from, to, nodes, options, now: NOW });
  if (r.ok) throw new Error('expected a refusal, got a plan');
  return r;
}
const steps = (p: { steps: readonly { step: NodeStep; on: string }[] }) => p.steps.map((s) => `${s.step}@${s.on}`);

describe('planUpgrade(): steps per behaviour and cluster shape', () => {
  it.each([
    ['repave', '3+2', ['preflight@node', 'drain@peer', 'upgrade@node', 'uncordon@peer'], ['preflight@node', 'drain@peer', 'upgrade@node', 'uncordon@peer']],
    ['reboot', '3+2', ['drain@peer', 'reboot@node', 'uncordon@peer'], ['drain@peer', 'reboot@node', 'uncordon@peer']],
    ['service-restart', '3+2', ['restart@node'], ['restart@node']],
    ['reload', '3+2', ['reload@node'], ['reload@node']],
    ['no-op', '3+2', [], []],
    ['repave', '3', ['preflight@node', 'drain@peer', 'upgrade@node', 'uncordon@peer'], undefined],
    // A lone control plane has no peer that stays up: it drains and uncordons itself (kubectl on the node).
    ['repave', '1+2', ['preflight@node', 'drain@node', 'upgrade@node', 'uncordon@node'], ['preflight@node', 'drain@peer', 'upgrade@node', 'uncordon@peer']],
    ['reboot', '1+2', ['drain@node', 'reboot@node', 'uncordon@node'], ['drain@peer', 'reboot@node', 'uncordon@peer']],
    ['repave', '1', ['preflight@node', 'upgrade@node'], undefined],
    ['reboot', '1', ['reboot@node'], undefined],
    ['service-restart', '1', ['restart@node'], undefined],
    ['reload', '1', ['reload@node'], undefined],
    ['no-op', '1', [], undefined],
  ] as [ChangeBehaviour, string, string[], string[] | undefined][])('%s on a %s cluster', (behaviour, shape, cpSteps, workerSteps) => {
    const nodes = SHAPES[shape]!;
    const p = plan(TO[behaviour], nodes, { acknowledgeDowntime: true });
    expect(p.behaviour).toBe(behaviour);
    expect(p.controlPlane.length + p.workers.length).toBe(nodes.length);
    for (const n of [...p.controlPlane, ...p.workers]) expect(n.behaviour).toBe(behaviour);
    for (const n of p.controlPlane) expect(steps(n)).toEqual(cpSteps);
    for (const n of p.workers) expect(steps(n)).toEqual(workerSteps);
  });

  it('every planned step is a host step the workflow knows', () => {
    const known = new Set<string>(hostStep.options);
    for (const behaviour of Object.keys(TO) as ChangeBehaviour[]) {
      for (const shape of Object.values(SHAPES)) {
        const p = plan(TO[behaviour], shape, { acknowledgeDowntime: true });
        for (const n of [...p.controlPlane, ...p.workers]) for (const s of n.steps) expect(known).toContain(s.step);
      }
    }
  });

  it('carries the changes and the target image, Kairos version and kubelet version', () => {
    const p = plan(TO.repave, SHAPES['3+2']!);
    expect(p.changes.map((c) => c.layer)).toEqual(['os:ubuntu', 'k8s:k3s']);
    expect(p.target).toEqual({ image: IMG_NEW, kairosVersion: 'v3.5.0', flavor: 'ubuntu', kubeletVersion: 'v1.31.2' });
    expect(plan(TO.reload, SHAPES['3']!).target).toEqual({ image: IMG_OLD, kairosVersion: 'v3.4.0', flavor: 'ubuntu', kubeletVersion: 'v1.30.4' });
  });

  it('a repave whose os layer has no image is refused', () => {
    const to = [{ type: 'os', pack: 'ubuntu', version: '24.10' } as Layer, k8s, cni];
    const r = refusal(to, SHAPES['3']!);
    expect(r.code).toBe('image-required');
    expect(r.message).toMatch(/os layer has no image/);
  });

  it('a no-op is still a plan, with nothing to do', () => {
    const p = plan(TO['no-op'], SHAPES['1']!);
    expect(p.behaviour).toBe('no-op');
    expect(p.changes).toEqual([]);
    expect(p.downtime).toEqual({ expected: false });
  });
});

describe('planUpgrade(): order and concurrency', () => {
  it('control plane first, then workers, each in node order, whatever order the nodes come in', () => {
    const nodes = [wk('w2', undefined, 'b'), cp('c2'), wk('w1', undefined, 'a'), cp('c1'), cp('c3'), wk('w3', undefined, 'a')];
    const p = plan(TO.repave, nodes);
    expect(p.controlPlane.map((n) => n.hostId)).toEqual(['c2', 'c1', 'c3']);
    expect(p.workers.map((n) => [n.hostId, n.pool])).toEqual([['w2', 'b'], ['w1', 'a'], ['w3', 'a']]);
    expect(p.controlPlane.every((n) => n.role === 'control-plane')).toBe(true);
    expect(p.workers.every((n) => n.role === 'worker')).toBe(true);
  });

  it.each([
    [undefined, 1], [2, 2], [3, 3],
  ] as [number | undefined, number][])('maxUnavailable %s → %i workers at a time; the control plane stays one at a time', (given, expected) => {
    const p = plan(TO.repave, SHAPES['5+3']!, given === undefined ? {} : { maxUnavailable: given, acknowledgeDowntime: given >= 3 });
    expect(p.maxUnavailable).toBe(expected);
    expect(p.controlPlane).toHaveLength(5);
  });

  it.each([
    ['3', 2], ['5+3', 4],
  ] as [string, number][])('a %s cluster keeps control-plane quorum: one out at a time leaves %i up', (shape, up) => {
    const p = plan(TO.repave, SHAPES[shape]!);
    // The control plane is upgraded strictly one node at a time, in plan order.
    expect(p.controlPlane.length - 1).toBe(up);
    expect(up).toBeGreaterThan(p.controlPlane.length / 2);
  });

  it.each([
    [0.5], [0], [-1], [Number.NaN],
  ] as [number][])('maxUnavailable %s is refused', (m) => {
    const r = refusal(TO.repave, SHAPES['3+2']!, { maxUnavailable: m });
    expect(r.code).toBe('invalid-upgrade');
    expect(r.message).toMatch(/maxUnavailable/);
  });

  it.each([
    ['3+2', 2, {}, 'max-unavailable-too-high', /all 2 workers \(w1, w2\).*lower maxUnavailable below 2/],
    ['3+2', 5, {}, 'max-unavailable-too-high', /all 2 workers/],
    ['3+1', 1, {}, 'max-unavailable-too-high', /all 1 worker \(w1\).*add a worker/],
    ['3+2', 2, { maintenanceWindow: { start: '2026-12-02T00:00:00Z', end: '2026-12-02T04:00:00Z' } }, 'max-unavailable-too-high', /acknowledgeDowntime: true/],
  ] as [string, number, UpgradeOptions, string, RegExp][])('%s with maxUnavailable %i and %j → %s', (shape, m, extra, code, message) => {
    const nodes = shape === '3+1' ? [cp('c1'), cp('c2'), cp('c3'), wk('w1')] : SHAPES[shape]!;
    const r = refusal(TO.repave, nodes, { maxUnavailable: m, ...extra });
    expect(r.code).toBe(code);
    expect(r.message).toMatch(message);
  });

  it('all workers out at once is allowed when acknowledged, and stated as downtime', () => {
    const p = plan(TO.reboot, SHAPES['3+2']!, { maxUnavailable: 2, acknowledgeDowntime: true });
    expect(p.workers).toHaveLength(2);
    expect(p.downtime.expected).toBe(true);
    expect(p.downtime.reason).toMatch(/all 2 workers/);
  });

  it('all workers at once is fine when nodes are not taken out (reload, service restart)', () => {
    expect(plan(TO.reload, SHAPES['3+2']!, { maxUnavailable: 2 }).downtime.expected).toBe(false);
    expect(plan(TO['service-restart'], SHAPES['3+2']!, { maxUnavailable: 5 }).workers).toHaveLength(2);
  });

  it('skipWorkers plans the control plane only', () => {
    const p = plan(TO.repave, SHAPES['3+2']!, { skipWorkers: true, maxUnavailable: 2 });
    expect(p.controlPlane.map((n) => n.hostId)).toEqual(['c1', 'c2', 'c3']);
    expect(p.workers).toEqual([]);
    expect(p.skippedWorkers).toBe(true);
    expect(plan(TO.repave, SHAPES['3+2']!).skippedWorkers).toBe(false);
  });
});

describe('planUpgrade(): Kubernetes version skew', () => {
  const toK8s = (version: string): Layer[] => [{ ...os, image: IMG_NEW }, { ...k8s, version }, cni];
  const fromK8s = (version: string): Layer[] => [os, { ...k8s, version }, cni];

  it.each([
    ['1.30.4', '1.30.9', {}, undefined, /./],
    ['1.30.4', '1.31.0', {}, undefined, /./],
    ['1.30.4', '1.32.0', {}, 'version-skew', /more than one minor version.*through each minor version/],
    ['1.30.4', '2.0.0', {}, 'version-skew', /more than one minor/],
    ['1.30.4', '1.30.3', {}, 'downgrade', /1\.30\.3 is older than what the cluster \(Kubernetes 1\.30\.4\) runs.*rollback/],
    ['1.30.4', '1.29.8', {}, 'downgrade', /downgrades are refused/],
    ['1.30.4', '1.29.8', { rollback: true }, undefined, /./],
    ['1.30.4', '1.28.0', { rollback: true }, 'version-skew', /more than one minor/],
  ] as [string, string, UpgradeOptions, string | undefined, RegExp][])('control plane %s → %s with %j: %s', (from, to, options, code, message) => {
    const r = planUpgrade({ from: fromK8s(from), to: toK8s(to), nodes: SHAPES['3+2']!, options, now: NOW });
    if (code === undefined) {
      expect(r.ok).toBe(true);
    } else {
      expect(r).toEqual({ ok: false, code, message: expect.stringMatching(message) });
    }
  });

  it('a control-plane node known to lag behind the profile may not jump more than one minor', () => {
    const nodes = [cp('c1', 'v1.30.4+k3s1'), cp('c2', 'v1.29.7+k3s1'), cp('c3')];
    const r = refusal(toK8s('1.31.2'), nodes);
    expect(r.code).toBe('version-skew');
    expect(r.message).toMatch(/c2 \(1\.29\.7\)/);
    expect(r.message).not.toMatch(/c1/);
  });

  it('a node already newer than the target is refused (node-newer-than-target, naming it) unless rolling back', () => {
    const nodes = [cp('c1', 'v1.31.2+k3s1'), cp('c2'), cp('c3')];
    expect(refusal(toK8s('1.31.0'), nodes, {}, fromK8s('1.30.4'))).toEqual({
      ok: false, code: 'node-newer-than-target', message: expect.stringMatching(/^host c1 \(1\.31\.2\) already runs a kubelet newer than the target Kubernetes 1\.31\.0/),
    });
    expect(plan(toK8s('1.31.0'), nodes, { rollback: true }, fromK8s('1.30.4')).controlPlane).toHaveLength(3);
  });

  it('an older Kairos image is a downgrade unless rolling back', () => {
    const older = [{ ...os, image: 'quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.3.1-k3sv1.30.4-k3s1' }, k8s, cni];
    const r = refusal(older, SHAPES['3']!);
    expect(r.code).toBe('downgrade');
    expect(r.message).toMatch(/Kairos v3\.3\.1, older than the v3\.4\.0/);
    expect(plan(older, SHAPES['3']!, { rollback: true }).target.kairosVersion).toBe('v3.3.1');
  });

  it.each([
    // target 1.31: workers kept at 1.28 are 3 minors behind (allowed), at 1.27 are 4 (refused)
    ['v1.28.15+k3s1', undefined],
    ['v1.27.16+k3s1', 'w1 (1.27.16)'],
    // a kubelet may not be newer than the API server: rolling back to 1.30 with workers left at 1.31
    ['v1.31.2+k3s1', 'w1 (1.31.2)'],
  ] as [string, string | undefined][])('skipWorkers with worker w1 at %s → %s', (kubelet, named) => {
    const nodes = [cp('c1'), cp('c2'), cp('c3'), wk('w1', kubelet), wk('w2', 'v1.30.4')];
    const target = kubelet.startsWith('v1.31') ? '1.30.4' : '1.31.2';
    const from = kubelet.startsWith('v1.31') ? fromK8s('1.31.2') : fromK8s('1.30.4');
    const r = planUpgrade({ from, to: toK8s(target), nodes, options: { skipWorkers: true, rollback: true }, now: NOW });
    if (named === undefined) {
      expect(r.ok).toBe(true);
    } else {
      expect(r).toEqual({ ok: false, code: 'version-skew', message: expect.stringContaining(named) });
      if (!r.ok) expect(r.message).toMatch(/drop skipWorkers/);
      if (!r.ok) expect(r.message).not.toMatch(/w2/);
    }
  });

  it('kubelets below 1.25 may only be two minors older', () => {
    const nodes = [cp('c1'), wk('w1', 'v1.24.17')];
    const r = refusal(toK8s('1.27.0'), nodes, { skipWorkers: true, acknowledgeDowntime: true }, fromK8s('1.26.5'));
    expect(r.code).toBe('version-skew');
    expect(plan(toK8s('1.26.9'), nodes, { skipWorkers: true, acknowledgeDowntime: true }, fromK8s('1.26.5')).workers).toEqual([]);
  });

  it('without skipWorkers, old workers are upgraded after the control plane and are not a skew problem', () => {
    const nodes = [wk('w1', 'v1.27.16'), cp('c1'), cp('c2'), cp('c3'), wk('w2', 'v1.30.4')];
    const p = plan(toK8s('1.31.2'), nodes);
    expect(p.controlPlane.map((n) => n.hostId)).toEqual(['c1', 'c2', 'c3']);
    expect(p.workers.map((n) => n.hostId)).toEqual(['w1', 'w2']);
  });

  it('an unparsable kubelet version is refused, naming the host', () => {
    const r = refusal(TO.repave, [cp('c1', 'latest'), cp('c2'), cp('c3')]);
    expect(r.code).toBe('invalid-upgrade');
    expect(r.message).toMatch(/host c1 reports kubelet version "latest"/);
  });
});

describe('planUpgrade(): downtime', () => {
  const window = { start: '2026-12-02T02:00:00Z', end: '2026-12-02T04:00:00Z' };

  it.each([
    ['1', 'repave', /single node \(c1\).*workloads and its Kubernetes API are down for one reboot/],
    ['1', 'reboot', /single node \(c1\)/],
    ['1+2', 'repave', /single control-plane node \(c1\).*Kubernetes API is down.*workloads on the workers keep running/],
    ['1+2', 'reboot', /single control-plane node \(c1\)/],
  ] as [string, ChangeBehaviour, RegExp][])('a %s cluster with a %s: downtime must be acknowledged', (shape, behaviour, reason) => {
    const nodes = SHAPES[shape]!;
    const r = refusal(TO[behaviour], nodes);
    expect(r.code).toBe('downtime-not-acknowledged');
    expect(r.message).toMatch(reason);
    expect(r.message).toMatch(/acknowledgeDowntime: true.*maintenanceWindow/);
    for (const options of [{ acknowledgeDowntime: true }, { maintenanceWindow: window }]) {
      const p = plan(TO[behaviour], nodes, options);
      expect(p.downtime).toEqual({ expected: true, reason: expect.stringMatching(reason), estimatedSeconds: 300 });
    }
  });

  it('skipping the workers of a 1+2 cluster still takes its only control-plane node down', () => {
    expect(refusal(TO.repave, SHAPES['1+2']!, { skipWorkers: true }).code).toBe('downtime-not-acknowledged');
  });

  it.each([
    ['1', 'service-restart'], ['1', 'reload'], ['1', 'no-op'], ['1+2', 'service-restart'],
    ['3', 'repave'], ['3+2', 'reboot'], ['5+3', 'repave'],
  ] as [string, ChangeBehaviour][])('a %s cluster with a %s has no downtime', (shape, behaviour) => {
    expect(plan(TO[behaviour], SHAPES[shape]!).downtime).toEqual({ expected: false });
  });

  it.each([
    [{ start: '2026-12-02T04:00:00Z', end: '2026-12-02T02:00:00Z' }, /ends .* before it starts/],
    [{ start: '2026-12-02T04:00:00Z', end: '2026-12-02T04:00:00Z' }, /before it starts/],
    [{ start: '2026-11-30T02:00:00Z', end: '2026-11-30T04:00:00Z' }, /already over/],
    [{ start: 'tonight', end: '2026-12-02T04:00:00Z' }, /not a pair of ISO 8601 times/],
  ] as [{ start: string; end: string }, RegExp][])('maintenance window %j is refused', (maintenanceWindow, message) => {
    const r = refusal(TO.reload, SHAPES['3']!, { maintenanceWindow });
    expect(r.code).toBe('invalid-maintenance-window');
    expect(r.message).toMatch(message);
  });

  it('a window already open but not over is fine', () => {
    expect(plan(TO.repave, SHAPES['1']!, { maintenanceWindow: { start: '2026-11-30T22:00:00Z', end: '2026-12-01T02:00:00Z' } }).downtime.expected).toBe(true);
  });
});

describe('planUpgrade(): invalid input', () => {
  it.each([
    [[], /names no nodes/],
    [[cp('c1'), wk('c1')], /host c1 is listed twice/],
    [[wk('w1'), wk('w2')], /none of the hosts \(w1, w2\) is a control-plane node/],
  ] as [UpgradeNode[], RegExp][])('nodes %j are refused', (nodes, message) => {
    const r = refusal(TO.repave, nodes);
    expect(r.code).toBe('invalid-upgrade');
    expect(r.message).toMatch(message);
  });
});

describe('kairosVersionOfImage()', () => {
  it.each([
    ['quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.5.0-k3sv1.31.2-k3s1', 'v3.5.0'],
    ['quay.io/kairos/ubuntu:24.04-core-amd64-generic-v3.5.0', 'v3.5.0'],
    ['quay.io/kairos/opensuse:leap-15.6-standard-arm64-rpi4-v3.2.1-rc2-k3sv1.30.4-k3s1', 'v3.2.1-rc2'],
    ['quay.io/kairos/kairos-ubuntu:v2.4.3-k3sv1.27.3-k3s1', 'v2.4.3'],
    ['registry.local:5000/kairos/ubuntu:24.04-standard-amd64-generic-v3.5.0-k3sv1.31.2-k3s1@sha256:abc', 'v3.5.0'],
    ['quay.io/kairos/ubuntu:22.04-k3s', undefined],
    ['registry.local:5000/kairos/ubuntu', undefined],
    ['quay.io/kairos/ubuntu@sha256:0123abcd', undefined],
  ] as [string, string | undefined][])('%s → %s', (image, version) => {
    expect(kairosVersionOfImage(image)).toBe(version);
  });
});

describe('parseKubeVersion()', () => {
  it.each([
    ['v1.31.2+k3s1', { major: 1, minor: 31, patch: 2 }],
    ['1.31.2', { major: 1, minor: 31, patch: 2 }],
    ['v1.30.4+rke2r1', { major: 1, minor: 30, patch: 4 }],
    ['1.30', { major: 1, minor: 30, patch: 0 }],
    ['v1.32.0-rc.1', { major: 1, minor: 32, patch: 0 }],
    ['latest', undefined],
    ['1', undefined],
    ['', undefined],
  ] as [string, ReturnType<typeof parseKubeVersion>][])('%j → %j', (v, parsed) => {
    expect(parseKubeVersion(v)).toEqual(parsed);
  });
});

describe('planUpgrade(): no OS downgrade from what any node runs', () => {
  const IMG = (kairos: string) => `quay.io/kairos/ubuntu:24.04-standard-amd64-generic-${kairos}-k3sv1.31.2-k3s1`;
  const to = (kairos: string): Layer[] => [{ ...os, image: IMG(kairos) }, { ...k8s, version: '1.31.2' }, cni];
  const runs = (n: UpgradeNode, running: UpgradeNode['running']): UpgradeNode => ({ ...n, running });

  it.each<[string, UpgradeNode[], UpgradeOptions, string | undefined]>([
    ['a pool host at v3.6.0 joined a v3.5.0 cluster; target v3.5.5', [cp('c1'), runs(cp('c2'), { kairosVersion: 'v3.6.0', image: IMG('v3.6.0') }), cp('c3')], {},
      `host c2 (Kairos v3.6.0, image ${IMG('v3.6.0')}) already runs an OS newer than the target Kairos v3.5.5`],
    ['the Kairos version read from the running image tag when the report has none', [cp('c1'), cp('c2'), cp('c3'), runs(wk('w1'), { image: IMG('v3.7.1') })], { maxUnavailable: 1 },
      `host w1 (Kairos v3.7.1, image ${IMG('v3.7.1')}) already runs an OS newer`],
    ['nodes at or below the target are fine', [runs(cp('c1'), { kairosVersion: 'v3.5.5' }), runs(cp('c2'), { kairosVersion: 'v3.5.0' }), cp('c3')], {}, undefined],
    ['a pre-release below its release is older', [runs(cp('c1'), { kairosVersion: 'v3.5.5-rc.1' }), cp('c2'), cp('c3')], {}, undefined],
    ['an unparsable reported version is not taken for newer', [runs(cp('c1'), { kairosVersion: 'master' }), cp('c2'), cp('c3')], {}, undefined],
    ['a rollback may go down', [runs(cp('c1'), { kairosVersion: 'v3.6.0' }), cp('c2'), cp('c3')], { rollback: true }, undefined],
    ['a skipped worker is not touched, so not downgraded', [cp('c1'), cp('c2'), cp('c3'), runs(wk('w1', 'v1.31.2'), { kairosVersion: 'v3.6.0' })], { skipWorkers: true }, undefined],
    ['a host outside the planned subset is not touched', [runs(cp('c1'), { kairosVersion: 'v3.6.0' }), cp('c2'), cp('c3')], { only: ['c2'] }, undefined],
  ])('%s', (_name, nodes, options, message) => {
    const r = planUpgrade({ from: base, to: to('v3.5.5'), nodes, options, now: NOW });
    if (message === undefined) expect(r).toMatchObject({ ok: true });
    else expect(r).toEqual({ ok: false, code: 'node-newer-than-target', message: expect.stringContaining(message) });
    if (!r.ok) expect(r.message).toMatch(/remove the host from the cluster and reinstall it/);
  });

  it('an OS-preserving change does not write an image, so a newer node is no downgrade', () => {
    const nodes = [runs(cp('c1'), { kairosVersion: 'v3.6.0' }), cp('c2'), cp('c3')];
    expect(planUpgrade({ from: base, to: TO.reload, nodes, options: {}, now: NOW })).toMatchObject({ ok: true });
  });
});

describe('planUpgrade(): a subset of the cluster (options.only), judged from the whole cluster', () => {
  const ids = (ns: readonly { hostId: string }[]) => ns.map((n) => n.hostId);

  it('one upgraded control-plane node of 3 is drained and uncordoned from a peer; no downtime claimed', () => {
    const p = plan(TO.repave, SHAPES['3']!, { only: ['c2'] });
    expect(ids(p.controlPlane)).toEqual(['c2']);
    expect(steps(p.controlPlane[0]!)).toEqual(['preflight@node', 'drain@peer', 'upgrade@node', 'uncordon@peer']);
    expect(p.downtime).toEqual({ expected: false });
  });

  it.each<[string, string, UpgradeOptions, string[], string[], boolean]>([
    ['a worker of 3+2', '3+2', { only: ['w2'] }, [], ['w2'], false],
    ['a control-plane node and a worker of 3+2', '3+2', { only: ['w1', 'c3'] }, ['c3'], ['w1'], false],
    // The lone control plane is not in the subset: the API stays up, no acknowledgement needed.
    ['a worker of 1+2', '1+2', { only: ['w1'] }, [], ['w1'], false],
    ['the lone control plane of 1+2', '1+2', { only: ['c1'], acknowledgeDowntime: true }, ['c1'], [], true],
  ])('%s', (_name, shape, options, cps, workers, downtime) => {
    const p = plan(TO.repave, SHAPES[shape]!, options);
    expect(ids(p.controlPlane)).toEqual(cps);
    expect(ids(p.workers)).toEqual(workers);
    expect(p.downtime.expected).toBe(downtime);
  });

  it('the lone control plane in the subset still needs the acknowledgement', () => {
    expect(refusal(TO.repave, SHAPES['1+2']!, { only: ['c1'] }).code).toBe('downtime-not-acknowledged');
  });

  it('maxUnavailable is judged against all the cluster\'s workers, not the subset', () => {
    // 2 of 3 workers with maxUnavailable 2: one worker always stays up.
    expect(plan(TO.repave, SHAPES['5+3']!, { only: ['w1', 'w2'], maxUnavailable: 2 }).workers).toHaveLength(2);
    expect(refusal(TO.repave, SHAPES['3+2']!, { only: ['w1', 'w2'], maxUnavailable: 2 }).code).toBe('max-unavailable-too-high');
  });

  it.each([
    [[], /options\.only is empty/],
    [['c9'], /host c9 is not one of the cluster's hosts \(c1, c2, c3\)/],
  ])('only %j is refused', (only, message) => {
    expect(refusal(TO.repave, SHAPES['3']!, { only })).toEqual({ ok: false, code: 'invalid-upgrade', message: expect.stringMatching(message) });
  });
});

describe('an OS-flavour-only change (same Kairos, same Kubernetes, another flavour\'s image)', () => {
  const OPENSUSE = 'quay.io/kairos/opensuse:leap-15.6-standard-amd64-generic-v3.4.0-k3sv1.30.4-k3s1';
  const to: Layer[] = [{ type: 'os', pack: 'opensuse', version: '15.6', image: OPENSUSE }, k8s, cni];
  it.each(Object.keys(SHAPES))('repaves every node of a %s cluster, none skipped, into the new flavour\'s image', (shape) => {
    const nodes = SHAPES[shape]!.map((n) => ({ ...n, kubeletVersion: 'v1.30.4+k3s1', running: { image: IMG_OLD, kairosVersion: 'v3.4.0' } }));
    const p = plan(to, nodes, { acknowledgeDowntime: true, maxUnavailable: 1 });
    expect(p.behaviour).toBe('repave');
    expect(p.target).toEqual({ image: OPENSUSE, kairosVersion: 'v3.4.0', flavor: 'opensuse', kubeletVersion: 'v1.30.4' });
    const planned = [...p.controlPlane, ...p.workers];
    expect(planned.map((n) => n.hostId)).toEqual(nodes.map((n) => n.hostId));
    for (const n of planned) expect(n.steps.map((s) => s.step)).toContain('upgrade');
  });
});
