import { statusMessage } from '../../../lambdas/contracts/mqtt.js';
import type { KairosState } from '../../../device/kairos.js';
import { bootReport, dueReport, fingerprint, nextSeq, statusReport } from '../../../device/status-report.js';
import { inventory } from './agent-harness.js';

const base: KairosState = {
  boot: 'active', kairosVersion: 'v3.4.2', osRelease: '24.04', image: 'quay.io/kairos/ubuntu:v3.4.2', digest: `sha256:${'a'.repeat(64)}`, flavor: 'ubuntu',
  partitions: { active: { image: 'quay.io/kairos/ubuntu:v3.4.2' }, passive: { image: 'quay.io/kairos/ubuntu:v3.4.1' } },
  bootedAt: 1000, kubernetes: { ready: true, role: 'worker', version: 'v1.31.2', cordoned: false, nodeName: 'n1', heartbeatAt: 5 },
};

describe('status decisions (pure)', () => {
  it.each<[string, Partial<KairosState>]>([
    ['the booted partition', { boot: 'passive' }],
    ['the Kairos version', { kairosVersion: 'v3.5.0' }],
    ['the OS release', { osRelease: '24.10' }],
    ['the running image', { image: 'quay.io/kairos/ubuntu:v3.5.0' }],
    ['the digest', { digest: `sha256:${'b'.repeat(64)}` }],
    ['the flavor', { flavor: 'debian' }],
    ['what the partitions hold', { partitions: { active: { image: 'x:1' } } }],
    ['Kubernetes readiness', { kubernetes: { ...base.kubernetes!, ready: false } }],
    ['the kubelet version', { kubernetes: { ...base.kubernetes!, version: 'v1.32.0' } }],
    ['the node role', { kubernetes: { ...base.kubernetes!, role: 'control-plane' } }],
    ['cordoned', { kubernetes: { ...base.kubernetes!, cordoned: true } }],
    ['the node leaving', { kubernetes: undefined }],
  ])('a change of %s is a change', (_what, change) => {
    expect(fingerprint({ ...base, ...change })).not.toBe(fingerprint(base));
  });

  it.each<[string, Partial<KairosState>]>([
    ['the boot time', { bootedAt: 2000 }],
    ['the kubelet heartbeat', { kubernetes: { ...base.kubernetes!, heartbeatAt: 99 } }],
    ['the node name', { kubernetes: { ...base.kubernetes!, nodeName: 'n2' } }],
  ])('%s alone is no change (nothing is sent)', (_what, change) => {
    expect(fingerprint({ ...base, ...change })).toBe(fingerprint(base));
  });

  it.each([
    // now, last full, fullReportSeconds → due
    [10_000, 0, 3600, 'change-only'],
    [3_600_000, 0, 3600, 'full'],
    [3_599_999, 0, 3600, 'change-only'],
    [7_200_000, 3_600_000, 3600, 'full'],
    [5_000, 4_000, 1, 'full'],
    [4_999, 4_000, 1, 'change-only'],
  ] as const)('at %d ms, last full report at %d ms, every %d s: %s', (now, lastFull, every, due) => {
    expect(dueReport(now, lastFull, every)).toBe(due);
  });

  it.each([
    [0, 1700000000000, 1700000000000],
    [1700000000000, 1700000000000, 1700000000001],
    [1700000000500, 1700000000000, 1700000000501],
  ])('after seq %d at %d ms the next seq is %d (strictly increasing, also when the clock goes back)', (last, now, next) => {
    expect(nextSeq(last, now)).toBe(next);
  });

  it('the boot report names the running image, the partitions and a flavor cut to 64 characters', () => {
    expect(bootReport({ ...base, flavor: 'f'.repeat(100) })).toEqual({
      state: 'active', kairosVersion: 'v3.4.2', osRelease: '24.04', image: 'quay.io/kairos/ubuntu:v3.4.2', digest: `sha256:${'a'.repeat(64)}`, flavor: 'f'.repeat(64),
      partitions: { active: { image: 'quay.io/kairos/ubuntu:v3.4.2' }, passive: { image: 'quay.io/kairos/ubuntu:v3.4.1' } },
    });
    expect(bootReport({ boot: 'unknown' })).toEqual({ state: 'unknown' });
  });

  it('a full report carries the inventory, a change report does not; both are valid status messages', () => {
    const at = new Date('2026-11-30T00:00:00Z');
    const full = statusReport(base, { kind: 'full', seq: 1, at, inventory });
    const change = statusReport({ boot: 'active' }, { kind: 'change', seq: 2, at, inventory });
    expect(statusMessage.parse(full)).toMatchObject({ kind: 'full', inventory, kubernetes: { ready: true, role: 'worker', version: 'v1.31.2', cordoned: false } });
    expect(statusMessage.parse(change)).not.toHaveProperty('inventory');
    expect(change).not.toHaveProperty('kubernetes');
  });
});
