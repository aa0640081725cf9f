import { parse } from 'yaml';
import { ValidationError } from '../../../lambdas/domain/errors.js';
import {
  CLUSTER_LABEL, KUBE_VIP_IMAGE, NODE_INFO_PATH, POOL_LABEL, distributionOf, renderNodeConfig,
  type Distribution, type NodeConfigInput, type NodeRole,
} from '../../../lambdas/domain/node-config.js';
import type { Layer } from '../../../lambdas/domain/profile.js';

const TOKEN = '__EDGEFLEET_CLUSTER_TOKEN__';
const VIP = '192.0.2.100';

const layers = (dist: string, extra: Partial<Layer> = {}, more: Layer[] = []): Layer[] => [
  { type: 'os', pack: 'ubuntu', version: '22.04' },
  { type: 'k8s', pack: dist, version: '1.30.4', ...extra },
  ...more,
];

const input = (over: Partial<NodeConfigInput> = {}): NodeConfigInput => ({
  clusterId: 'c-123', clusterName: 'shop-42', hostId: 'host-a', role: 'init', pool: 'control-plane',
  layers: layers('k3s'), controlPlaneAddress: '192.0.2.10', tokenPlaceholder: TOKEN, ...over,
});

interface Rendered {
  cluster: { cluster_token: string; control_plane_host: string; role: string; config: string };
  stages: { initramfs: { name: string; files: { path: string; permissions: number; content: string }[] }[] };
}
const render = (over: Partial<NodeConfigInput> = {}) => {
  const text = renderNodeConfig(input(over));
  const doc = parse(text) as Rendered;
  const config = parse(doc.cluster.config) as Record<string, any>;
  const files = doc.stages.initramfs.flatMap((s) => s.files);
  return { text, doc, config, files };
};

describe('distributionOf()', () => {
  it.each(['k3s', 'rke2', 'kubeadm'] as const)('reads %s from the k8s layer', (d) => {
    expect(distributionOf(layers(d))).toBe(d);
  });

  it.each([
    ['no k8s layer', [{ type: 'os', pack: 'ubuntu', version: '22.04' }] as Layer[], 'invalid-profile', /0 Kubernetes/],
    ['an unknown pack', layers('k0s'), 'unknown-distribution', /"k0s".*k3s, rke2, kubeadm/],
  ])('refuses %s', (_what, ls, code, message) => {
    expect(() => distributionOf(ls)).toThrow(ValidationError);
    expect(() => distributionOf(ls)).toThrow(expect.objectContaining({ code, message: expect.stringMatching(message) }));
  });
});

describe('renderNodeConfig()', () => {
  it('starts with #cloud-config and parses as YAML', () => {
    const { text, doc } = render();
    expect(text.startsWith('#cloud-config\n')).toBe(true);
    expect(doc.cluster).toEqual(expect.objectContaining({ cluster_token: TOKEN, control_plane_host: '192.0.2.10', role: 'init' }));
  });

  it.each([
    ['init', 'init'],
    ['control-plane', 'controlplane'],
    ['worker', 'worker'],
  ] as [NodeRole, string][])('maps role %s to the Kairos role %s', (role, kairos) => {
    expect(render({ role, vip: VIP, controlPlaneAddress: VIP }).doc.cluster.role).toBe(kairos);
  });

  describe.each(['k3s', 'rke2', 'kubeadm'] as Distribution[])('for %s', (dist) => {
    it.each(['init', 'control-plane', 'worker'] as NodeRole[])('as %s: the token placeholder appears once, only as cluster_token', (role) => {
      const { text, doc } = render({ layers: layers(dist), role, vip: VIP, controlPlaneAddress: VIP });
      expect(text.split(TOKEN)).toHaveLength(2);
      expect(doc.cluster.cluster_token).toBe(TOKEN);
      expect(doc.cluster.config).not.toContain(TOKEN);
    });

    it('adds a kube-vip static pod (ARP, the VIP) on control-plane nodes when there is a VIP', () => {
      for (const role of ['init', 'control-plane'] as NodeRole[]) {
        const { files } = render({ layers: layers(dist), role, vip: VIP, controlPlaneAddress: VIP });
        const pod = files.find((f) => f.path.endsWith('/kube-vip.yaml'));
        expect(pod).toBeDefined();
        const manifest = parse(pod!.content) as any;
        expect(manifest.kind).toBe('Pod');
        const env = Object.fromEntries(manifest.spec.containers[0].env.filter((e: { value?: string }) => e.value).map((e: { name: string; value: string }) => [e.name, e.value]));
        expect(env).toEqual(expect.objectContaining({ address: VIP, vip_arp: 'true', cp_enable: 'true', vip_leaderelection: 'true', port: '6443' }));
        expect(manifest.spec.containers[0].image).toBe(KUBE_VIP_IMAGE);
      }
    });

    it('adds no kube-vip on workers nor without a VIP', () => {
      expect(render({ layers: layers(dist), role: 'worker', vip: VIP, controlPlaneAddress: VIP }).files.map((f) => f.path)).toEqual([NODE_INFO_PATH]);
      expect(render({ layers: layers(dist), role: 'init' }).files.map((f) => f.path)).toEqual([NODE_INFO_PATH]);
    });

    it('writes the node facts, with the Kubernetes version and no secret', () => {
      const { files } = render({ layers: layers(dist), role: 'worker', pool: 'pos' });
      expect(JSON.parse(files[0]!.content)).toEqual({
        clusterId: 'c-123', clusterName: 'shop-42', hostId: 'host-a', role: 'worker', pool: 'pos',
        distribution: dist, kubernetesVersion: '1.30.4', controlPlaneAddress: '192.0.2.10',
      });
    });
  });

  it.each([
    ['k3s', 'init', '1.30.4', '/var/lib/rancher/k3s/agent/pod-manifests/kube-vip.yaml', '/etc/rancher/k3s/k3s.yaml'],
    ['rke2', 'control-plane', '1.30.4', '/var/lib/rancher/rke2/agent/pod-manifests/kube-vip.yaml', '/etc/rancher/rke2/rke2.yaml'],
    ['kubeadm', 'init', '1.30.4', '/etc/kubernetes/manifests/kube-vip.yaml', '/etc/kubernetes/super-admin.conf'],
    ['kubeadm', 'init', '1.28.9', '/etc/kubernetes/manifests/kube-vip.yaml', '/etc/kubernetes/admin.conf'],
    ['kubeadm', 'control-plane', '1.30.4', '/etc/kubernetes/manifests/kube-vip.yaml', '/etc/kubernetes/admin.conf'],
  ] as [Distribution, NodeRole, string, string, string][])('kube-vip for %s %s %s: %s with kubeconfig %s', (dist, role, version, path, kubeconfig) => {
    const pod = render({ layers: layers(dist, { version }), role, vip: VIP, controlPlaneAddress: VIP }).files.find((f) => f.path.endsWith('kube-vip.yaml'))!;
    expect(pod.path).toBe(path);
    expect((parse(pod.content) as any).spec.volumes[0].hostPath.path).toBe(kubeconfig);
  });

  describe.each(['k3s', 'rke2'] as const)('%s config.yaml', (dist) => {
    it('has the node name, the EdgeFleet labels, user labels, taints and the VIP as a TLS SAN', () => {
      const { config } = render({
        layers: layers(dist), role: 'control-plane', pool: 'control-plane', vip: VIP, controlPlaneAddress: VIP,
        labels: { zone: 'front' }, taints: ['dedicated=pos:NoSchedule', 'gpu:NoExecute'],
      });
      expect(config['node-name']).toBe('host-a');
      expect(config['node-label']).toEqual(['zone=front', `${CLUSTER_LABEL}=c-123`, `${POOL_LABEL}=control-plane`]);
      expect(config['node-taint']).toEqual(['dedicated=pos:NoSchedule', 'gpu:NoExecute']);
      expect(config['tls-san']).toEqual([VIP]);
    });

    it('gives a worker no tls-san and no taint key when none are asked for', () => {
      const { config } = render({ layers: layers(dist), role: 'worker', pool: 'pos' });
      expect(config['tls-san']).toBeUndefined();
      expect(config['node-taint']).toBeUndefined();
      expect(config['node-label']).toContain(`${POOL_LABEL}=pos`);
    });

    it('our labels win over user labels with the same key', () => {
      const { config } = render({ layers: layers(dist), labels: { [CLUSTER_LABEL]: 'spoofed' } });
      expect(config['node-label']).toEqual([`${CLUSTER_LABEL}=c-123`, `${POOL_LABEL}=control-plane`]);
    });

    it('keeps the k8s layer values and merges their lists', () => {
      const values = 'write-kubeconfig-mode: "0644"\nnode-label: [team=ops]\ntls-san: [api.example.com]\nnode-name: ignored\n';
      const { config } = render({ layers: layers(dist, { values }), vip: VIP, controlPlaneAddress: VIP });
      expect(config['write-kubeconfig-mode']).toBe('0644');
      expect(config['node-name']).toBe('host-a');
      expect(config['node-label']).toEqual(['team=ops', `${CLUSTER_LABEL}=c-123`, `${POOL_LABEL}=control-plane`]);
      expect(config['tls-san']).toEqual(['api.example.com', VIP]);
    });

    it('drops join secrets and the server from the k8s layer values: the cluster stanza owns them', () => {
      const values = 'token: leaked\nagent-token: leaked\nserver: https://elsewhere:6443\ncluster-cidr: 10.42.0.0/16\n';
      const { config, text } = render({ layers: layers(dist, { values }) });
      expect(config).not.toHaveProperty('token');
      expect(config).not.toHaveProperty('agent-token');
      expect(config).not.toHaveProperty('server');
      expect(config['cluster-cidr']).toBe('10.42.0.0/16');
      expect(text).not.toContain('leaked');
    });
  });

  it.each([
    ['rke2', 'cilium', { cni: 'cilium' }],
    ['k3s', 'calico', { 'flannel-backend': 'none', 'disable-network-policy': true }],
    ['k3s', 'flannel', {}],
  ])('%s with a %s CNI layer sets %j on servers', (dist, cni, expected) => {
    const { config } = render({ layers: layers(dist, {}, [{ type: 'cni', pack: cni, version: '1.0.0' }]) });
    expect(config).toEqual(expect.objectContaining(expected));
    if (cni === 'flannel') expect(config['flannel-backend']).toBeUndefined();
  });

  describe('kubeadm config', () => {
    it('init node: InitConfiguration nodeRegistration and ClusterConfiguration with the VIP endpoint and version', () => {
      const { config } = render({
        layers: layers('kubeadm'), role: 'init', vip: VIP, controlPlaneAddress: VIP,
        labels: { zone: 'front' }, taints: ['dedicated=pos:NoSchedule'],
      });
      expect(config.clusterConfiguration).toEqual({
        clusterName: 'shop-42', kubernetesVersion: 'v1.30.4', controlPlaneEndpoint: `${VIP}:6443`, apiServer: { certSANs: [VIP] },
      });
      expect(config.initConfiguration.nodeRegistration).toEqual({
        name: 'host-a',
        kubeletExtraArgs: { 'node-labels': `zone=front,${CLUSTER_LABEL}=c-123,${POOL_LABEL}=control-plane` },
        taints: [{ key: 'dedicated', value: 'pos', effect: 'NoSchedule' }],
      });
      expect(config.joinConfiguration).toBeUndefined();
    });

    it('joining node: JoinConfiguration, no taints key so kubeadm keeps its defaults', () => {
      const { config } = render({ layers: layers('kubeadm'), role: 'worker', pool: 'pos' });
      expect(config.initConfiguration).toBeUndefined();
      expect(config.joinConfiguration.nodeRegistration).toEqual({
        name: 'host-a', kubeletExtraArgs: { 'node-labels': `${CLUSTER_LABEL}=c-123,${POOL_LABEL}=pos` },
      });
    });
  });

  it.each([
    ['a quote', 'a"b'],
    ['a newline', 'line1\nline2: injected'],
    ['a template', '{{ .Values.secret }}'],
    ['YAML specials', '&anchor *alias !!binary | > # comment: - [x]'],
    ['a document marker', '---\ncluster_token: stolen'],
  ])('keeps a label value with %s inside the document', (_what, hostile) => {
    const { doc, config, text } = render({ labels: { zone: hostile }, pool: hostile, role: 'worker' });
    expect(Object.keys(doc)).toEqual(['cluster', 'stages']);
    expect(Object.keys(doc.cluster)).toEqual(['cluster_token', 'control_plane_host', 'role', 'config']);
    expect(doc.cluster.cluster_token).toBe(TOKEN);
    expect(config['node-label']).toEqual([`zone=${hostile}`, `${CLUSTER_LABEL}=c-123`, `${POOL_LABEL}=${hostile}`]);
    expect(text.split(TOKEN)).toHaveLength(2);
  });

  it.each([
    ['no effect', 'dedicated=pos'],
    ['an unknown effect', 'dedicated=pos:Sometimes'],
    ['spaces', 'a b:NoSchedule'],
  ])('refuses a taint with %s', (_what, taint) => {
    expect(() => renderNodeConfig(input({ taints: [taint] }))).toThrow(expect.objectContaining({ code: 'invalid-taint', message: expect.stringContaining(taint) }));
  });

  it('refuses k8s layer values that are not a YAML mapping', () => {
    expect(() => renderNodeConfig(input({ layers: layers('k3s', { values: '- a\n- b\n' }) }))).toThrow(expect.objectContaining({ code: 'invalid-layer-values' }));
  });

  it('refuses an empty token placeholder', () => {
    expect(() => renderNodeConfig(input({ tokenPlaceholder: '' }))).toThrow(expect.objectContaining({ code: 'invalid-node-config' }));
  });

  it('is pure: the same input renders the same text', () => {
    expect(renderNodeConfig(input({ vip: VIP }))).toBe(renderNodeConfig(input({ vip: VIP })));
  });
});
