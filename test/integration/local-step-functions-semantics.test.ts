import { performance } from 'node:perf_hooks';
import { synthesizeTemplate } from '../../lib/synth.js';
import { WORKFLOW_FUNCTIONS, WORKFLOWS, type WorkflowKind } from '../../lambdas/contracts/workflows.js';
import { LocalWorkflowEngine, type ExecutionOutcome } from '../../local/step-functions.js';

/*
 * The local engine keeps Step Functions' semantics on failure, stop and timeout. Every test
 * records one timeline (each handler call, each state the engine entered, the stop request,
 * the end) and checks an invariant over the whole of it: nothing is called or entered after
 * the execution ended or was stopped. `whenQuiet()` waits until no execution and no Map
 * iteration of them is left to run, so anything the library would still schedule is seen.
 */

const synthesized = synthesizeTemplate();
type Template = Record<string, unknown> & { Resources: Record<string, { Type?: string; Metadata?: Record<string, unknown>; Properties?: Record<string, unknown> }> };

const logicalIdOf = (t: Template, type: string, pathPart: string): string => {
  const found = Object.entries(t.Resources).find(([, r]) => r.Type === type && String(r.Metadata?.['aws:cdk:path'] ?? '').includes(pathPart));
  if (!found) throw new Error(`no ${type} at …${pathPart} in the synthesized template`);
  return found[0];
};
const functionArn = (fn: keyof typeof WORKFLOW_FUNCTIONS) =>
  `arn:aws:lambda:local-1:000000000000:function:${logicalIdOf(synthesized as Template, 'AWS::Lambda::Function', `/Workflows/${WORKFLOW_FUNCTIONS[fn].constructId}/`)}`;

/** The synthesized template with `kind`'s state machine replaced by a hand-written ASL definition. */
function withDefinition(kind: WorkflowKind, asl: object): Template {
  const t: Template = structuredClone(synthesized) as Template;
  const id = logicalIdOf(t, 'AWS::StepFunctions::StateMachine', `/Workflows/${WORKFLOWS[kind].constructId}/Resource`);
  t.Resources[id]!.Properties!['DefinitionString'] = JSON.stringify(asl);
  return t;
}

/** A `.waitForTaskToken` task calling hostCommand with {token, item}. */
const hostTask = (extra: object = {}) => ({
  Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
  Parameters: { FunctionName: functionArn('hostCommand'), Payload: { 'token.$': '$$.Task.Token', 'item.$': '$.item' } },
  ...extra,
});
/** A plain Lambda task calling step with {name}. */
const stepTask = (name: string, extra: object = {}) => ({ Type: 'Task', Resource: functionArn('step'), Parameters: { name }, ...extra });
/** A Map over $.items (each item {item}) whose iteration is `iteration`. */
const mapOver = (iteration: object, extra: object = {}) => ({
  Type: 'Map', ItemsPath: '$.items', MaxConcurrency: 1, ItemSelector: { 'item.$': '$$.Map.Item.Value' }, ItemProcessor: iteration, ...extra,
});

interface Tick { readonly seq: number; readonly at: number; readonly what: string }
interface HostCall { readonly token: string; readonly item: string }
type Behaviour = (call: HostCall, engine: LocalWorkflowEngine) => void;

function harness(template: Template, behaviour: Behaviour) {
  const timeline: Tick[] = [];
  const mark = (what: string) => timeline.push({ seq: timeline.length, at: performance.now(), what });
  const hostCalls: HostCall[] = [];
  const ends: ExecutionOutcome[] = [];
  const logs: { message: string; fields: Record<string, unknown> }[] = [];
  const engine: LocalWorkflowEngine = new LocalWorkflowEngine({
    template,
    handlers: {
      step: async (payload: any) => {
        mark(`call:step:${payload?.name ?? payload?.Payload?.action ?? payload?.action}`);
        if (payload.action === 'begin') return planOf(payload);
        return { ok: true };
      },
      hostCommand: async (payload: any) => {
        const item = payload.item ?? `${payload.task?.subject ?? payload.task?.hostId}:${payload.task?.step}`;
        mark(`call:host:${item}`);
        const call = { token: payload.token, item };
        hostCalls.push(call);
        behaviour(call, engine);
        return { outcome: 'sent' };
      },
    },
    trace: (_, e) => mark(`${e.type}:${e.state}`),
    onEnd: (_, __, outcome) => { ends.push(outcome); mark(`end:${outcome.status}`); },
    log: (_, message, fields) => logs.push({ message, fields }),
  });
  let planOf: (payload: any) => unknown = () => ({});
  return {
    engine, timeline, hostCalls, ends, logs, mark,
    plan(p: (payload: any) => unknown) { planOf = p; },
    calls: () => timeline.filter((t) => t.what.startsWith('call:')).map((t) => t.what),
    /** The invariant: no handler call, no state entered or retried after the tick `marker`. */
    expectNothingAfter(marker: string) {
      const end = timeline.find((t) => t.what === marker);
      expect(end).toBeDefined();
      const after = timeline.filter((t) => t.seq > end!.seq && /^(call:|state-entered:|state-retried:)/.test(t.what));
      expect(after.map((t) => t.what)).toEqual([]);
      const calls = timeline.filter((t) => t.what.startsWith('call:'));
      expect(calls.every((t) => t.at <= end!.at)).toBe(true);
    },
  };
}

const answerLater = (fn: (c: HostCall, e: LocalWorkflowEngine) => Promise<void>): Behaviour => (c, e) => { setImmediate(() => void fn(c, e)); };
const succeed = answerLater((c, e) => e.sendTaskSuccess(c.token, { ok: true }));
const hold: Behaviour = () => undefined;

/** Starts the hand-written definition (under the scale-out slot) with its own input fields. */
const startHandWritten = (engine: LocalWorkflowEngine, name: string, fields: Record<string, unknown>) =>
  engine.start('scale-out', name, { operationId: name, ...fields });

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('local Step Functions engine: hand-written definitions, as AWS documents', () => {
  // AWS Map state docs: "If any iteration fails, entire Map state fails, and all iterations are terminated."
  // and "A MaxConcurrency value of 1 invokes the Iterator once for each array element in the order of
  // their appearance in the input, and will not start a new iteration until the previous has completed."
  it('a Map with MaxConcurrency 1 over 3 items whose item 1 fails: the Map and the execution fail, items 2 and 3 never start', async () => {
    const h = harness(withDefinition('scale-out', {
      StartAt: 'Hosts', States: { Hosts: mapOver({ StartAt: 'Host', States: { Host: hostTask({ End: true }) } }, { End: true }) },
    }), answerLater(async (c, e) => {
      if (c.item === 'a') await e.sendTaskFailure(c.token, 'Host.Failed', 'a: kubeadm exited 1');
      else await e.sendTaskSuccess(c.token, {});
    }));
    await startHandWritten(h.engine, 'x-1', { items: ['a', 'b', 'c'] });
    await h.engine.whenQuiet();
    expect(h.ends).toEqual([{ status: 'FAILED', error: 'Host.Failed', cause: 'a: kubeadm exited 1' }]);
    expect(h.calls()).toEqual(['call:host:a']);
    h.expectNothingAfter('end:FAILED');
  });

  // Same sentence, with Catch: "When a state reports an error and either there is no Retrier, or retries have
  // failed ..., the interpreter scans through the Catchers" (ASL spec) — the Map's Catch path runs; the
  // Map's other iterations are terminated with it.
  it('a Catch on the Map: the Catch path runs once and no other iteration does', async () => {
    const h = harness(withDefinition('scale-out', {
      StartAt: 'Hosts',
      States: {
        Hosts: mapOver({ StartAt: 'Host', States: { Host: hostTask({ End: true }) } }, {
          Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Recover' }], Next: 'After',
        }),
        Recover: stepTask('recover', { End: true }),
        After: stepTask('after', { End: true }),
      },
    }), answerLater(async (c, e) => {
      if (c.item === 'a') await e.sendTaskFailure(c.token, 'Host.Failed', 'a failed');
      else await e.sendTaskSuccess(c.token, {});
    }));
    await startHandWritten(h.engine, 'x-2', { items: ['a', 'b', 'c'] });
    await h.engine.whenQuiet();
    expect(h.ends).toEqual([{ status: 'SUCCEEDED' }]);
    expect(h.calls()).toEqual(['call:host:a', 'call:step:recover']);
    h.expectNothingAfter('end:SUCCEEDED');
  });

  // StopExecution API: "Stops an execution." SendTaskSuccess/SendTaskFailure throw TaskTimedOut: "The task
  // token has either expired or the task associated with the token has already been closed."
  it('a stop during a waitForTaskToken task: no later state, no Catch handler, no queued iteration; a later answer on its token is refused (TaskTimedOut)', async () => {
    const h = harness(withDefinition('scale-out', {
      StartAt: 'Hosts',
      States: {
        Hosts: mapOver({
          StartAt: 'Host',
          States: {
            Host: hostTask({ Catch: [{ ErrorEquals: ['States.ALL'], Next: 'IterationCaught' }], End: true }),
            IterationCaught: stepTask('iteration-caught', { End: true }),
          },
        }, { Catch: [{ ErrorEquals: ['States.ALL'], Next: 'MapCaught' }], Next: 'After' }),
        MapCaught: stepTask('map-caught', { End: true }),
        After: stepTask('after', { End: true }),
      },
    }), hold);
    await startHandWritten(h.engine, 'x-3', { items: ['a', 'b', 'c'] });
    await waitFor(() => h.hostCalls.length === 1);
    const { token } = h.hostCalls[0]!;
    expect(h.engine.taskTokenVerdict(token)).toBe('accepted');
    h.mark('stop');
    await h.engine.stop('scale-out', 'x-3', 'operator cancelled the operation');
    await h.engine.whenQuiet();
    expect(h.ends).toEqual([{ status: 'ABORTED' }]);
    expect(h.engine.taskTokenVerdict(token)).toBe('TaskTimedOut');
    await h.engine.sendTaskSuccess(token, { ok: true });
    await h.engine.sendTaskFailure(token, 'Host.Failed', 'late');
    await h.engine.whenQuiet();
    expect(h.logs.filter((l) => l.message.startsWith('task token refused')).map((l) => [l.fields['error'], l.fields['execution']]))
      .toEqual([['TaskTimedOut', 'x-3'], ['TaskTimedOut', 'x-3']]);
    expect(h.engine.taskTokenVerdict('never-issued')).toBe('InvalidToken');
    expect(h.calls()).toEqual(['call:host:a']);
    h.expectNothingAfter('stop');
  });

  // ASL spec, Retry: "When a state reports an error, the interpreter scans through the Retriers"; StopExecution:
  // "Stops an execution." A stopped execution has no state left to retry.
  it('Retry on a task after a stop: the task is not retried', async () => {
    const h = harness(withDefinition('scale-out', {
      StartAt: 'Host',
      States: { Host: hostTask({ Retry: [{ ErrorEquals: ['States.ALL'], IntervalSeconds: 1, MaxAttempts: 3 }], Next: 'After' }), After: stepTask('after', { End: true }) },
    }), hold);
    await startHandWritten(h.engine, 'x-4', { item: 'a' });
    await waitFor(() => h.hostCalls.length === 1);
    h.mark('stop');
    await h.engine.stop('scale-out', 'x-4', 'cluster deleted');
    await h.engine.whenQuiet();
    expect(h.ends).toEqual([{ status: 'ABORTED' }]);
    expect(h.calls()).toEqual(['call:host:a']);
    h.expectNothingAfter('stop');
  });

  // ASL spec, TimeoutSeconds: "If provided, it provides the maximum number of seconds the machine is allowed to
  // run. If the machine runs longer than the specified time, then the interpreter fails the machine with a
  // States.Timeout Error Name."
  it('execution-level TimeoutSeconds: the execution fails with States.Timeout and nothing runs after', async () => {
    const h = harness(withDefinition('scale-out', {
      TimeoutSeconds: 1, StartAt: 'Hosts',
      States: {
        Hosts: mapOver({
          StartAt: 'Host',
          States: { Host: hostTask({ Catch: [{ ErrorEquals: ['States.ALL'], Next: 'IterationCaught' }], End: true }), IterationCaught: stepTask('iteration-caught', { End: true }) },
        }, { Catch: [{ ErrorEquals: ['States.ALL'], Next: 'MapCaught' }], Next: 'After' }),
        MapCaught: stepTask('map-caught', { End: true }),
        After: stepTask('after', { End: true }),
      },
    }), hold);
    await startHandWritten(h.engine, 'x-5', { items: ['a', 'b', 'c'] });
    await h.engine.whenQuiet();
    expect(h.ends).toEqual([{ status: 'FAILED', error: 'States.Timeout', cause: 'the execution timed out' }]);
    expect(h.calls()).toEqual(['call:host:a']);
    h.expectNothingAfter('end:FAILED');
    const { token } = h.hostCalls[0]!;
    expect(h.engine.taskTokenVerdict(token)).toBe('TaskTimedOut');
    await h.engine.sendTaskSuccess(token, {});
    await h.engine.whenQuiet();
    expect(h.calls()).toEqual(['call:host:a']);
  });
});

describe('local Step Functions engine: the synthesized upgrade-cluster definition', () => {
  const seq = (node: string, peer: string) => ({ hostId: node, steps: (['preflight', 'drain', 'upgrade', 'uncordon'] as const).map((step) => ({
    hostId: step === 'drain' || step === 'uncordon' ? peer : node, step, subject: node,
  })) });
  const plan = (maxUnavailable: number) => ({
    phases: { controlPlane: [seq('cp1', 'cp2'), seq('cp2', 'cp1'), seq('cp3', 'cp1')], workers: ['w1', 'w2', 'w3'].map((w) => seq(w, 'cp1')) },
    hostTimeoutSeconds: 30, maxUnavailable,
  });

  // AWS Map state docs: "If any iteration fails, entire Map state fails, and all iterations are terminated."
  it('a node whose upgrade fails fails the control-plane Map: the next node is never touched, RecordFailure runs once, then nothing', async () => {
    const h = harness(synthesized as Template, answerLater(async (c, e) => {
      if (c.item === 'cp2:upgrade') await e.sendTaskFailure(c.token, 'EdgeFleet.HostFailed', 'cp2 booted into passive');
      else await e.sendTaskSuccess(c.token, {});
    }));
    h.plan(() => plan(2));
    await h.engine.start('upgrade-cluster', 'u-1', { operationId: 'u-1' });
    await h.engine.whenQuiet();
    expect(h.ends[0]).toEqual(expect.objectContaining({ status: 'FAILED', error: 'EdgeFleet.OperationFailed' }));
    expect(h.calls()).toEqual([
      'call:step:begin', 'call:host:cp1:preflight', 'call:host:cp1:drain', 'call:host:cp1:upgrade', 'call:host:cp1:uncordon',
      'call:host:cp2:preflight', 'call:host:cp2:drain', 'call:host:cp2:upgrade', 'call:step:fail',
    ]);
    h.expectNothingAfter('end:FAILED');
  });

  // StopExecution: "Stops an execution."; TaskTimedOut: "the task associated with the token has already been closed."
  it('a stop while two workers are in flight (maxUnavailable 2): the third worker never starts, no RecordFailure, no Finish; late answers are refused', async () => {
    const h = harness(synthesized as Template, (c, e) => { if (!c.item.startsWith('w')) succeed(c, e); });
    h.plan(() => plan(2));
    await h.engine.start('upgrade-cluster', 'u-2', { operationId: 'u-2' });
    await waitFor(() => h.hostCalls.filter((c) => c.item.startsWith('w')).length === 2);
    h.mark('stop');
    await h.engine.stop('upgrade-cluster', 'u-2', 'operator paused the upgrade');
    await h.engine.whenQuiet();
    expect(h.ends).toEqual([{ status: 'ABORTED' }]);
    const inFlight = h.hostCalls.filter((c) => c.item.startsWith('w'));
    expect(inFlight.map((c) => c.item).sort()).toEqual(['w1:preflight', 'w2:preflight']);
    for (const c of inFlight) await h.engine.sendTaskSuccess(c.token, {});
    await h.engine.whenQuiet();
    expect(inFlight.map((c) => h.engine.taskTokenVerdict(c.token))).toEqual(['TaskTimedOut', 'TaskTimedOut']);
    expect(h.calls().filter((c) => c.startsWith('call:step:'))).toEqual(['call:step:begin']);
    h.expectNothingAfter('stop');
  });
});
