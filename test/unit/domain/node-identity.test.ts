import { judgeAtTarget, parseImageRef, sameImage, type NodeTarget, type ReportedNode } from '../../../lambdas/domain/node-identity.js';

const UB_OLD = 'quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.5.0-k3sv1.31.2-k3s1';
const UB_NEW = 'quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.5.5-k3sv1.31.4-k3s1';
const SUSE_NEW = 'quay.io/kairos/opensuse:leap-15.6-standard-amd64-generic-v3.5.5-k3sv1.31.4-k3s1';
const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;

const target: NodeTarget = { image: UB_NEW, flavor: 'ubuntu', kairosVersion: 'v3.5.5', kubeletVersion: 'v1.31.4' };
const at = (o: Partial<ReportedNode['boot']> = {}, k: ReportedNode['kubernetes'] | null = { ready: true, version: 'v1.31.4+k3s1' }): ReportedNode => ({
  boot: { state: 'active', kairosVersion: 'v3.5.5', image: UB_NEW, flavor: 'ubuntu', partitions: { active: { image: UB_NEW }, passive: { image: UB_OLD } }, ...o },
  ...(k ? { kubernetes: k } : {}),
});

describe('judgeAtTarget(): identity, not version strings', () => {
  it.each<[string, ReportedNode | undefined, NodeTarget, string | undefined]>([
    ['booted active at the target image, Ready at the target kubelet', at(), target, undefined],
    ['same digest under another tag name counts as the same image', at({ image: 'quay.io/kairos/ubuntu:mirror', digest: D1 }), { ...target, digest: D1 }, undefined],
    ['no report yet', undefined, target, 'h1 has not reported its status yet'],
    ['fell back: booted passive on the old image, the failed image still in active', at({ state: 'passive', image: UB_OLD, kairosVersion: 'v3.5.0' }), target,
      `h1 booted passive running ${UB_OLD}; its active partition holds ${UB_NEW} (Kairos fell back)`],
    ['rollback verification: booted passive on the previous image is not rolled back', at({ state: 'passive', image: UB_OLD, partitions: { active: { image: UB_NEW }, passive: { image: UB_OLD } } }),
      { image: UB_OLD, flavor: 'ubuntu', kubeletVersion: 'v1.31.4' }, `h1 booted passive running ${UB_OLD}; its active partition holds ${UB_NEW} (Kairos fell back)`],
    ['another flavour with the same Kairos version', at({ image: SUSE_NEW, flavor: 'opensuse' }), target, `h1 runs ${SUSE_NEW}, not ${UB_NEW}`],
    ['the right tag but other contents (digest differs)', at({ digest: D2 }), { ...target, digest: D1 }, `h1 runs ${UB_NEW}@${D2}, not ${UB_NEW}@${D1}`],
    ['the image that runs is right but the active partition was overwritten since', at({ partitions: { active: { image: UB_OLD } } }), target,
      `h1 booted active but its active partition holds ${UB_OLD}, not ${UB_NEW}`],
    ['an agent that reports no image identity is not taken at its version string', at({ image: undefined }), target,
      `h1 reports no running image identity (its agent predates image reporting), so it cannot be shown to run ${UB_NEW}`],
    ['flavour reported differs though the tag matches (wrong contents)', at({ flavor: 'alpine' }), target, 'h1 runs the alpine flavour, not ubuntu'],
    ['Ready at another kubelet', at({}, { ready: true, version: 'v1.31.2+k3s1' }), target, 'h1 is Ready at kubelet v1.31.2+k3s1, not v1.31.4'],
    ['not Ready', at({}, { ready: false, version: 'v1.31.4+k3s1' }), target, 'h1 is not Ready in Kubernetes'],
    ['no Kubernetes node', at({}, null), target, 'h1 is not Ready in Kubernetes (no Kubernetes node reported)'],
    ['no target image (reboot-only target): the Kairos version is all there is', at({ kairosVersion: 'v3.5.0' }), { kairosVersion: 'v3.5.5', kubeletVersion: 'v1.31.4' }, 'h1 runs Kairos v3.5.0, not v3.5.5'],
  ])('%s', (_name, report, t, reason) => {
    const v = judgeAtTarget('h1', report, t);
    expect(v).toEqual(reason === undefined ? { at: true } : { at: false, reason });
  });
});

describe('image references', () => {
  it.each([
    ['ubuntu', { name: 'docker.io/library/ubuntu', tag: 'latest' }],
    ['kairos/ubuntu:1', { name: 'docker.io/kairos/ubuntu', tag: '1' }],
    ['localhost:5000/k/u:2@sha256:abc', { name: 'localhost:5000/k/u', tag: '2', digest: 'sha256:abc' }],
    ['Quay.io/Kairos/ubuntu:T', { name: 'quay.io/kairos/ubuntu', tag: 'T' }],
  ])('%s', (ref, parsed) => expect(parseImageRef(ref)).toEqual(parsed));

  it.each([
    [{ image: 'ubuntu:24.04' }, { image: 'docker.io/library/ubuntu:24.04' }, true],
    [{ image: UB_NEW }, { image: UB_OLD }, false],
    [{ image: UB_NEW, digest: D1 }, { image: UB_NEW, digest: D2 }, false],
    [{ image: UB_NEW, digest: D1 }, { image: UB_NEW }, true],
    [{ image: `${UB_NEW}@${D1}` }, { image: 'other.io/x:y', digest: D1 }, true],
  ])('sameImage(%j, %j) = %s', (a, b, same) => expect(sameImage(a, b)).toBe(same));
});
