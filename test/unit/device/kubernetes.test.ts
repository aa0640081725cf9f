import {
  clusterStanza, distributionFromRelease, InvalidParameter, kubeNodeArgs, parseApplyParams, parseKubeNodeParams, parseNodeJson, serviceFor, validateNodeName,
  type Distribution, type KubeRole,
} from '../../../device/kubernetes.js';

const CC = 'cluster:\n  role: init\n';

describe('apply-cloud-config parameters', () => {
  it.each([
    [{ cloudConfig: CC }, { cloudConfig: CC, mode: 'write', reboot: false }],
    [{ yaml: CC, mode: 'bootstrap', readyTimeoutSeconds: 600 }, { cloudConfig: CC, mode: 'bootstrap', reboot: false, readyTimeoutSeconds: 600 }],
    [{ cloudConfig: CC, mode: 'restart', reboot: true, readyTimeoutSeconds: 1 }, { cloudConfig: CC, mode: 'restart', reboot: true, readyTimeoutSeconds: 1 }],
    [{ cloudConfig: CC, mode: 'reload', readyTimeoutSeconds: 86_400 }, { cloudConfig: CC, mode: 'reload', reboot: false, readyTimeoutSeconds: 86_400 }],
  ])('accepts %j', (params, expected) => {
    expect(parseApplyParams(params)).toEqual(expected);
  });

  it.each([
    [{}, /cloudConfig: required/],
    [{ cloudConfig: 5 }, /cloudConfig: required/],
    [{ cloudConfig: CC, mode: 'exec' }, /mode: must be one of write, bootstrap, restart, reload/],
    [{ cloudConfig: CC, mode: '-x' }, /mode: must be one of/],
    [{ cloudConfig: CC, mode: 'write\nrestart' }, /mode: must be one of/],
    [{ cloudConfig: CC, reboot: 'yes' }, /reboot: must be true or false/],
    [{ cloudConfig: CC, readyTimeoutSeconds: 0 }, /readyTimeoutSeconds: must be a whole number of seconds from 1 to 86400/],
    [{ cloudConfig: CC, readyTimeoutSeconds: 86_401 }, /readyTimeoutSeconds/],
    [{ cloudConfig: CC, readyTimeoutSeconds: 1.5 }, /readyTimeoutSeconds/],
    [{ cloudConfig: CC, readyTimeoutSeconds: '60' }, /readyTimeoutSeconds/],
    [{ cloudConfig: CC, shell: 'rm -rf /' }, /unknown parameter "shell"/],
  ])('refuses %j', (params, why) => {
    expect(() => parseApplyParams(params as Record<string, string | number | boolean>)).toThrow(InvalidParameter);
    expect(() => parseApplyParams(params as Record<string, string | number | boolean>)).toThrow(why);
  });
});

describe('kube-node parameters', () => {
  it.each([
    [{ action: 'drain', node: 'host-1' }, { action: 'drain', node: 'host-1', timeoutSeconds: 300 }],
    [{ action: 'cordon', node: 'edge.shop-1.example', timeoutSeconds: 3600 }, { action: 'cordon', node: 'edge.shop-1.example', timeoutSeconds: 3600 }],
    [{ action: 'delete', node: 'a', timeoutSeconds: 1 }, { action: 'delete', node: 'a', timeoutSeconds: 1 }],
  ])('accepts %j', (params, expected) => {
    expect(parseKubeNodeParams(params)).toEqual(expected);
  });

  it.each([
    [{ action: 'exec', node: 'h' }, /action: must be one of cordon, uncordon, drain, delete/],
    [{ action: 'drain' }, /node: required/],
    [{ action: 'drain', node: '-x' }, /not a DNS-1123 name/],
    [{ action: 'drain', node: '--kubeconfig=/tmp/evil' }, /not a DNS-1123 name/],
    [{ action: 'drain', node: 'host-1\n--force' }, /not a DNS-1123 name/],
    [{ action: 'drain', node: 'Host-1' }, /not a DNS-1123 name/],
    [{ action: 'drain', node: 'host 1' }, /not a DNS-1123 name/],
    [{ action: 'drain', node: `${'a'.repeat(64)}` }, /not a DNS-1123 name/],
    [{ action: 'drain', node: `${'a.'.repeat(127)}ab` }, /not a DNS-1123 name/],
    [{ action: 'drain', node: 'h', timeoutSeconds: 3601 }, /timeoutSeconds: must be a whole number of seconds from 1 to 3600/],
    [{ action: 'drain', node: 'h', timeoutSeconds: -1 }, /timeoutSeconds/],
    [{ action: 'drain', node: 'h', force: true }, /unknown parameter "force"/],
    [{ action: 'drain', node: 'h', 'disable-eviction': true }, /unknown parameter/],
  ])('refuses %j', (params, why) => {
    expect(() => parseKubeNodeParams(params as Record<string, string | number | boolean>)).toThrow(why);
  });

  test('a 253-character name of 63-character labels is fine', () => {
    const name = [`${'a'.repeat(63)}`, `${'b'.repeat(63)}`, `${'c'.repeat(63)}`, `${'d'.repeat(61)}`].join('.');
    expect(name).toHaveLength(253);
    expect(validateNodeName(name)).toBe(name);
  });
});

describe('kubectl argv', () => {
  it.each([
    ['cordon', ['--kubeconfig', '/k', 'cordon', 'n1']],
    ['uncordon', ['--kubeconfig', '/k', 'uncordon', 'n1']],
    ['drain', ['--kubeconfig', '/k', 'drain', 'n1', '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=120s']],
    ['delete', ['--kubeconfig', '/k', 'delete', 'node', 'n1', '--ignore-not-found']],
  ] as const)('%s', (action, argv) => {
    expect(kubeNodeArgs('/k', action, 'n1', 120)).toEqual(argv);
  });

  test('drain never bypasses PodDisruptionBudgets', () => {
    expect(kubeNodeArgs('/k', 'drain', 'n1', 5).join(' ')).not.toMatch(/disable-eviction|--force/);
  });
});

describe('services, releases and node JSON', () => {
  it.each([
    ['k3s', 'init', 'k3s'], ['k3s', 'control-plane', 'k3s'], ['k3s', 'worker', 'k3s-agent'],
    ['rke2', 'init', 'rke2-server'], ['rke2', 'worker', 'rke2-agent'], ['kubeadm', 'control-plane', 'kubelet'], ['kubeadm', 'worker', 'kubelet'],
  ])('%s %s restarts %s', (distribution, role, unit) => {
    expect(serviceFor(distribution as Distribution, role as KubeRole)).toBe(unit);
  });

  it.each([
    [{ KAIROS_SOFTWARE_VERSION_PREFIX: 'k3s' }, 'k3s'], [{ KAIROS_SOFTWARE_VERSION_PREFIX: 'rke2' }, 'rke2'], [{ KAIROS_SOFTWARE_VERSION_PREFIX: 'kubeadm' }, 'kubeadm'],
    [{ KAIROS_SOFTWARE_VERSION_PREFIX: 'k0s' }, undefined], [{}, undefined],
  ])('%j → %s', (release, distribution) => {
    expect(distributionFromRelease(release)).toBe(distribution);
  });

  test('Ready condition and kubelet version', () => {
    const node = (status: string) => JSON.stringify({ status: { conditions: [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status }], nodeInfo: { kubeletVersion: 'v1.32.3+k3s1' } } });
    expect(parseNodeJson(node('True'))).toEqual({ ready: true, cordoned: false, version: 'v1.32.3+k3s1' });
    expect(parseNodeJson(node('Unknown'))).toEqual({ ready: false, cordoned: false, version: 'v1.32.3+k3s1' });
    expect(parseNodeJson('{}')).toEqual({ ready: false, cordoned: false });
  });

  test('a cordoned node (spec.unschedulable, set by kubectl cordon or drain) says so', () => {
    const node = (spec: object) => JSON.stringify({ spec, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
    expect(parseNodeJson(node({ unschedulable: true }))).toMatchObject({ ready: true, cordoned: true });
    expect(parseNodeJson(node({ unschedulable: false }))).toMatchObject({ cordoned: false });
    expect(parseNodeJson(node({}))).toMatchObject({ cordoned: false });
  });
});

describe('cluster stanza', () => {
  it.each([
    ['no cluster', 'stages: {}\n', undefined],
    ['Kairos controlplane spelling', 'cluster:\n  role: controlplane\n  config: |\n    node-name: Edge-1\n', { role: 'control-plane', nodeName: 'edge-1' }],
    ['worker, hostname as the node name', 'hostname: shop-7\ncluster:\n  role: worker\n', { role: 'worker', nodeName: 'shop-7' }],
    ['default role init', 'cluster:\n  cluster_token: t\n', { role: 'init' }],
    ['kubeadm nodeRegistration', 'cluster:\n  role: init\n  config: |\n    initConfiguration:\n      nodeRegistration:\n        name: kh-1\n', { role: 'init', nodeName: 'kh-1' }],
    ['EdgeFleet node facts', `cluster:\n  role: worker\nstages:\n  initramfs:\n    - files:\n        - path: /etc/edgefleet/node.json\n          content: '{"hostId":"h-9","distribution":"rke2","kubernetesVersion":"1.31.4"}'\n`, { role: 'worker', nodeName: 'h-9', distribution: 'rke2', version: '1.31.4' }],
  ])('%s', (_what, text, expected) => {
    expect(clusterStanza(text)).toEqual(expected);
  });

  test('an unknown role is refused with the allowed ones', () => {
    expect(() => clusterStanza('cluster:\n  role: master\n')).toThrow(/cluster.role "master" is not init, controlplane or worker/);
  });
});
