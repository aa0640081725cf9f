import type { ReportedNode } from '../../../lambdas/domain/node-identity.js';
import { decideRepave, osTargetOf } from '../../../lambdas/domain/repave.js';

const IMAGE = 'quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.5.0-k3sv1.31.2-k3s1';
const OTHER = 'quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.4.2-k3sv1.32.3-k3s1';
const OPENSUSE = 'quay.io/kairos/opensuse:leap-15.6-standard-amd64-generic-v3.5.0-k3sv1.31.2-k3s1';
const running = (image: string, over: Partial<ReportedNode['boot']> = {}): ReportedNode => ({
  boot: { state: 'active', image, flavor: image.includes('opensuse') ? 'opensuse' : 'ubuntu', partitions: { active: { image } }, ...over },
});

describe('osTargetOf(): what a joining host must run', () => {
  it('the os layer\'s image, its flavour (the pack) and the Kairos version of its tag', () => {
    expect(osTargetOf([{ type: 'os', pack: 'ubuntu', version: '24.04', image: IMAGE }, { type: 'k8s', pack: 'k3s', version: '1.31.2' }]))
      .toEqual({ image: IMAGE, flavor: 'ubuntu', kairosVersion: 'v3.5.0' });
  });
  it('none when the os layer names no image', () => {
    expect(osTargetOf([{ type: 'os', pack: 'ubuntu', version: '24.04' }, { type: 'k8s', pack: 'k3s', version: '1.31.2' }])).toBeUndefined();
  });
});

describe('decideRepave(): which joining hosts are repaved before they join', () => {
  const target = { image: IMAGE, flavor: 'ubuntu', kairosVersion: 'v3.5.0' };
  it.each<[string, ReportedNode | undefined, 'repave' | string]>([
    ['runs another image', running(OTHER), 'repave'],
    ['runs another OS flavour of the same Kairos and Kubernetes (an OS-flavour-only difference)', running(OPENSUSE), 'repave'],
    ['has not reported its status', undefined, 'repave'],
    ['booted passive into the image (Kairos fell back)', running(IMAGE, { state: 'passive' }), 'repave'],
    ['reports no running image identity (an older agent)', { boot: { state: 'active', kairosVersion: 'v3.5.0' } }, 'repave'],
    ['booted active but its active partition holds another image', running(IMAGE, { partitions: { active: { image: OTHER } } }), 'repave'],
    ['runs the image, booted active', running(IMAGE), 'h1 is skipped: already runs quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.5.0-k3sv1.31.2-k3s1 (booted active): not repaved'],
  ])('a host that %s → %s', (_name, report, expected) => {
    const d = decideRepave(['h1'], target, new Map([['h1', report]]));
    if (expected === 'repave') {
      expect(d).toEqual({ repave: ['h1'], skipped: [] });
    } else {
      expect(d.repave).toEqual([]);
      expect(`h1 is skipped: ${d.skipped[0]!.reason}`).toBe(expected);
    }
  });

  it('keeps the hosts\' order; without a target no host is repaved and each says why', () => {
    const reported = new Map([['a', running(OTHER)], ['b', running(IMAGE)], ['c', undefined]]);
    expect(decideRepave(['c', 'b', 'a'], target, reported).repave).toEqual(['c', 'a']);
    expect(decideRepave(['a', 'b'], undefined, reported)).toEqual({
      repave: [], skipped: ['a', 'b'].map((hostId) => ({ hostId, reason: 'the profile\'s os layer names no image: the host keeps the image it runs' })),
    });
  });
});
