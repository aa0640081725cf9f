import { synthesizeTemplate } from '../../lib/synth.js';
import type { HostTask, MachineKind } from '../../lambdas/contracts/workflows.js';
import { LocalWorkflowEngine, type ExecutionOutcome } from '../../local/step-functions.js';

const template = synthesizeTemplate();

type Behaviour = (call: HostCall, engine: LocalWorkflowEngine) => void;
interface HostCall { readonly token: string; readonly phase: string; readonly task: HostTask }

/** A fake pair of handlers plus a record of what the workflows did. */
function harness(plan: Record<string, unknown[]>, behaviour: Behaviour, opts: { hostTimeoutSeconds?: number; beginError?: Error; maxUnavailable?: number } = {}) {
  const events: string[] = [];
  const stepCalls: any[] = [];
  const hostCalls: HostCall[] = [];
  const active: Record<string, number> = {};
  const peak: Record<string, number> = {};
  const ends: { kind: MachineKind; name: string; outcome: ExecutionOutcome }[] = [];
  const engine: LocalWorkflowEngine = new LocalWorkflowEngine({
    template,
    handlers: {
      step: async (payload: any) => {
        stepCalls.push(payload);
        events.push(payload.action);
        if (payload.action === 'begin') {
          if (opts.beginError) throw opts.beginError;
          return { phases: plan, hostTimeoutSeconds: opts.hostTimeoutSeconds ?? 30, ...(opts.maxUnavailable ? { maxUnavailable: opts.maxUnavailable } : {}) };
        }
        return { status: payload.action };
      },
      hostCommand: async (payload: any) => {
        const call: HostCall = { token: payload.token, phase: payload.phase, task: payload.task };
        hostCalls.push(call);
        events.push(`${payload.phase}:${payload.task.hostId}`);
        active[call.phase] = (active[call.phase] ?? 0) + 1;
        peak[call.phase] = Math.max(peak[call.phase] ?? 0, active[call.phase]!);
        const done = () => { active[call.phase]! -= 1; };
        behaviour({ ...call, token: call.token }, Object.assign(Object.create(engine), {
          sendTaskSuccess: (t: string, o: Record<string, unknown>) => { done(); return engine.sendTaskSuccess(t, o); },
          sendTaskFailure: (t: string, e: string, c: string) => { done(); return engine.sendTaskFailure(t, e, c); },
        }));
        return { outcome: 'sent' };
      },
    },
    onEnd: (kind, name, outcome) => ends.push({ kind, name, outcome }),
  });
  return { engine, events, stepCalls, hostCalls, peak, ends };
}

const host = (hostId: string, step: HostTask['step']): HostTask => ({ hostId, step });
const later: Behaviour = (c, e) => { setTimeout(() => void e.sendTaskSuccess(c.token, { ok: true }), 5); };

describe('LocalWorkflowEngine on the synthesized state machines', () => {
  it('create-cluster: begin, then each phase in order within its concurrency, waiting for the tokens, then finish', async () => {
    const workers = ['w1', 'w2', 'w3', 'w4'].map((h) => host(h, 'join-worker'));
    const h = harness({ repave: [], init: [host('cp1', 'init')], controlPlane: [host('cp2', 'join-control-plane'), host('cp3', 'join-control-plane')], workers, kubeconfig: [host('cp1', 'export-kubeconfig')], packs: [] }, later);
    await expect(h.engine.start('create-cluster', 'op-1', { operationId: 'op-1' })).resolves.toEqual({ started: true });
    await h.engine.whenIdle();
    expect(h.ends).toEqual([{ kind: 'create-cluster', name: 'op-1', outcome: { status: 'SUCCEEDED' } }]);
    expect(h.events.slice(0, 4)).toEqual(['begin', 'init:cp1', 'controlPlane:cp2', 'controlPlane:cp3']);
    expect(h.events.slice(4, 8).sort()).toEqual(['workers:w1', 'workers:w2', 'workers:w3', 'workers:w4']);
    expect(h.events.slice(8)).toEqual(['kubeconfig:cp1', 'finish']);
    expect(h.peak).toEqual({ init: 1, controlPlane: 1, workers: 4, kubeconfig: 1 });
    expect(h.stepCalls[0]).toEqual({ action: 'begin', operationId: 'op-1', execution: 'op-1' });
    // Every host task got its own real token and exactly the contract's fields.
    expect(new Set(h.hostCalls.map((c) => c.token)).size).toBe(8);
    expect(h.hostCalls[0]!.token).toMatch(/^[0-9a-f-]{36}$/);
    // What it would cost on AWS: states entered = Begin, 6 Maps (repave and packs empty) + 8 host tasks, Finish, Succeed.
    await new Promise((r) => setTimeout(r, 10));
    const { lambdaMs, ...counts } = h.engine.stats;
    expect(counts).toEqual({ executions: 1, stateTransitions: 17, lambdaInvocations: 10 });
    // The time spent in task handlers is measured too (bench:cost prices it as Lambda duration).
    expect(lambdaMs).toBeGreaterThan(0);
  });

  it('a host failure ends in RecordFailure with its error name and cause, and the execution fails', async () => {
    const h = harness({ repave: [], controlPlane: [], workers: [host('w1', 'join-worker'), host('w2', 'join-worker')] }, (c, e) => {
      if (c.task.hostId === 'w2') void e.sendTaskFailure(c.token, 'EdgeFleet.HostFailed', 'w2: kubeadm join exited 1');
      else later(c, e);
    });
    await h.engine.start('scale-out', 'op-2', { operationId: 'op-2' });
    await h.engine.whenIdle();
    expect(h.ends[0]!.outcome).toEqual(expect.objectContaining({ status: 'FAILED', error: 'EdgeFleet.OperationFailed' }));
    const fail = h.stepCalls.find((c) => c.action === 'fail');
    expect(fail).toEqual({ action: 'fail', operationId: 'op-2', execution: 'op-2', error: { Error: 'EdgeFleet.HostFailed', Cause: 'w2: kubeadm join exited 1' } });
    expect(h.events).not.toContain('finish');
  });

  it('a tolerant phase (delete-cluster reset) goes on after a failed host, completed synchronously', async () => {
    const h = harness({ reset: ['a', 'b', 'c'].map((x) => host(x, 'reset')) }, (c, e) => {
      if (c.task.hostId === 'b') void e.sendTaskFailure(c.token, 'EdgeFleet.HostTimedOut', 'b never answered');
      else void e.sendTaskSuccess(c.token, {});
    });
    await h.engine.start('delete-cluster', 'op-3', { operationId: 'op-3' });
    await h.engine.whenIdle();
    expect(h.ends[0]!.outcome).toEqual({ status: 'SUCCEEDED' });
    expect(h.hostCalls.map((c) => c.task.hostId).sort()).toEqual(['a', 'b', 'c']);
    expect(h.events.at(-1)).toBe('finish');
    expect(h.events).not.toContain('fail');
  });

  it('upgrade-cluster: node sequences, each node\'s steps in order, control plane one node at a time, workers maxUnavailable at a time', async () => {
    const seq = (node: string, peer: string) => ({ hostId: node, steps: [
      { hostId: node, step: 'preflight', subject: node }, { hostId: peer, step: 'drain', subject: node },
      { hostId: node, step: 'upgrade', subject: node }, { hostId: peer, step: 'uncordon', subject: node },
    ] });
    const h = harness({ controlPlane: [seq('cp1', 'cp2'), seq('cp2', 'cp1')], workers: [seq('w1', 'cp1'), seq('w2', 'cp1'), seq('w3', 'cp1')] }, later, { maxUnavailable: 2 });
    await h.engine.start('upgrade-cluster', 'op-u', { operationId: 'op-u' });
    await h.engine.whenIdle();
    expect(h.ends[0]!.outcome.status).toBe('SUCCEEDED');
    const of = (node: string) => h.hostCalls.filter((c) => c.task.subject === node).map((c) => c.task.step);
    for (const n of ['cp1', 'cp2', 'w1', 'w2', 'w3']) expect(of(n)).toEqual(['preflight', 'drain', 'upgrade', 'uncordon']);
    // The control plane goes one node at a time: cp1 is done before cp2 starts, and both before any worker.
    const order = h.hostCalls.map((c) => `${c.task.subject}:${c.task.step}`);
    expect(order.indexOf('cp1:uncordon')).toBeLessThan(order.indexOf('cp2:preflight'));
    expect(order.indexOf('cp2:uncordon')).toBeLessThan(Math.min(...['w1', 'w2', 'w3'].map((w) => order.indexOf(`${w}:preflight`))));
    expect(h.peak.controlPlane).toBe(1);
    expect(h.peak.workers).toBe(2);
  });

  it('a host that never answers times out after the plan\'s hostTimeoutSeconds (TimeoutSecondsPath)', async () => {
    const h = harness({ drain: [host('n1', 'drain')], reset: [] }, () => undefined, { hostTimeoutSeconds: 1 });
    const t0 = Date.now();
    await h.engine.start('scale-in', 'op-4', { operationId: 'op-4' });
    await h.engine.whenIdle();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(h.stepCalls.find((c) => c.action === 'fail')?.error).toEqual(expect.objectContaining({ Error: 'States.Timeout' }));
    expect(h.ends[0]!.outcome.status).toBe('FAILED');
  });

  it('a handler that throws is a task error: Error = its name, Cause = its message', async () => {
    const h = harness({}, later, { beginError: Object.assign(new Error('operation op-5 does not exist'), { name: 'NotFoundError' }) });
    await h.engine.start('reconfigure', 'op-5', { operationId: 'op-5' });
    await h.engine.whenIdle();
    expect(h.stepCalls.at(-1)).toEqual({ action: 'fail', operationId: 'op-5', execution: 'op-5', error: { Error: 'NotFoundError', Cause: 'operation op-5 does not exist' } });
    expect(h.ends[0]!.outcome.status).toBe('FAILED');
  });

  it('a second start of a running or finished execution name is not started; unknown tokens are ignored', async () => {
    const h = harness({ repave: [], init: [host('cp1', 'init')], controlPlane: [], workers: [], kubeconfig: [], packs: [] }, () => undefined);
    expect(await h.engine.start('create-cluster', 'op-6', { operationId: 'op-6' })).toEqual({ started: true });
    expect(await h.engine.start('create-cluster', 'op-6', { operationId: 'op-6' })).toEqual({ started: false });
    await waitFor(() => h.hostCalls.length === 1);
    await h.engine.sendTaskSuccess('not-a-token', {});
    await h.engine.sendTaskSuccess(h.hostCalls[0]!.token, {});
    await h.engine.whenIdle();
    expect(h.ends.map((e) => e.outcome.status)).toEqual(['SUCCEEDED']);
    expect(await h.engine.start('create-cluster', 'op-6', { operationId: 'op-6' })).toEqual({ started: false });
  });

  it('stop aborts a waiting execution (idempotent); close aborts the rest and refuses new starts', async () => {
    const h = harness({ repave: [], init: [host('cp1', 'init')], controlPlane: [], workers: [], kubeconfig: [], packs: [] }, () => undefined);
    await h.engine.start('create-cluster', 'op-7', { operationId: 'op-7' });
    await h.engine.start('create-cluster', 'op-8', { operationId: 'op-8' });
    await waitFor(() => h.hostCalls.length === 2);
    await h.engine.stop('create-cluster', 'op-7', 'cluster deleted');
    await h.engine.stop('create-cluster', 'op-7', 'again');
    await waitFor(() => h.ends.length === 1);
    expect(h.ends[0]).toEqual({ kind: 'create-cluster', name: 'op-7', outcome: { status: 'ABORTED' } });
    await h.engine.close();
    expect(h.ends.map((e) => [e.name, e.outcome.status])).toEqual([['op-7', 'ABORTED'], ['op-8', 'ABORTED']]);
    expect(h.events.filter((e) => e === 'fail' || e === 'finish')).toEqual([]);
    await expect(h.engine.start('create-cluster', 'op-9', { operationId: 'op-9' })).rejects.toThrow(/closed/);
  });

  it('refuses a template without the workflows', () => {
    expect(() => new LocalWorkflowEngine({ template: { Resources: {} }, handlers: { step: async () => ({}), hostCommand: async () => ({}) } }))
      .toThrow(/no state machine at …\/Workflows\/CreateCluster\/Resource/);
  });
});

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
