import { windowSeconds, createDiagnosticsBody } from '../../../lambdas/contracts/diagnostics.js';
import type { CommandState } from '../../../lambdas/domain/command.js';
import { canCollect, followCommand, type DiagnosticsRecord, type DiagnosticsStatus } from '../../../lambdas/domain/diagnostics.js';

const record = (status: DiagnosticsStatus, extra: Partial<DiagnosticsRecord> = {}): DiagnosticsRecord => ({
  id: 'd1', project: 'p', hostId: 'h1', status, since: '2026-11-30T09:00:00.000Z', window: '1h', requestedBy: 'alice',
  requestedAt: '2026-11-30T10:00:00.000Z', updatedAt: '2026-11-30T10:00:00.000Z', commandId: 'diag-d1', deadline: '2026-11-30T10:15:00.000Z',
  objectKey: 'diagnostics/p/h1/d1.tar.gz', maxBytes: 1024, version: 1, ...extra,
});
const BUNDLE = { bytes: 100, sha256: 'a'.repeat(64) };
const cmd = (state: CommandState, extra: { detail?: string; reason?: string; bundle?: typeof BUNDLE } = {}) => ({
  state, hostId: 'h1', deadline: '2026-11-30T10:15:00.000Z', updatedAt: '2026-11-30T10:05:00.000Z', ...extra,
});

describe('followCommand: the request follows its command', () => {
  it.each<[string, DiagnosticsStatus, ReturnType<typeof cmd>, DiagnosticsStatus | undefined, RegExp | undefined]>([
    ['sent: nothing changes', 'requested', cmd('sent'), undefined, undefined],
    ['accepted: collecting', 'requested', cmd('accepted'), 'collecting', undefined],
    ['progress: collecting with what the host says', 'requested', cmd('progress', { detail: 'uploading' }), 'collecting', /uploading/],
    ['succeeded with the bundle: uploaded', 'collecting', cmd('succeeded', { bundle: BUNDLE }), 'uploaded', undefined],
    ['succeeded without size and checksum: failed, saying so', 'collecting', cmd('succeeded'), 'failed', /without its size and checksum/],
    ['failed: failed with the host\'s reason', 'collecting', cmd('failed', { detail: 'upload refused: HTTP 403 AccessDenied' }), 'failed', /HTTP 403 AccessDenied/],
    ['timed out: failed naming the deadline and what to do', 'requested', cmd('timed-out', { reason: 'deadline-passed' }), 'failed', /did not upload the bundle before 2026-11-30T10:15:00.000Z.*edgefleet hosts get h1/],
    ['superseded: failed', 'requested', cmd('superseded', { reason: 'withdrawn' }), 'failed', /withdrawn/],
    ['a finished request never changes: uploaded', 'uploaded', cmd('failed', { detail: 'late' }), undefined, undefined],
    ['a finished request never changes: failed', 'failed', cmd('succeeded', { bundle: BUNDLE }), undefined, undefined],
  ])('%s', (_name, from, c, to, reason) => {
    const next = followCommand(record(from), c);
    if (to === undefined) return expect(next).toBeUndefined();
    expect(next).toMatchObject({ status: to, version: 2, updatedAt: c.updatedAt });
    if (reason) expect(next!.statusReason).toMatch(reason);
    if (to === 'uploaded') expect(next!.bundle).toEqual(BUNDLE);
  });

  it('a repeated progress with the same detail changes nothing', () => {
    const once = followCommand(record('requested'), cmd('progress', { detail: 'x' }))!;
    expect(followCommand(once, cmd('progress', { detail: 'x' }))).toBeUndefined();
  });
});

describe('canCollect', () => {
  it.each([
    ['approved', true], ['in-cluster', true], ['pre-registered', false], ['pending', false], ['rejected', false], ['decommissioned', false],
  ] as const)('%s → %s', (status, ok) => expect(canCollect(status).ok).toBe(ok));
});

describe('the window', () => {
  it.each([['30m', 1800], ['1h', 3600], ['2d', 172_800], ['7d', 604_800], ['168h', 604_800]])('%s is %i s', (w, s) => {
    expect(createDiagnosticsBody.safeParse({ since: w }).success).toBe(true);
    expect(windowSeconds(w)).toBe(s);
  });
  it.each(['8d', '169h', '0h', '1w', '1', 'h', '-1h', '1.5h', ''])('%j is refused', (w) => {
    expect(createDiagnosticsBody.safeParse({ since: w }).success).toBe(false);
  });
});
