import { kubeletCore, kubeletFromImage, kubernetesFromImage, parsePreflightParams, parseUpgradeParams, sameKubelet, validateKubeletVersion } from '../../../device/upgrade.js';

/** upgrade / preflight parameters and kubelet version rules (pure). */

const IMG = 'quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.5.0-k3sv1.31.2-k3s1';

describe('upgrade parameters', () => {
  it.each([
    [{ image: IMG }, { image: IMG, recovery: false, version: 'v3.5.0' }],
    [{ image: IMG, kubeletVersion: 'v1.31.2' }, { image: IMG, recovery: false, version: 'v3.5.0', kubeletVersion: 'v1.31.2' }],
    [{ image: IMG, kubeletVersion: 'v1.31.2+k3s1', version: 'v3.5.0-rc1' }, { image: IMG, recovery: false, version: 'v3.5.0-rc1', kubeletVersion: 'v1.31.2+k3s1' }],
    [{ image: IMG, recovery: true }, { image: IMG, recovery: true, version: 'v3.5.0' }],
  ])('%j → %j', (params, expected) => {
    expect(parseUpgradeParams(params)).toEqual(expected);
  });

  it.each([
    [{ image: IMG, kubeletVersion: '--kubeconfig=/etc/shadow' }, /kubeletVersion: must not start with "-"/],
    [{ image: IMG, kubeletVersion: 'v1.31.2; reboot' }, /kubeletVersion: "v1.31.2; reboot" is not a Kubernetes version/],
    [{ image: IMG, kubeletVersion: 'latest' }, /is not a Kubernetes version/],
    [{ image: IMG, kubeletVersion: '$(id)' }, /is not a Kubernetes version/],
    [{ image: IMG, kubeletVersion: 131 }, /kubeletVersion: must be a Kubernetes version/],
    [{ image: IMG, kubeletVersion: '' }, /kubeletVersion: must be a Kubernetes version/],
    [{ image: IMG, kubeletVersion: `v1.31.2+${'a'.repeat(80)}` }, /is not a Kubernetes version/],
    [{ image: IMG, version: '-v3.5.0' }, /version: must be a Kairos version/],
    [{ image: IMG, version: 'v3.5.0\nrm -rf' }, /version: must be a Kairos version/],
    [{ image: IMG, recovery: 'yes' }, /recovery: must be true or false/],
    [{ image: '--source=/evil' }, /image: must not start with "-"/],
    [{ image: IMG, shell: 'sh -c id' }, /unknown parameter "shell"/],
    [{}, /image: required/],
  ])('refuses %j', (params, message) => {
    expect(() => parseUpgradeParams(params)).toThrow(message);
  });
});

describe('preflight parameters', () => {
  it('accepts image and requiredFreeMb', () => {
    expect(parsePreflightParams({ image: IMG, requiredFreeMb: 9000 })).toEqual({ image: IMG, requiredFreeMb: 9000 });
  });

  it.each([
    [{ image: IMG }, /requiredFreeMb: must be a whole number/],
    [{ image: IMG, requiredFreeMb: -1 }, /requiredFreeMb/],
    [{ image: IMG, requiredFreeMb: 1.5 }, /requiredFreeMb/],
    [{ image: IMG, requiredFreeMb: '9000' }, /requiredFreeMb/],
    [{ image: IMG, requiredFreeMb: 2_000_000 }, /requiredFreeMb/],
    [{ image: '-oci:evil', requiredFreeMb: 1 }, /image: must not start with "-"/],
    [{ image: IMG, requiredFreeMb: 1, command: 'df' }, /unknown parameter "command"/],
  ])('refuses %j', (params, message) => {
    expect(() => parsePreflightParams(params)).toThrow(message);
  });
});

describe('kubelet versions', () => {
  it.each([
    ['v1.31.2', '1.31.2'],
    ['1.31.2', '1.31.2'],
    ['v1.31.2+k3s1', '1.31.2'],
    ['v1.31.2+rke2r1', '1.31.2'],
    ['v1.31.02', '1.31.2'],
    ['v1.31', undefined],
    ['banana', undefined],
    [undefined, undefined],
  ])('core of %s is %s', (v, core) => {
    expect(kubeletCore(v)).toBe(core);
  });

  it.each([
    ['v1.31.2+k3s1', 'v1.31.2', true],
    ['v1.31.2', 'v1.31.2+k3s2', true],
    ['v1.30.4+k3s1', 'v1.31.2', false],
    ['v1.31.20', 'v1.31.2', false],
    [undefined, 'v1.31.2', false],
  ])('reported %s vs expected %s → %s', (reported, expected, same) => {
    expect(sameKubelet(reported, expected)).toBe(same);
  });

  it.each([
    [IMG, 'v1.31.2'],
    ['quay.io/kairos/opensuse:leap-15.6-standard-amd64-generic-v3.5.0-rke2v1.31.2-rke2r1', 'v1.31.2'],
    ['quay.io/kairos/ubuntu:24.04-core-amd64-generic-v3.5.0', undefined],
    ['registry.local:5000/os@sha256:' + 'a'.repeat(64), undefined],
  ])('%s carries kubelet %s', (image, v) => {
    expect(kubeletFromImage(image)).toBe(v);
  });

  it.each([
    [IMG, { distribution: 'k3s', kubeletVersion: 'v1.31.2+k3s1' }],
    ['quay.io/kairos/opensuse:leap-15.6-standard-amd64-generic-v3.5.0-rke2v1.31.2-rke2r1', { distribution: 'rke2', kubeletVersion: 'v1.31.2+rke2r1' }],
    ['quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.5.0-k3sv1.33.1', { distribution: 'k3s', kubeletVersion: 'v1.33.1' }],
    ['oci.example.com/canvos/ubuntu:k3s-1.32.1-v4.5.7-demo', { distribution: 'k3s', kubeletVersion: 'v1.32.1' }],
    ['oci.example.com/canvos/ubuntu:kubeadm-1.31.4-v4.5.7', { distribution: 'kubeadm', kubeletVersion: 'v1.31.4' }],
    ['quay.io/kairos/ubuntu:24.04-core-amd64-generic-v3.5.0', undefined],
    ['quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.5.0', undefined],
  ])('%s carries Kubernetes %j', (image, k) => {
    expect(kubernetesFromImage(image)).toEqual(k);
  });

  it('validateKubeletVersion returns the value as given', () => {
    expect(validateKubeletVersion('v1.31.2+k3s1')).toBe('v1.31.2+k3s1');
  });
});
