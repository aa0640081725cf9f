import type { CommandState } from '../../../lambdas/domain/command.js';
import {
  agentUpdateCommandId, decideAgentUpdate, followAgentUpdateCommand, overdueAgentUpdate, versionReported, VERSION_REPORT_GRACE_SECONDS, type AgentUpdateFacts,
} from '../../../lambdas/domain/agent-update.js';
import type { AgentUpdateOperation, OperationStatus } from '../../../lambdas/domain/model.js';

const facts = (extra: Partial<AgentUpdateFacts> = {}): AgentUpdateFacts => ({
  hostId: 'h1', hostStatus: 'approved', presence: 'online', reportedVersion: '0.1.0', publishedVersion: '0.2.0', requested: '0.2.0', ...extra,
});

describe('decideAgentUpdate: may the update start, and if not, what to tell the operator', () => {
  it.each<[string, Partial<AgentUpdateFacts>, string | undefined, RegExp | undefined]>([
    ['approved, online, older version: starts', {}, undefined, undefined],
    ['in a cluster: starts', { hostStatus: 'in-cluster' }, undefined, undefined],
    ['never reported a version: starts', { reportedVersion: undefined }, undefined, undefined],
    ['no manifest published: 503 naming the build', { publishedVersion: undefined }, 'agent-artifacts-missing', /npm run device:build/],
    ['a version not published: 422 naming the published one', { requested: '9.9.9' }, 'agent-version-not-published', /9\.9\.9 is not in the published manifest, which offers 0\.2\.0/],
    ['pending approval: 409', { hostStatus: 'pending' }, 'host-not-approved', /is pending.*approve it first/],
    ['decommissioned: 409', { hostStatus: 'decommissioned' }, 'host-not-approved', /decommissioned/],
    ['offline: 409', { presence: 'offline' }, 'host-offline', /offline.*bring it online/],
    ['an update already open: 409 naming it', { openOperationId: 'op9' }, 'agent-update-running', /operation op9/],
    ['at the version already: 409', { reportedVersion: '0.2.0' }, 'agent-already-at-version', /already reports agent 0\.2\.0/],
    ['the version is checked before the host', { requested: '9.9.9', presence: 'offline' }, 'agent-version-not-published', undefined],
  ])('%s', (_name, extra, code, detail) => {
    const d = decideAgentUpdate(facts(extra));
    if (code === undefined) return expect(d).toEqual({ ok: true });
    expect(d).toMatchObject({ ok: false, code });
    if (detail && !d.ok) expect(d.detail).toMatch(detail);
  });

  it('maps refusals to the right kind of error', () => {
    expect(decideAgentUpdate(facts({ publishedVersion: undefined }))).toMatchObject({ kind: 'unavailable' });
    expect(decideAgentUpdate(facts({ requested: '1.0.0' }))).toMatchObject({ kind: 'unprocessable' });
    expect(decideAgentUpdate(facts({ presence: 'offline' }))).toMatchObject({ kind: 'conflict' });
  });
});

const op = (status: OperationStatus, step: string, deadline = '2026-12-01T10:15:00.000Z'): AgentUpdateOperation => ({
  id: 'op1', project: 'p', type: 'agent-update', target: { type: 'host', id: 'h1' }, status, step, hosts: {}, startedAt: '2026-12-01T10:00:00.000Z',
  deadline, input: { version: '0.2.0', from: '0.1.0', commandId: agentUpdateCommandId('op1') },
});
const cmd = (state: CommandState, extra: { detail?: string; reason?: string } = {}) => ({ state, deadline: '2026-12-01T10:15:00.000Z', ...extra });

describe('followAgentUpdateCommand: the operation follows its command and the reported version', () => {
  it.each<[string, AgentUpdateOperation, ReturnType<typeof cmd>, string | undefined, { status: OperationStatus; step: string } | undefined, RegExp | undefined]>([
    ['sent: sending', op('running', 'queued'), cmd('sent'), '0.1.0', { status: 'running', step: 'sending' }, undefined],
    ['sent again: no change', op('running', 'sending'), cmd('sent'), '0.1.0', undefined, undefined],
    ['progress: updating', op('running', 'sending'), cmd('progress'), '0.1.0', { status: 'running', step: 'updating' }, undefined],
    ['succeeded and the host reports the version: succeeded', op('running', 'updating'), cmd('succeeded'), '0.2.0', { status: 'succeeded', step: 'done' }, undefined],
    ['succeeded but the host still reports the old version: waits for the report, never succeeds on the command alone', op('running', 'updating'), cmd('succeeded'), '0.1.0', { status: 'running', step: 'awaiting-version-report' }, undefined],
    ['failed (fell back): failed with the host\'s reason', op('running', 'updating'), cmd('failed', { detail: 'fell back to agent 0.1.0 because agent 0.2.0 did not come online' }), '0.1.0', { status: 'failed', step: 'failed' }, /did not move to agent 0\.2\.0: fell back to agent 0\.1\.0/],
    ['failed (refused download): failed with the reason', op('running', 'updating'), cmd('failed', { detail: 'refused agent 0.2.0 (checksum-mismatch)' }), '0.1.0', { status: 'failed', step: 'failed' }, /checksum-mismatch/],
    ['timed out: failed, deadline passed', op('running', 'updating'), cmd('timed-out', { reason: 'deadline-passed' }), '0.1.0', { status: 'failed', step: 'failed' }, /deadline passed/],
    ['superseded: failed', op('running', 'sending'), cmd('superseded', { reason: 'operation op1 is failed' }), '0.1.0', { status: 'failed', step: 'failed' }, /superseded/],
    ['an ended operation never changes', op('failed', 'failed'), cmd('succeeded'), '0.2.0', undefined, undefined],
  ])('%s', (_name, o, c, reported, to, reason) => {
    const next = followAgentUpdateCommand(o, c, reported);
    if (!to) return expect(next).toBeUndefined();
    expect(next).toMatchObject(to);
    if (reason) expect(next?.reason).toMatch(reason);
  });

  it.each<[string, AgentUpdateOperation, string, OperationStatus | undefined]>([
    ['the awaited version: succeeded', op('running', 'awaiting-version-report'), '0.2.0', 'succeeded'],
    ['another version: no change', op('running', 'awaiting-version-report'), '0.1.0', undefined],
    ['not waiting for a report yet: no change (the command decides first)', op('running', 'updating'), '0.2.0', undefined],
    ['ended: no change', op('failed', 'failed'), '0.2.0', undefined],
  ])('versionReported: %s', (_name, o, v, to) => {
    expect(versionReported(o, v)?.status).toBe(to);
  });

  it('the sweep ends an open update only after its deadline and the grace for the report, saying what was missing', () => {
    const deadline = Date.parse('2026-12-01T10:15:00.000Z');
    expect(overdueAgentUpdate(op('running', 'updating'), new Date(deadline + VERSION_REPORT_GRACE_SECONDS * 1000))).toBeUndefined();
    expect(overdueAgentUpdate(op('running', 'updating'), new Date(deadline + VERSION_REPORT_GRACE_SECONDS * 1000 + 1))).toMatchObject({ status: 'failed', reason: expect.stringMatching(/deadline passed: the host never finished/) });
    expect(overdueAgentUpdate(op('running', 'awaiting-version-report'), new Date(deadline + 10 * 60_000))?.reason).toMatch(/never reported that version/);
    expect(overdueAgentUpdate(op('succeeded', 'done'), new Date(deadline + 10 * 60_000))).toBeUndefined();
  });
});
