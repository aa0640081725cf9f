import { kubeletFromImage } from '../../../device/upgrade.js';
import { kairosVersionOfImage, kubeletOfImage, parseImageTag } from '../../../lambdas/domain/image-tag.js';

/** Real-world tag shapes (Kairos releases, the rke2/kubeadm/k0s providers, CanvOS) and what they carry. */
const TABLE: [string, { shape: string; kairos?: string; dist?: string; k8s?: string }][] = [
  ['quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.5.0-k3sv1.31.2-k3s1', { shape: 'kairos', kairos: 'v3.5.0', dist: 'k3s', k8s: '1.31.2' }],
  ['quay.io/kairos/alpine:3.21-standard-amd64-generic-v3.5.0-k3s-v1.33.2-k3s1', { shape: 'kairos', kairos: 'v3.5.0', dist: 'k3s', k8s: '1.33.2' }],
  ['quay.io/kairos/opensuse:leap-15.6-standard-amd64-generic-v3.5.0-rke2v1.31.2-rke2r1', { shape: 'kairos', kairos: 'v3.5.0', dist: 'rke2', k8s: '1.31.2' }],
  ['quay.io/kairos/ubuntu:22.04-standard-amd64-generic-v3.5.0-rke2-v1.30.4-rke2r1', { shape: 'kairos', kairos: 'v3.5.0', dist: 'rke2', k8s: '1.30.4' }],
  ['quay.io/kairos/ubuntu:22.04-standard-amd64-generic-v3.5.0-kubeadmv1.30.4', { shape: 'kairos', kairos: 'v3.5.0', dist: 'kubeadm', k8s: '1.30.4' }],
  ['quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.7.2-k0s-v1.34.3-k0s.0', { shape: 'kairos', kairos: 'v3.7.2', dist: 'k0s', k8s: '1.34.3' }],
  ['quay.io/kairos/rockylinux:9-standard-amd64-generic-v3.4.2-k3sv1.32.3-k3s1', { shape: 'kairos', kairos: 'v3.4.2', dist: 'k3s', k8s: '1.32.3' }],
  ['quay.io/kairos/opensuse:leap-15.6-standard-arm64-rpi4-v3.2.1-rc2-k3sv1.30.4-k3s1', { shape: 'kairos', kairos: 'v3.2.1-rc2', dist: 'k3s', k8s: '1.30.4' }],
  ['quay.io/kairos/kairos-ubuntu:v2.4.3-k3sv1.27.3-k3s1', { shape: 'kairos', kairos: 'v2.4.3', dist: 'k3s', k8s: '1.27.3' }],
  ['registry.local:5000/kairos/ubuntu:24.04-standard-amd64-generic-v3.5.0-k3sv1.31.2-k3s1@sha256:abc', { shape: 'kairos', kairos: 'v3.5.0', dist: 'k3s', k8s: '1.31.2' }],
  ['quay.io/kairos/ubuntu:24.04-core-amd64-generic-v3.5.0', { shape: 'kairos', kairos: 'v3.5.0' }],
  ['registry.example.com/edge/canvos:k3s-1.32.1-v4.5.7-demo', { shape: 'canvos', dist: 'k3s', k8s: '1.32.1' }],
  ['registry.example.com/edge/canvos:rke2-1.31.2-v4.5.7-store', { shape: 'canvos', dist: 'rke2', k8s: '1.31.2' }],
  ['registry.example.com/edge/canvos:kubeadm-1.30.4-v4.4.0-plant', { shape: 'canvos', dist: 'kubeadm', k8s: '1.30.4' }],
  ['quay.io/kairos/ubuntu:22.04-k3s', { shape: 'unknown' }],
  ['registry.local:5000/kairos/ubuntu', { shape: 'unknown' }],
  ['quay.io/kairos/ubuntu@sha256:0123abcd', { shape: 'unknown' }],
  ['registry.example.com/custom/os:2026.11', { shape: 'unknown' }],
];

describe('parseImageTag()', () => {
  it.each(TABLE)('%s', (image, want) => {
    const t = parseImageTag(image);
    expect({ shape: t.shape, kairos: t.kairosVersion, dist: t.distribution, k8s: t.kubernetesVersion })
      .toEqual({ shape: want.shape, kairos: want.kairos, dist: want.dist, k8s: want.k8s });
    expect(kairosVersionOfImage(image)).toBe(want.kairos);
    expect(kubeletOfImage(image)).toBe(want.k8s ? `v${want.k8s}` : undefined);
  });

  it('splits repository, tag and digest (a registry port is not a tag)', () => {
    expect(parseImageTag('registry.local:5000/kairos/ubuntu:24.04-core-amd64-generic-v3.5.0@sha256:abc'))
      .toMatchObject({ repository: 'registry.local:5000/kairos/ubuntu', tag: '24.04-core-amd64-generic-v3.5.0', digest: 'sha256:abc' });
  });
});

describe('the agent\'s kubeletFromImage agrees with the domain parser', () => {
  // device/ may not import the domain: it keeps its own copy; this keeps the two equal on the
  // Kairos provider shapes for the distributions EdgeFleet runs.
  it.each(TABLE.filter(([, w]) => w.shape === 'kairos' && w.dist !== 'k0s'))('%s', (image) => {
    expect(kubeletFromImage(image)).toBe(kubeletOfImage(image));
  });
});
