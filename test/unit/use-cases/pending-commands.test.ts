import type { CommandRecord } from '../../../lambdas/domain/command.js';
import type { CreateClusterOperation } from '../../../lambdas/domain/model.js';
import { sendPendingCommands, type DeviceDeps } from '../../../lambdas/use-cases/device-messages.js';

const NOW = new Date('2026-11-30T10:00:00Z');

/** The device reconnects and asks for pending commands: only a live run's commands go out. */
function world(op: Partial<CreateClusterOperation> | undefined, command: Partial<CommandRecord>) {
  const stored = new Map<string, CommandRecord>();
  const c: CommandRecord = {
    hostId: 'h1', commandId: 'wf-1', type: 'kube-node', params: { action: 'drain', node: 'h2' }, deadline: '2026-11-30T11:00:00Z',
    state: 'sent', version: 2, createdAt: NOW.toISOString(), updatedAt: NOW.toISOString(), operationId: 'op-1', execution: 'op-1', ...command,
  };
  stored.set(c.commandId, c);
  const published: string[] = [];
  const progress: string[] = [];
  const deps: DeviceDeps = {
    clock: { now: () => NOW },
    presence: { apply: async () => true },
    status: { get: async () => undefined, put: async () => true },
    commands: {
      create: async () => true,
      get: async (_h, id) => stored.get(id),
      update: async (next) => { stored.set(next.commandId, next); return true; },
      listUnfinished: async () => [...stored.values()].filter((x) => ['queued', 'sent', 'accepted', 'progress'].includes(x.state)),
      listOverdue: async () => [],
      withParams: async (c) => c,
    },
    publisher: { publish: async (_h, e) => { published.push(e.commandId); } },
    hostLifecycle: { lifecycle: async () => ({ status: 'in-cluster' }) },
    operations: {
      get: async (id) => (op && id === 'op-1' ? { id: 'op-1', project: 'p', type: 'create-cluster', target: { type: 'cluster', id: 'c' }, status: 'running', step: 's', hosts: {}, startedAt: NOW.toISOString(), ...op } : undefined),
      setHost: async (_id, h, p) => { progress.push(`${h} ${p.status}`); },
    },
  };
  return { deps, stored, published, progress };
}

describe('sendPendingCommands: a reconnecting host never gets a step of a run that is over', () => {
  it.each<[string, Partial<CreateClusterOperation> | undefined, Partial<CommandRecord>, boolean]>([
    ['the live run: re-sent', {}, {}, true],
    ['the live run after a resume: re-sent', { execution: 'op-1-r2' }, { execution: 'op-1-r2' }, true],
    ['a plain command (no operation): re-sent', undefined, { operationId: undefined, execution: undefined }, true],
    ['the operation paused', { status: 'paused' }, {}, false],
    ['the operation cancelled', { status: 'cancelled' }, {}, false],
    ['the operation failed', { status: 'failed' }, {}, false],
    ['the operation is ending (its failure is being cleaned up)', { ending: 'deadline passed' }, {}, false],
    ['a run that a resume replaced', { execution: 'op-1-r2' }, { execution: 'op-1' }, false],
    ['the operation is gone', undefined, {}, false],
  ])('%s', async (_what, op, command, delivered) => {
    const w = world(op, command);
    const out = await sendPendingCommands(w.deps, 'h1');
    expect(w.published).toEqual(delivered ? ['wf-1'] : []);
    expect(out.sent).toEqual(delivered ? ['wf-1'] : []);
    const after = w.stored.get('wf-1')!;
    if (delivered) expect(after.state).toBe('sent');
    else {
      expect(after.state).toBe('superseded');
      expect(after.reason).toMatch(/op-1/);
      // A second reconnect finds nothing to send either.
      expect((await sendPendingCommands(w.deps, 'h1')).sent).toEqual([]);
      expect(w.published).toEqual([]);
    }
  });
});
