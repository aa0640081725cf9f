/** The MQTT-plane use cases on the in-memory adapters: presence, status, results, pending and overdue commands. */
import {
  expireOverdueCommands, issueCommand, recordPresence, recordResult, recordStatus, sendPendingCommands,
} from '../../../lambdas/use-cases/device-messages.js';
import type { CommandStore } from '../../../lambdas/ports/device-plane.js';
import { T0, upgrading, world } from './world.js';

const at = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();
const DEADLINE = at(3_600_000);

describe('presence', () => {
  it('converges on the latest broker event, whatever the delivery order', async () => {
    const w = await world();
    const base = Date.parse(T0) + 10_000;
    expect(await recordPresence(w.deps, 'h9', { eventType: 'disconnected', at: base + 2 })).toBe(true);
    expect(await recordPresence(w.deps, 'h9', { eventType: 'connected', at: base + 1 })).toBe(false);
    expect(w.state.presence.get('h9')).toMatchObject({ presence: 'offline', at: base + 2 });
  });
});

describe('status reports', () => {
  it.each<[string, { at: string; seq: number; agentVersion: string }[], string[]]>([
    ['first report stored', [{ at: at(1), seq: 1, agentVersion: '1' }], ['first']],
    ['a newer changed report stored', [{ at: at(1), seq: 1, agentVersion: '1' }, { at: at(2), seq: 2, agentVersion: '2' }], ['first', 'changed']],
    ['an older report refused', [{ at: at(2), seq: 2, agentVersion: '2' }, { at: at(1), seq: 1, agentVersion: '1' }], ['first', 'stale']],
    ['an unchanged report not stored', [{ at: at(1), seq: 1, agentVersion: '1' }, { at: at(2), seq: 2, agentVersion: '1' }], ['first', 'unchanged']],
  ])('%s', async (_what, reports, reasons) => {
    const w = await world();
    const out = [];
    for (const r of reports) out.push((await recordStatus(w.deps, 'h9', { ...r, kind: 'change' })).reason);
    expect(out).toEqual(reasons);
    const newest = reports.filter((_, i) => reasons[i] === 'first' || reasons[i] === 'changed').at(-1)!;
    expect((await w.status.get('h9'))?.content).toEqual({ agentVersion: newest.agentVersion });
  });
});

describe('command results', () => {
  it('moves the command through accepted, progress and succeeded; a late or repeated result is ignored', async () => {
    const w = await world();
    expect(await issueCommand(w.deps, 'h1', { commandId: 'c1', type: 'reboot', params: {}, deadline: DEADLINE })).toEqual({ created: true, published: true });
    expect(w.publisher.to('h1')).toEqual([{ commandId: 'c1', type: 'reboot', params: {}, deadline: DEADLINE }]);
    expect((await w.commands.get('h1', 'c1'))?.state).toBe('sent');
    await recordResult(w.deps, 'h1', 'c1', { phase: 'accepted' });
    await recordResult(w.deps, 'h1', 'c1', { phase: 'progress', progress: 40 });
    expect(await w.commands.get('h1', 'c1')).toMatchObject({ state: 'progress', progress: 40 });
    await recordResult(w.deps, 'h1', 'c1', { phase: 'succeeded', detail: 'done' });
    expect(await recordResult(w.deps, 'h1', 'c1', { phase: 'progress', progress: 90 })).toBe('ignored');
    expect(await recordResult(w.deps, 'h1', 'c1', { phase: 'succeeded', detail: 'done' })).toBe('redelivered');
    expect(await recordResult(w.deps, 'h1', 'c1', { phase: 'failed', detail: 'late' })).toBe('ignored');
    expect(await w.commands.get('h1', 'c1')).toMatchObject({ state: 'succeeded', detail: 'done' });
    expect(await recordResult(w.deps, 'h1', 'unknown', { phase: 'succeeded' })).toBe('ignored');
  });

  it('storing and sending a command is one write; a failed publish sets it back to queued, and the reconnect sends it', async () => {
    const w = await world();
    const writes: string[] = [];
    const store = w.deps.commands;
    const commands: CommandStore = {
      get: (h, c) => store.get(h, c), listUnfinished: (h) => store.listUnfinished(h), listOverdue: (n, l) => store.listOverdue(n, l), withParams: (c) => store.withParams(c),
      create: async (c: Parameters<typeof w.deps.commands.create>[0]) => { writes.push(`create ${c.state}`); return w.deps.commands.create(c); },
      update: async (c: Parameters<typeof w.deps.commands.update>[0]) => { writes.push(`update ${c.state}`); return w.deps.commands.update(c); },
    };
    expect(await issueCommand({ ...w.deps, commands }, 'h1', { commandId: 'ok', type: 'reboot', params: {}, deadline: DEADLINE })).toEqual({ created: true, published: true });
    expect(writes).toEqual(['create sent']);
    expect(await w.commands.get('h1', 'ok')).toMatchObject({ state: 'sent', sentAt: T0, version: 1 });

    writes.length = 0;
    const down = { publish: async () => { throw new Error('endpoint unreachable'); } };
    expect(await issueCommand({ ...w.deps, commands, publisher: down }, 'h1', { commandId: 'lost', type: 'reboot', params: {}, deadline: DEADLINE })).toEqual({ created: true, published: false });
    expect(writes).toEqual(['create sent', 'update queued']);
    const queued = await w.commands.get('h1', 'lost');
    expect(queued).toMatchObject({ state: 'queued', version: 2 });
    expect(queued).not.toHaveProperty('sentAt');
    expect((await sendPendingCommands(w.deps, 'h1')).sent).toEqual(['ok', 'lost']);
    expect((await w.commands.get('h1', 'lost'))?.state).toBe('sent');
  });

  it('a command id is issued once', async () => {
    const w = await world();
    await issueCommand(w.deps, 'h1', { commandId: 'c1', type: 'reboot', params: {}, deadline: DEADLINE });
    expect(await issueCommand(w.deps, 'h1', { commandId: 'c1', type: 'reset', params: {}, deadline: DEADLINE })).toEqual({ created: false, published: false });
    expect(w.publisher.to('h1')).toHaveLength(1);
  });

  it('a workflow command\'s secret placeholder is filled in on the wire only', async () => {
    const w = await world();
    await w.secrets.ensure('clusters/c1/join-token', () => 'abcdef.0123456789abcdef');
    await w.commands.create({
      hostId: 'h1', commandId: 'c1', type: 'apply-cloud-config', params: { cloudConfig: 'token: @@T@@' }, secrets: { '@@T@@': 'clusters/c1/join-token' },
      deadline: DEADLINE, state: 'queued', version: 1, createdAt: T0, updatedAt: T0,
    });
    expect((await sendPendingCommands(w.deps, 'h1')).sent).toEqual(['c1']);
    expect(w.publisher.to('h1')[0]?.params).toEqual({ cloudConfig: 'token: abcdef.0123456789abcdef' });
    expect((await w.commands.get('h1', 'c1'))?.params).toEqual({ cloudConfig: 'token: @@T@@' });
  });
});

describe('a redelivered final result (Lambda retrying an invocation that stored it)', () => {
  it('completes the task token the first delivery could not, and leaves the operation\'s host row on the host\'s next command', async () => {
    const { w, op } = await upgrading();
    const step = (commandId: string, taskToken: string) => w.commands.create({
      hostId: 'h1', commandId, type: 'reboot', params: {}, deadline: DEADLINE, state: 'sent', version: 1, createdAt: T0, updatedAt: T0,
      operationId: op.id, workflowStep: 'reboot', taskToken,
    });
    const row = () => w.state.operations.get(op.id)!.hosts['h1'];
    await step('old', 'tok-old');
    const down = { sendTaskSuccess: async () => { throw new Error('Task timed out after 10.00 seconds'); }, sendTaskFailure: w.workflows.sendTaskFailure.bind(w.workflows) };
    await expect(recordResult({ ...w.deps, workflows: down }, 'h1', 'old', { phase: 'succeeded', detail: 'rebooted' })).rejects.toThrow(/timed out/);
    expect(row()).toMatchObject({ commandId: 'old', status: 'succeeded' });
    expect(w.workflows.completed).toEqual([]);

    await step('next', 'tok-next');
    await recordResult(w.deps, 'h1', 'next', { phase: 'accepted' });
    expect(row()).toMatchObject({ commandId: 'next', status: 'accepted' });

    expect(await recordResult(w.deps, 'h1', 'old', { phase: 'succeeded', detail: 'rebooted' })).toBe('redelivered');
    expect(w.workflows.completed).toEqual([expect.objectContaining({ token: 'tok-old', output: expect.objectContaining({ commandId: 'old' }) })]);
    expect(row()).toMatchObject({ commandId: 'next', status: 'accepted' });
  });
});

describe('pending and overdue commands', () => {
  it('on reconnect: unacknowledged commands go out again, overdue ones time out', async () => {
    const w = await world();
    await issueCommand(w.deps, 'h1', { commandId: 'late', type: 'reboot', params: {}, deadline: at(1000) });
    await issueCommand(w.deps, 'h1', { commandId: 'live', type: 'reboot', params: {}, deadline: DEADLINE });
    w.clock.set(at(2000));
    expect(await sendPendingCommands(w.deps, 'h1')).toEqual({ sent: ['live'], timedOut: ['late'] });
    expect((await w.commands.get('h1', 'late'))?.state).toBe('timed-out');
    expect(w.publisher.to('h1').map((c) => c.commandId)).toEqual(['late', 'live', 'live']);
  });

  it('the sweep times out commands whose host never came back, once', async () => {
    const w = await world();
    await issueCommand(w.deps, 'h2', { commandId: 'c1', type: 'reboot', params: {}, deadline: at(1000) });
    await issueCommand(w.deps, 'h3', { commandId: 'c2', type: 'reboot', params: {}, deadline: DEADLINE });
    w.clock.set(at(5000));
    expect(await expireOverdueCommands(w.deps)).toEqual({ timedOut: ['h2/c1'] });
    expect(await w.commands.get('h2', 'c1')).toMatchObject({ state: 'timed-out', reason: 'deadline-passed' });
    expect(await expireOverdueCommands(w.deps)).toEqual({ timedOut: [] });
    expect((await w.commands.get('h3', 'c2'))?.state).toBe('sent');
  });
});
