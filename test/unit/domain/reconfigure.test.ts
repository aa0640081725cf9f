import type { Layer } from '../../../lambdas/domain/profile.js';
import {
  BEHAVIOUR_RANK, RECONFIGURE_ALLOWED, classifyChanges, type ChangeBehaviour, type ChangeKind,
} from '../../../lambdas/domain/reconfigure.js';

const os: Layer = { type: 'os', pack: 'ubuntu', version: '22.04', image: 'quay.io/kairos/ubuntu:22.04-k3s', values: 'stages: {}' };
const k8s: Layer = { type: 'k8s', pack: 'k3s', version: '1.30.4', values: 'write-kubeconfig-mode: "0644"' };
const cni: Layer = { type: 'cni', pack: 'flannel', version: '0.25.0', values: 'backend: vxlan' };
const csi: Layer = { type: 'csi', pack: 'longhorn', version: '1.6.0' };
const addon: Layer = { type: 'addon', pack: 'nginx', version: '4.10.0', values: 'replicas: 1' };
const base: Layer[] = [os, k8s, cni, csi, addon];

const replace = (layer: Layer, next: Layer | undefined): Layer[] => base.flatMap((l) => (l === layer ? (next ? [next] : []) : [l]));

describe('classifyChanges()', () => {
  it('identical stacks are a no-op with no changes', () => {
    expect(classifyChanges(base, base.map((l) => ({ ...l })))).toEqual({ behaviour: 'no-op', changes: [] });
  });

  it('values are compared as trimmed text, and missing values equal empty ones', () => {
    const to = replace(addon, { ...addon, values: '\n  replicas: 1  \n' });
    expect(classifyChanges(base, to).behaviour).toBe('no-op');
    expect(classifyChanges(replace(csi, { ...csi, values: undefined }), replace(csi, { ...csi, values: '  ' })).behaviour).toBe('no-op');
  });

  it('layer order does not matter', () => {
    expect(classifyChanges(base, [...base].reverse())).toEqual({ behaviour: 'no-op', changes: [] });
  });

  // One row per rule in the table of lambdas/domain/reconfigure.ts.
  it.each([
    ['os', 'pack', replace(os, { ...os, pack: 'opensuse', version: '15.6' }), 'os:opensuse', 'repave'],
    ['os', 'version', replace(os, { ...os, version: '24.04' }), 'os:ubuntu', 'repave'],
    ['os', 'image', replace(os, { ...os, image: 'quay.io/kairos/ubuntu:22.04-k3s-v2' }), 'os:ubuntu', 'repave'],
    ['os', 'values', replace(os, { ...os, values: 'stages: {boot: []}' }), 'os:ubuntu', 'reboot'],
    ['os', 'removed', replace(os, undefined), 'os:ubuntu', 'repave'],
    ['k8s', 'pack', replace(k8s, { ...k8s, pack: 'rke2' }), 'k8s:rke2', 'repave'],
    ['k8s', 'version', replace(k8s, { ...k8s, version: '1.31.1' }), 'k8s:k3s', 'repave'],
    ['k8s', 'image', replace(k8s, { ...k8s, image: 'example.com/k3s:1.30.4' }), 'k8s:k3s', 'repave'],
    ['k8s', 'values', replace(k8s, { ...k8s, values: 'write-kubeconfig-mode: "0600"' }), 'k8s:k3s', 'service-restart'],
    ['k8s', 'removed', replace(k8s, undefined), 'k8s:k3s', 'repave'],
    ['cni', 'pack', replace(cni, { ...cni, pack: 'calico' }), 'cni:calico', 'reboot'],
    ['cni', 'version', replace(cni, { ...cni, version: '0.26.0' }), 'cni:flannel', 'reload'],
    ['cni', 'image', replace(cni, { ...cni, image: 'example.com/flannel:0.25.0' }), 'cni:flannel', 'reload'],
    ['cni', 'values', replace(cni, { ...cni, values: 'backend: host-gw' }), 'cni:flannel', 'reload'],
    ['cni', 'removed', replace(cni, undefined), 'cni:flannel', 'reboot'],
    ['csi', 'pack', replace(csi, { ...csi, pack: 'local-path' }), 'csi:local-path', 'reboot'],
    ['csi', 'version', replace(csi, { ...csi, version: '1.7.0' }), 'csi:longhorn', 'reload'],
    ['csi', 'image', replace(csi, { ...csi, image: 'example.com/longhorn:1.6.0' }), 'csi:longhorn', 'reload'],
    ['csi', 'values', replace(csi, { ...csi, values: 'replicas: 2' }), 'csi:longhorn', 'reload'],
    ['csi', 'removed', replace(csi, undefined), 'csi:longhorn', 'reboot'],
    ['addon', 'version', replace(addon, { ...addon, version: '4.11.0' }), 'addon:nginx', 'reload'],
    ['addon', 'image', replace(addon, { ...addon, image: 'example.com/nginx:4.10.0' }), 'addon:nginx', 'reload'],
    ['addon', 'values', replace(addon, { ...addon, values: 'replicas: 3' }), 'addon:nginx', 'reload'],
    ['addon', 'removed', replace(addon, undefined), 'addon:nginx', 'reload'],
  ] as [string, ChangeKind, Layer[], string, ChangeBehaviour][])('%s %s change is a %s', (_type, kind, to, layer, behaviour) => {
    const plan = classifyChanges(base, to);
    expect(plan.changes).toEqual([{ layer, change: kind, behaviour, reason: expect.any(String) }]);
    expect(plan.behaviour).toBe(behaviour);
  });

  it.each([
    ['os', { type: 'os', pack: 'ubuntu', version: '22.04' }, 'repave'],
    ['k8s', { type: 'k8s', pack: 'k3s', version: '1.30.4' }, 'repave'],
    ['cni', { type: 'cni', pack: 'cilium', version: '1.15.0' }, 'reboot'],
    ['csi', { type: 'csi', pack: 'longhorn', version: '1.6.0' }, 'reboot'],
    ['addon', { type: 'addon', pack: 'prometheus', version: '25.0.0' }, 'reload'],
  ] as [string, Layer, ChangeBehaviour][])('adding a %s layer is a %s', (_type, layer, behaviour) => {
    const from = base.filter((l) => l.type !== layer.type);
    const plan = classifyChanges(from, [...from, layer]);
    expect(plan.changes).toEqual([{ layer: `${layer.type}:${layer.pack}`, change: 'added', behaviour, reason: expect.stringContaining('added') }]);
  });

  it('add-ons are matched by pack: another add-on pack is one removal and one addition, not a pack change', () => {
    const plan = classifyChanges(base, replace(addon, { type: 'addon', pack: 'traefik', version: '28.0.0' }));
    expect(plan.changes.map((c) => [c.layer, c.change, c.behaviour])).toEqual([['addon:traefik', 'added', 'reload'], ['addon:nginx', 'removed', 'reload']]);
  });

  it('a pack change reports the pack only, even when the version changes too', () => {
    const plan = classifyChanges(base, replace(k8s, { type: 'k8s', pack: 'rke2', version: '1.31.0', values: 'x: 1' }));
    expect(plan.changes).toHaveLength(1);
    expect(plan.changes[0]!.reason).toMatch(/k3s 1\.30\.4 to rke2 1\.31\.0/);
  });

  it('one layer can change in several ways, each listed', () => {
    const plan = classifyChanges(base, replace(cni, { ...cni, version: '0.26.0', values: 'backend: host-gw' }));
    expect(plan.changes.map((c) => c.change)).toEqual(['version', 'values']);
  });

  it.each([
    ['addon values + cni version', [{ ...addon, values: 'replicas: 2' }, { ...cni, version: '0.26.0' }], 'reload'],
    ['addon values + k8s values', [{ ...addon, values: 'replicas: 2' }, { ...k8s, values: 'a: 1' }], 'service-restart'],
    ['k8s values + os values', [{ ...k8s, values: 'a: 1' }, { ...os, values: 'b: 2' }], 'reboot'],
    ['cni pack + k8s version + addon values', [{ ...cni, pack: 'calico' }, { ...k8s, version: '1.31.0' }, { ...addon, values: 'x: 1' }], 'repave'],
  ] as [string, Layer[], ChangeBehaviour][])('a plan with %s is a %s (the most disruptive)', (_what, changed, behaviour) => {
    const to = base.map((l) => changed.find((c) => c.type === l.type) ?? l);
    const plan = classifyChanges(base, to);
    expect(plan.changes).toHaveLength(changed.length);
    expect(plan.behaviour).toBe(behaviour);
  });

  it('lists changes in layer order: os, k8s, cni, csi, add-ons', () => {
    const to = [{ ...addon, version: '5.0.0' }, { ...csi, version: '2.0.0' }, { ...cni, version: '1.0.0' }, { ...k8s, version: '1.31.0' }, { ...os, version: '24.04' }];
    expect(classifyChanges(base, to).changes.map((c) => c.layer.split(':')[0])).toEqual(['os', 'k8s', 'cni', 'csi', 'addon']);
  });
});

describe('BEHAVIOUR_RANK and RECONFIGURE_ALLOWED', () => {
  it('ranks no-op < reload < service-restart < reboot < repave', () => {
    const ordered = (Object.keys(BEHAVIOUR_RANK) as ChangeBehaviour[]).sort((a, b) => BEHAVIOUR_RANK[a] - BEHAVIOUR_RANK[b]);
    expect(ordered).toEqual(['no-op', 'reload', 'service-restart', 'reboot', 'repave']);
  });

  it.each([
    ['no-op', true], ['reload', true], ['service-restart', true], ['reboot', false], ['repave', false],
  ] as [ChangeBehaviour, boolean][])('%s: reconfigure may apply it itself: %s', (behaviour, allowed) => {
    expect(RECONFIGURE_ALLOWED.has(behaviour)).toBe(allowed);
  });
});
