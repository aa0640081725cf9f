import type { FieldError } from '../../../lambdas/domain/errors.js';
import { BUILTIN_CNIS } from '../../../lambdas/domain/node-packs.js';
import { BUILT_IN_PACKS } from '../../../lambdas/domain/pack-rules.js';
import { validateLayers, type Layer } from '../../../lambdas/domain/profile.js';

const os: Layer = { type: 'os', pack: 'ubuntu', version: '22.04' };
const k3s: Layer = { type: 'k8s', pack: 'k3s', version: 'v1.30.4+k3s1' };
const chart = (name: string, version: string) => ({ repo: `https://charts.example.com/${name}`, name, version });
const calico: Layer = { type: 'cni', pack: 'calico', version: '3.28.0', chart: chart('tigera-operator', '3.28.0') };
const cilium: Layer = { type: 'cni', pack: 'cilium', version: '1.16.0', chart: chart('cilium', '1.16.0') };
const longhorn: Layer = { type: 'csi', pack: 'longhorn', version: '1.7.0', chart: chart('longhorn', '1.7.0') };
const localPath: Layer = { type: 'csi', pack: 'local-path', version: '0.0.28' };
const nginx: Layer = { type: 'addon', pack: 'ingress-nginx', version: '4.11.0', chart: chart('ingress-nginx', '4.11.0') };
const certManager: Layer = { type: 'addon', pack: 'cert-manager', version: '1.15.0', values: 'installCRDs: true\n', chart: chart('cert-manager', '1.15.0') };
const alpine: Layer = { type: 'os', pack: 'alpine', version: '3.20' };
const rke2: Layer = { type: 'k8s', pack: 'rke2', version: 'v1.30.4+rke2r1' };

const paths = (errors: readonly FieldError[]) => errors.map((e) => e.path);

describe('validateLayers()', () => {
  it.each([
    ['os + k8s', [os, k3s]],
    ['full stack', [os, k3s, calico, longhorn, nginx, certManager]],
    ['no cni or csi', [os, k3s, nginx]],
    ['two different add-ons', [os, k3s, nginx, certManager]],
    ['alpine with k3s', [alpine, k3s]],
  ])('accepts %s', (_label, layers) => {
    expect(validateLayers(layers).errors).toEqual([]);
  });

  it.each([
    ['no os layer', [k3s, calico], 'layers', /needs exactly one os layer, found 0/],
    ['no k8s layer', [os, calico], 'layers', /needs exactly one k8s layer, found 0/],
    ['neither os nor k8s', [nginx], 'layers', /needs exactly one os layer, found 0/],
    ['two os layers', [os, { ...os, pack: 'debian', version: '12' }, k3s], 'layers', /needs exactly one os layer, found 2/],
    ['two k8s layers', [os, k3s, rke2], 'layers', /needs exactly one k8s layer, found 2/],
    ['two cni layers', [os, k3s, calico, cilium], 'layers', /at most one cni layer, found 2/],
    ['two csi layers', [os, k3s, longhorn, localPath], 'layers', /at most one csi layer, found 2/],
    ['duplicate add-on pack', [os, k3s, nginx, certManager, { ...nginx, version: '4.12.0' }], 'layers.4.pack', /addon pack "ingress-nginx" appears twice/],
    ['incompatible os × k8s (openrc + rke2)', [alpine, rke2], 'layers', /rke2 needs systemd/],
    ['incompatible os × k8s (cgroup v1)', [{ ...os, version: '20.04' }, { ...k3s, version: 'v1.31.0+k3s1' }], 'layers', /cgroup v1/],
    ['k8s version out of range', [os, { ...k3s, version: '1.27.0' }], 'layers', /outside the validated range/],
    ['unknown os pack', [{ ...os, pack: 'windows' }, k3s], 'layers', /unknown OS pack/],
  ] as const)('refuses %s (path %s)', (_label, layers, path, message) => {
    const { errors } = validateLayers(layers);
    expect(errors).toContainEqual({ path, message: expect.stringMatching(message) });
  });

  it('reports every problem at once', () => {
    const { errors } = validateLayers([calico, cilium, longhorn, localPath]);
    expect(errors.map((e) => e.message)).toEqual([
      expect.stringMatching(/exactly one os layer, found 0/),
      expect.stringMatching(/exactly one k8s layer, found 0/),
      expect.stringMatching(/at most one cni layer, found 2/),
      expect.stringMatching(/at most one csi layer, found 2/),
    ]);
    expect(paths(errors)).toEqual(['layers', 'layers', 'layers', 'layers']);
  });

  it('does not check compatibility when the os or k8s count is wrong', () => {
    const { errors } = validateLayers([alpine, rke2, { ...rke2, pack: 'kubeadm' }]);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/exactly one k8s layer, found 2/);
  });

  it('the duplicate error points at the second occurrence', () => {
    const { errors } = validateLayers([nginx, os, nginx, k3s]);
    expect(errors).toEqual([{ path: 'layers.2.pack', message: expect.stringMatching(/ingress-nginx/) }]);
  });

  it('the same pack name in different pack layer types is refused (it names the HelmChart and the file on the node)', () => {
    const sameName: Layer = { type: 'addon', pack: 'calico', version: '1.0.0', chart: chart('x', '1.0.0') };
    expect(validateLayers([os, k3s, calico, sameName]).errors).toEqual([{ path: 'layers.3.pack', message: expect.stringMatching(/already used by layer 2/) }]);
  });

  it.each([
    [[nginx, certManager, longhorn, calico, k3s, os], [os, k3s, calico, longhorn, nginx, certManager]],
    [[certManager, os, nginx, k3s], [os, k3s, certManager, nginx]],
    [[k3s, os], [os, k3s]],
    [[os, k3s, calico], [os, k3s, calico]],
    [[longhorn, nginx, calico, os, certManager, k3s], [os, k3s, calico, longhorn, nginx, certManager]],
  ])('orders layers canonically (os, k8s, cni, csi, add-ons in given order) #%#', (input, expected) => {
    const before = [...input];
    expect(validateLayers(input).ordered).toEqual(expected);
    expect(input).toEqual(before); // the input is not sorted in place
  });

  it('keeps every layer field when ordering', () => {
    const { ordered } = validateLayers([certManager, k3s, os]);
    expect(ordered[2]).toBe(certManager);
  });
});

describe('validateLayers(): packs (chart, manifests, namespace, built-in packs)', () => {
  const IMG = 'quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.5.0-k3sv1.31.2-k3s1';
  const ubuntu: Layer = { type: 'os', pack: 'ubuntu', version: '24.04', image: IMG };
  const k3s131: Layer = { type: 'k8s', pack: 'k3s', version: '1.31.2' };
  const rke2131: Layer = { type: 'k8s', pack: 'rke2', version: '1.31.2' };
  const kubeadm131: Layer = { type: 'k8s', pack: 'kubeadm', version: '1.31.2' };
  const osFor = (dist: string): Layer => ({ ...ubuntu, image: `quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.5.0-${dist}v1.31.2` });
  const MANIFEST = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: b\n';

  it.each([
    ['k3s with its own flannel', [ubuntu, k3s131, { type: 'cni', pack: 'flannel', version: '0.25.0' }]],
    ['k3s with its own local-path', [ubuntu, k3s131, { type: 'csi', pack: 'local-path', version: '0.0.28' }]],
    ['rke2 with canal (its cni: setting)', [osFor('rke2'), rke2131, { type: 'cni', pack: 'canal', version: '3.28.0' }]],
    ['rke2 with calico', [osFor('rke2'), rke2131, { type: 'cni', pack: 'calico', version: '3.28.0' }]],
    ['rke2 with cilium', [osFor('rke2'), rke2131, { type: 'cni', pack: 'cilium', version: '1.16.0' }]],
    ['k3s with calico from a chart', [ubuntu, k3s131, calico]],
    ['kubeadm with calico from manifests', [osFor('kubeadm'), kubeadm131, { type: 'cni', pack: 'calico', version: '3.28.0', manifests: MANIFEST }]],
    ['an OCI chart with a namespace', [ubuntu, k3s131, { type: 'addon', pack: 'podinfo', version: '6.7.0', namespace: 'apps', chart: { oci: 'oci://ghcr.io/stefanprodan/charts/podinfo', version: '6.7.0' } }]],
    ['chart and manifests together', [ubuntu, k3s131, { ...nginx, manifests: MANIFEST }]],
    ['an image without version info and an explicit kubernetesVersion', [{ ...ubuntu, image: 'registry.example.com/custom/os:2026.11', kubernetesVersion: '1.31.2' }, k3s131]],
    ['a CanvOS image', [{ ...ubuntu, image: 'registry.example.com/edge/canvos:k3s-1.31.2-v4.5.7-demo' }, k3s131]],
    ['a k8s version with a distribution suffix', [ubuntu, { ...k3s131, version: 'v1.31.2+k3s1' }]],
    ['values using nothing but YAML', [ubuntu, k3s131, { ...nginx, values: 'controller:\n  replicaCount: 2\n' }]],
  ] as [string, Layer[]][])('accepts %s', (_label, layers) => {
    expect(validateLayers(layers).errors).toEqual([]);
  });

  it.each([
    ['calico on k3s without chart or manifests', [ubuntu, k3s131, { type: 'cni', pack: 'calico', version: '3.28.0' }], 'layers.2.chart', /k3s ships only flannel as cni/],
    ['flannel on kubeadm without chart or manifests', [osFor('kubeadm'), kubeadm131, { type: 'cni', pack: 'flannel', version: '0.25.0' }], 'layers.2.chart', /kubeadm ships no cni pack itself/],
    ['an add-on without chart or manifests', [ubuntu, k3s131, { type: 'addon', pack: 'podinfo', version: '6.7.0' }], 'layers.2.chart', /needs a chart or manifests/],
    ['a chart on the os layer', [{ ...ubuntu, chart: calico.chart! }, k3s131], 'layers.0.chart', /only for cni, csi and addon layers/],
    ['a namespace on the k8s layer', [ubuntu, { ...k3s131, namespace: 'kube-system' }], 'layers.1.namespace', /only for cni, csi and addon layers/],
    ['kubernetesVersion on the k8s layer', [ubuntu, { ...k3s131, kubernetesVersion: '1.31.2' }], 'layers.1.kubernetesVersion', /belongs on the os layer/],
    ['manifests that are not YAML', [ubuntu, k3s131, { ...nginx, manifests: 'a: [b' }], 'layers.2.manifests', /document 1 is not valid YAML/],
    ['a manifest without kind', [ubuntu, k3s131, { ...nginx, manifests: 'apiVersion: v1\nmetadata:\n  name: a\n' }], 'layers.2.manifests', /document 1 has no kind/],
    ['the second manifest without metadata.name', [ubuntu, k3s131, { ...nginx, manifests: `${MANIFEST}---\napiVersion: v1\nkind: Secret\nmetadata: {}\n` }], 'layers.2.manifests', /document 3 has no metadata.name/],
    ['a manifest that is a list', [ubuntu, k3s131, { ...nginx, manifests: '- a\n- b\n' }], 'layers.2.manifests', /not a Kubernetes object/],
    ['manifests with no object', [ubuntu, k3s131, { ...nginx, manifests: '# nothing\n' }], 'layers.2.manifests', /no Kubernetes object/],
    ['values that are not YAML', [ubuntu, k3s131, { ...nginx, values: 'a: [b' }], 'layers.2.values', /not valid YAML/],
    ['values that are a list', [ubuntu, k3s131, { ...nginx, values: '- a\n' }], 'layers.2.values', /must be a YAML mapping/],
    ['a cni and an add-on with the same pack name', [ubuntu, k3s131, calico, { ...nginx, pack: 'calico' }], 'layers.3.pack', /already used by layer 2/],
  ] as [string, Layer[], string, RegExp][])('refuses %s (%s)', (_label, layers, path, message) => {
    const r = validateLayers(layers);
    expect(r.errors).toContainEqual({ path, message: expect.stringMatching(message) });
    expect(r.code).toBe('invalid-layers');
  });

  it.each([
    ['an rke2 image under k3s', [osFor('rke2'), k3s131], 'layers.0.image', /carries rke2 1.31.2, but the k8s layer is k3s 1.31.2/],
    ['another k3s version', [ubuntu, { ...k3s131, version: '1.32.1' }], 'layers.0.image', /carries k3s 1.31.2, but the k8s layer is k3s 1.32.1/],
    ['a CanvOS image of another version', [{ ...ubuntu, image: 'registry.example.com/edge/canvos:k3s-1.32.1-v4.5.7-demo' }, k3s131], 'layers.0.image', /carries k3s 1.32.1/],
    ['a k0s image', [{ ...ubuntu, image: 'quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.7.2-k0s-v1.31.2-k0s.0' }, k3s131], 'layers.0.image', /carries k0s/],
    ['an image without version info and no kubernetesVersion', [{ ...ubuntu, image: 'quay.io/kairos/ubuntu:24.04-core-amd64-generic-v3.5.0' }, k3s131], 'layers.0.image', /does not say which Kubernetes it carries.*kubernetesVersion: "1.31.2"/],
    ['an explicit kubernetesVersion that differs', [{ ...ubuntu, image: 'registry.example.com/custom/os:2026.11', kubernetesVersion: '1.30.4' }, k3s131], 'layers.0.kubernetesVersion', /kubernetesVersion 1.30.4 is not the k3s layer's version 1.31.2/],
    ['the os layer listed second', [k3s131, { ...ubuntu, image: 'registry.example.com/custom/os:2026.11' }], 'layers.1.image', /layer 1 \(os ubuntu\)/],
  ] as [string, Layer[], string, RegExp][])('refuses %s as image-version-mismatch (%s)', (_label, layers, path, message) => {
    const r = validateLayers(layers);
    expect(r.errors).toEqual([{ path, message: expect.stringMatching(message) }]);
    expect(r.code).toBe('image-version-mismatch');
  });
});

describe('validateLayers(): variables', () => {
  const IMG = 'quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.5.0-k3sv1.31.2-k3s1';
  const stack = (values: string): Layer[] => [{ type: 'os', pack: 'ubuntu', version: '24.04', image: IMG }, { type: 'k8s', pack: 'k3s', version: '1.31.2' }, { ...nginx, values }];

  it('accepts declared references where a value stands, also inside a string and in a quoted scalar', () => {
    const r = validateLayers(stack('replicas: {{ .vars.REPLICAS }}\nhost: "{{.vars.HOST}}"\nurl: https://{{ .vars.HOST }}/x\npassword: {{ .vars.PASSWORD }}\n'),
      [{ name: 'REPLICAS', type: 'number', default: 2 }, { name: 'HOST' }, { name: 'PASSWORD', secret: true, required: true }]);
    expect(r.errors).toEqual([]);
  });

  it.each([
    ['an undeclared variable', 'a: {{ .vars.NOPE }}\n', [], 'layers.2.values', /use variable NOPE, which the profile version does not declare/],
    ['another template expression', 'a: {{ .Values.x }}\n', [], 'layers.2.values', /is not a variable reference/],
    ['a reference as a key', '{{ .vars.K }}: 1\n', [{ name: 'K' }], 'layers.2.values', /used as a key/],
    ['a reference where no value can stand', 'a: [b, {{ .vars.K }}\n', [{ name: 'K' }], 'layers.2.values', /not valid YAML/],
  ] as [string, string, { name: string }[], string, RegExp][])('refuses %s', (_label, values, variables, path, message) => {
    const r = validateLayers(stack(values), variables);
    expect(r.errors).toContainEqual({ path, message: expect.stringMatching(message) });
  });

  it.each([
    ['a name declared twice', [{ name: 'A' }, { name: 'A' }], 'variables.1.name', /declared twice/],
    ['a default of the wrong type', [{ name: 'N', type: 'number', default: 'three' }], 'variables.0.default', /is not a number/],
    ['a default that misses the regex', [{ name: 'S', regex: '[a-z]+', default: 'ABC' }], 'variables.0.default', /does not match its regex/],
    ['a regex that does not compile', [{ name: 'S', regex: '([a-z' }], 'variables.0.regex', /not a valid regular expression/],
    ['a regex on a number', [{ name: 'N', type: 'number', regex: '\\d+' }], 'variables.0.regex', /string variables only/],
    ['a secret with a default', [{ name: 'P', secret: true, default: 'hunter2' }], 'variables.0.default', /secret and cannot have a default/],
  ] as const)('refuses %s as invalid-variables', (_label, variables, path, message) => {
    const r = validateLayers(stack('a: 1\n'), variables);
    expect(r.errors).toEqual([{ path, message: expect.stringMatching(message) }]);
    expect(r.code).toBe('invalid-variables');
  });
});

describe('BUILT_IN_PACKS', () => {
  it('names the same built-in CNIs the node configuration installs by name', () => {
    for (const dist of ['k3s', 'rke2', 'kubeadm'] as const) expect([...(BUILT_IN_PACKS[dist]?.cni ?? [])].sort()).toEqual([...BUILTIN_CNIS[dist]].sort());
  });
});
