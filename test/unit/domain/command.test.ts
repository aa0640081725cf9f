import {
  applyResult, expire, markSent, supersede, unsend, type CommandRecord, type CommandResult, type CommandState,
} from '../../../lambdas/domain/command.js';

const NOW = new Date('2026-01-01T00:00:00Z');
const cmd = (state: CommandState, extra: Partial<CommandRecord> = {}): CommandRecord => ({
  hostId: 'h1', commandId: 'c1', type: 'reboot', params: {}, deadline: '2026-01-01T01:00:00Z',
  state, version: 3, createdAt: '2025-12-31T23:00:00Z', updatedAt: '2025-12-31T23:00:00Z', ...extra,
});
const r = (phase: CommandResult['phase'], progress?: number): CommandResult => ({ phase, ...(progress !== undefined ? { progress } : {}) });

describe('applyResult', () => {
  it.each<[string, CommandRecord | undefined, CommandResult, string]>([
    ['unknown command', undefined, r('accepted'), 'ignored:unknown-command'],
    ['sent → accepted', cmd('sent'), r('accepted'), 'applied:accepted'],
    ['queued → accepted (device got it before markSent)', cmd('queued'), r('accepted'), 'applied:accepted'],
    ['accepted → progress', cmd('accepted'), r('progress', 10), 'applied:progress'],
    ['progress → more progress', cmd('progress', { progress: 10 }), r('progress', 50), 'applied:progress'],
    ['progress → same progress (duplicate)', cmd('progress', { progress: 50 }), r('progress', 50), 'ignored:duplicate'],
    ['progress → less progress', cmd('progress', { progress: 50 }), r('progress', 20), 'ignored:duplicate'],
    ['progress → succeeded', cmd('progress'), r('succeeded'), 'applied:succeeded'],
    ['sent → failed', cmd('sent'), r('failed'), 'applied:failed'],
    ['accepted again (duplicate)', cmd('accepted'), r('accepted'), 'ignored:duplicate'],
    ['accepted after progress (out of order)', cmd('progress'), r('accepted'), 'ignored:out-of-order'],
    ['succeeded again (a redelivery: its follow-ups run again)', cmd('succeeded'), r('succeeded'), 'redelivered:succeeded'],
    ['failed again (a redelivery)', cmd('failed'), r('failed'), 'redelivered:failed'],
    ['failed after succeeded', cmd('succeeded'), r('failed'), 'ignored:finished'],
    ['anything after timed-out', cmd('timed-out'), r('succeeded'), 'ignored:finished'],
    ['result past the deadline', cmd('progress', { deadline: '2025-12-31T23:59:59Z' }), r('succeeded'), 'timed-out:timed-out'],
  ])('%s', (_n, c, result, expected) => {
    const out = applyResult(c, result, NOW);
    const label = out.kind === 'ignored' ? `ignored:${out.reason}` : out.kind === 'redelivered' ? `redelivered:${out.current.state}` : `${out.kind}:${out.next.state}`;
    expect(label).toBe(expected);
    if (out.kind === 'redelivered') expect(out.current).toBe(c); // nothing to write
    if (out.kind === 'applied' || out.kind === 'timed-out') {
      expect(out.next.version).toBe(c!.version + 1);
      expect(out.next.updatedAt).toBe(NOW.toISOString());
      if (['succeeded', 'failed', 'timed-out'].includes(out.next.state)) expect(out.next.endedAt).toBe(NOW.toISOString());
    }
  });

  it('a whole lifecycle, with duplicates, ends succeeded at 100%', () => {
    let c: CommandRecord = cmd('queued');
    c = markSent(c, NOW)!;
    for (const res of [r('accepted'), r('accepted'), r('progress', 30), r('progress', 30), r('succeeded'), r('failed')]) {
      const out = applyResult(c, res, NOW);
      if (out.kind === 'applied' || out.kind === 'timed-out') c = out.next;
    }
    expect(c).toMatchObject({ state: 'succeeded', progress: 100, version: 3 + 1 + 3 });
  });
});

describe('expire and markSent', () => {
  it.each<[CommandState, string, string]>([
    ['queued', '2025-12-31T23:00:00Z', 'timed-out'],
    ['sent', '2025-12-31T23:00:00Z', 'timed-out'],
    ['progress', '2025-12-31T23:00:00Z', 'timed-out'],
    ['sent', '2026-01-01T00:00:00Z', 'unchanged'],
    ['succeeded', '2025-12-31T23:00:00Z', 'unchanged'],
    ['failed', '2025-12-31T23:00:00Z', 'unchanged'],
  ])('%s with deadline %s → %s', (state, deadline, expected) => {
    const out = expire(cmd(state, { deadline }), NOW);
    expect(out?.state ?? 'unchanged').toBe(expected);
    if (out) expect(out.reason).toBe('deadline-passed');
  });

  it('marks only a queued command sent', () => {
    expect(markSent(cmd('queued'), NOW)).toMatchObject({ state: 'sent', sentAt: NOW.toISOString(), version: 4 });
    for (const s of ['sent', 'accepted', 'succeeded'] as const) expect(markSent(cmd(s), NOW)).toBeUndefined();
  });
});

describe('unsend: a command stored as sent whose publish failed goes back to queued', () => {
  it.each<[CommandState, boolean]>([
    ['sent', true],
    ['queued', false], ['accepted', false], ['progress', false], ['succeeded', false], ['failed', false], ['timed-out', false], ['superseded', false],
  ])('%s → queued: %s', (state, changes) => {
    const out = unsend(cmd(state, { sentAt: '2025-12-31T23:00:00Z' }), NOW);
    if (!changes) return expect(out).toBeUndefined();
    expect(out).toEqual(cmd('queued', { version: 4, updatedAt: NOW.toISOString() }));
  });
});

describe('supersede: a command of an ended run is never delivered', () => {
  it.each<[CommandState, boolean]>([
    ['queued', true], ['sent', true],
    // the device has it: it finishes (an image being written is not interrupted), its result is kept
    ['accepted', false], ['progress', false],
    ['succeeded', false], ['failed', false], ['timed-out', false], ['superseded', false],
  ])('%s → superseded: %s', (state, changes) => {
    const out = supersede(cmd(state), NOW, 'operation op-1 is paused');
    if (!changes) return expect(out).toBeUndefined();
    expect(out).toMatchObject({ state: 'superseded', reason: 'operation op-1 is paused', endedAt: NOW.toISOString(), version: 4 });
  });

  it('a superseded command ignores late results (it is finished)', () => {
    const out = supersede(cmd('sent'), NOW, 'run replaced')!;
    expect(applyResult(out, r('accepted'), NOW)).toEqual({ kind: 'ignored', reason: 'finished' });
    expect(expire(out, new Date('2027-01-01T00:00:00Z'))).toBeUndefined();
  });
});
