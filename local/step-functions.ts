import { randomUUID } from 'node:crypto';
import { ExecutionAbortedError, ExecutionError, ExecutionTimeoutError, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';

type JSONValue = Parameters<StateMachine['run']>[0];
import {
  WORKFLOW_FUNCTIONS, WORKFLOWS, type WorkflowFunction, type WorkflowInput, type WorkflowKind,
} from '../lambdas/contracts/workflows.js';
import type { WorkflowEngine } from '../lambdas/ports/workflow.js';

// aws-local-stepfunctions 3 uses Promise.withResolvers (Node 22); Node 20 lacks it.
type WithResolvers = { withResolvers?: <T>() => { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } };
if (!(Promise as WithResolvers).withResolvers) {
  (Promise as WithResolvers).withResolvers = function withResolvers<T>() {
    let resolve!: (v: T) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<T>((a, b) => { resolve = a; reject = b; });
    return { promise, resolve, reject };
  };
}

export type WorkflowLogLevel = 'debug' | 'info' | 'warn' | 'error';
export type WorkflowHandler = (payload: unknown) => Promise<unknown>;

export interface ExecutionOutcome {
  readonly status: 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  readonly error?: string;
  readonly cause?: string;
}

export interface LocalWorkflowEngineOptions {
  /** The synthesized CloudFormation template (lib/synth.ts, local/template-cache.ts). */
  readonly template: Readonly<Record<string, unknown>>;
  /** The Lambda handlers the Task states invoke, by workflow function. */
  readonly handlers: Readonly<Record<WorkflowFunction, WorkflowHandler>>;
  readonly log?: (level: WorkflowLogLevel, message: string, fields: Record<string, unknown>) => void;
  /** Called once when an execution ends. */
  readonly onEnd?: (kind: WorkflowKind, executionName: string, outcome: ExecutionOutcome) => void;
}

const PARTITION = 'aws';
const REGION = 'local-1';
const ACCOUNT = '000000000000';
/** The context's `$$.Task.Token`; each waitForTaskToken task swaps it for a fresh token. */
const TOKEN_PLACEHOLDER = '__EDGEFLEET_LOCAL_TASK_TOKEN__';
/** Where a Task's TimeoutSecondsPath is copied to (see `localizeTimeoutPaths`). */
const LOCAL_TIMEOUT_KEY = '__localTimeoutSeconds';

interface Pending { readonly resolve: (v: unknown) => void; readonly reject: (e: Error) => void; readonly execution: string }
interface Running { readonly kind: WorkflowKind; readonly abort: () => void; readonly tokens: Set<string>; stopping: boolean }

const namedError = (name: string, message: string): Error => Object.assign(new Error(message), { name });

/**
 * Runs the synthesized state machines with aws-local-stepfunctions, the Task states mapped to
 * the local handlers: `lambda:invoke` returns `{ StatusCode, Payload }`; `.waitForTaskToken`
 * hands the handler a fresh token and waits for `sendTaskSuccess`/`sendTaskFailure`. State
 * lives in memory only: after a restart the caller starts the executions again.
 */
export class LocalWorkflowEngine implements WorkflowEngine {
  private readonly machines = new Map<WorkflowKind, { definition: StateMachineDefinition; arn: string; tasks: Map<string, TaskTarget> }>();
  private readonly running = new Map<string, Running>();
  private readonly ended = new Set<string>();
  private readonly tokens = new Map<string, Pending>();
  private idleWaiters: (() => void)[] = [];
  private closed = false;
  /**
   * What the runs cost on AWS: Standard workflows bill per state transition (each state
   * entered, Map iterations included), Lambda per invocation. Counted from the engine's events.
   */
  readonly stats = { executions: 0, stateTransitions: 0, lambdaInvocations: 0 };

  constructor(private readonly opts: LocalWorkflowEngineOptions) {
    const resources = (opts.template?.Resources ?? {}) as Record<string, CfnResource>;
    const functions = lambdaFunctions(resources);
    for (const [kind, spec] of Object.entries(WORKFLOWS) as [WorkflowKind, (typeof WORKFLOWS)[WorkflowKind]][]) {
      const suffix = `/Workflows/${spec.constructId}/Resource`;
      const found = Object.entries(resources).find(([, r]) => r?.Type === 'AWS::StepFunctions::StateMachine'
        && String(r?.Metadata?.['aws:cdk:path'] ?? '').endsWith(suffix));
      if (!found) {
        throw new Error(`the template has no state machine at …${suffix} for workflow '${kind}'; synthesize the stack again (path metadata on)`);
      }
      const [logicalId, resource] = found;
      const text = resolveIntrinsics(resource.Properties?.['DefinitionString'], resources, `${logicalId}.DefinitionString`);
      if (typeof text !== 'string') throw new Error(`state machine ${logicalId} has no DefinitionString`);
      const definition = JSON.parse(text) as StateMachineDefinition & AslNode;
      const tasks = new Map<string, TaskTarget>();
      collectTasks(definition, functions, tasks, logicalId);
      localizeTimeoutPaths(definition);
      const name = String(resource.Properties?.['StateMachineName'] ?? logicalId);
      this.machines.set(kind, { definition, arn: `arn:${PARTITION}:states:${REGION}:${ACCOUNT}:stateMachine:${name}`, tasks });
    }
  }

  async start(kind: WorkflowKind, executionName: string, input: WorkflowInput): Promise<{ started: boolean }> {
    if (this.closed) throw new Error('the local workflow engine is closed; start the local runtime again');
    const machine = this.machines.get(kind);
    if (!machine) throw new Error(`unknown workflow '${kind}'`);
    if (this.running.has(executionName) || this.ended.has(executionName)) return { started: false };
    const tokens = new Set<string>();
    const overrides: Record<string, (input: JSONValue) => Promise<JSONValue>> = {};
    for (const [stateName, target] of machine.tasks) overrides[stateName] = (taskInput) => this.runTask(target, taskInput as TaskInput, executionName, tokens) as Promise<JSONValue>;
    const executionArn = machine.arn.replace(':stateMachine:', ':execution:') + `:${executionName}`;
    const sm = new StateMachine(machine.definition, { validationOptions: { checkArn: false, checkPaths: true } });
    const execution = sm.run({ ...input }, {
      overrides: { taskResourceLocalHandlers: overrides },
      context: {
        Execution: { Id: executionArn, Name: executionName, RoleArn: `arn:${PARTITION}:iam::${ACCOUNT}:role/local` },
        StateMachine: { Id: machine.arn, Name: machine.arn.split(':').pop()! },
        Task: { Token: TOKEN_PLACEHOLDER },
      },
    });
    this.stats.executions++;
    void (async () => {
      for await (const event of execution.eventLogs) if (event.type === 'StateEntered') this.stats.stateTransitions++;
    })().catch(() => undefined);
    const entry: Running = { kind, abort: execution.abort, tokens, stopping: false };
    this.running.set(executionName, entry);
    this.log('info', 'workflow execution started', { kind, execution: executionName });
    execution.result.then(
      () => this.finish(executionName, { status: 'SUCCEEDED' }),
      (e: unknown) => this.finish(executionName, outcomeOf(e)),
    );
    return { started: true };
  }

  async sendTaskSuccess(token: string, output: Readonly<Record<string, unknown>>): Promise<void> {
    const pending = this.tokens.get(token);
    if (!pending) return;
    this.tokens.delete(token);
    pending.resolve(output);
  }

  async sendTaskFailure(token: string, error: string, cause: string): Promise<void> {
    const pending = this.tokens.get(token);
    if (!pending) return;
    this.tokens.delete(token);
    pending.reject(namedError(error, cause));
  }

  async stop(kind: WorkflowKind, executionName: string, cause: string): Promise<void> {
    const entry = this.running.get(executionName);
    if (!entry || entry.kind !== kind || entry.stopping) return;
    entry.stopping = true;
    this.log('info', 'workflow execution stopped', { kind, execution: executionName, cause });
    entry.abort();
    this.rejectTokens(entry, 'States.Aborted', `execution stopped: ${cause}`);
  }

  /** Resolves once no execution is running. */
  whenIdle(): Promise<void> {
    if (this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Aborts every execution and waits for them to end; later starts fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const [name, entry] of this.running) await this.stop(entry.kind, name, 'the local runtime is shutting down');
    await this.whenIdle();
  }

  private async runTask(target: TaskTarget, input: TaskInput, execution: string, tokens: Set<string>): Promise<unknown> {
    const handler = this.opts.handlers[target.fn];
    this.stats.lambdaInvocations++;
    if (target.pattern === 'invoke') return { StatusCode: 200, Payload: await invoke(handler, input?.Payload) };
    if (target.pattern === 'direct') return invoke(handler, input);
    // .waitForTaskToken: register a real token before the handler runs (it may complete it at once).
    const token = randomUUID();
    const { promise, resolve, reject } = (Promise as WithResolvers).withResolvers!<unknown>();
    promise.catch(() => undefined);
    this.tokens.set(token, { resolve, reject, execution });
    tokens.add(token);
    try {
      await invoke(handler, replaceDeep(input?.Payload, TOKEN_PLACEHOLDER, token));
    } catch (e) {
      this.tokens.delete(token);
      tokens.delete(token);
      throw e;
    }
    try {
      return await promise;
    } finally {
      tokens.delete(token);
      this.tokens.delete(token);
    }
  }

  private rejectTokens(entry: Running, error: string, cause: string): void {
    for (const token of entry.tokens) {
      const pending = this.tokens.get(token);
      this.tokens.delete(token);
      pending?.reject(namedError(error, cause));
    }
    entry.tokens.clear();
  }

  private finish(executionName: string, outcome: ExecutionOutcome): void {
    const entry = this.running.get(executionName);
    if (!entry) return;
    // Host tasks still waiting (execution timeout, abort): settle them so no timer is left behind.
    this.rejectTokens(entry, 'States.Aborted', `execution ended: ${outcome.status}`);
    this.running.delete(executionName);
    this.ended.add(executionName);
    this.log(outcome.status === 'SUCCEEDED' ? 'info' : 'warn', 'workflow execution ended', { kind: entry.kind, execution: executionName, ...outcome });
    try {
      this.opts.onEnd?.(entry.kind, executionName, outcome);
    } catch (e) {
      this.log('error', 'onEnd callback failed', { execution: executionName, error: (e as Error).message });
    }
    if (this.running.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private log(level: WorkflowLogLevel, message: string, fields: Record<string, unknown>): void {
    this.opts.log?.(level, message, fields);
  }
}

/** A handler failure becomes a Lambda task error: Error = its name, Cause = its message. */
async function invoke(handler: WorkflowHandler, payload: unknown): Promise<unknown> {
  try {
    return await handler(payload);
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    throw namedError(err.name || 'Error', err.message);
  }
}

function outcomeOf(e: unknown): ExecutionOutcome {
  if (e instanceof ExecutionAbortedError) return { status: 'ABORTED' };
  if (e instanceof ExecutionTimeoutError) return { status: 'FAILED', error: 'States.Timeout', cause: 'the execution timed out' };
  if (e instanceof ExecutionError && e.cause instanceof Error) return { status: 'FAILED', error: e.cause.name, cause: e.cause.message };
  const err = e as Error;
  return { status: 'FAILED', error: err?.name ?? 'Error', cause: err?.message ?? String(e) };
}

interface CfnResource { readonly Type?: string; readonly Metadata?: Record<string, unknown>; readonly Properties?: Record<string, unknown> }
interface AslState {
  Type?: string; Resource?: string; Parameters?: Record<string, unknown>; TimeoutSecondsPath?: string;
  ItemProcessor?: AslNode; Iterator?: AslNode; Branches?: AslNode[];
}
interface AslNode { States?: Record<string, AslState> }
interface TaskInput { readonly Payload?: unknown }

interface TaskTarget { readonly fn: WorkflowFunction; readonly pattern: 'invoke' | 'token' | 'direct' }

/** Lambda ARN (as resolved below) → workflow function, by the function's construct path. */
function lambdaFunctions(resources: Record<string, CfnResource>): Map<string, WorkflowFunction> {
  const out = new Map<string, WorkflowFunction>();
  for (const [logicalId, r] of Object.entries(resources)) {
    if (r?.Type !== 'AWS::Lambda::Function') continue;
    const p = String(r?.Metadata?.['aws:cdk:path'] ?? '');
    for (const [fn, spec] of Object.entries(WORKFLOW_FUNCTIONS) as [WorkflowFunction, { constructId: string }][]) {
      if (p.includes(`/Workflows/${spec.constructId}/`)) out.set(lambdaArn(logicalId), fn);
    }
  }
  return out;
}

const lambdaArn = (logicalId: string) => `arn:${PARTITION}:lambda:${REGION}:${ACCOUNT}:function:${logicalId}`;

/** Resolves the intrinsics CDK puts into a DefinitionString. */
export function resolveIntrinsics(value: unknown, resources: Readonly<Record<string, CfnResource>>, at: string): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v, i) => resolveIntrinsics(v, resources, `${at}[${i}]`));
  const v = value as Record<string, unknown>;
  if ('Fn::Join' in v) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map((p, i) => String(resolveIntrinsics(p, resources, `${at}.Fn::Join[${i}]`))).join(sep);
  }
  if ('Ref' in v) {
    const refs: Record<string, string> = {
      'AWS::Partition': PARTITION, 'AWS::Region': REGION, 'AWS::AccountId': ACCOUNT, 'AWS::URLSuffix': 'amazonaws.com', 'AWS::StackName': 'EdgeFleet',
    };
    const ref = String(v.Ref);
    if (ref in refs) return refs[ref];
    throw new Error(`${at}: cannot resolve { Ref: ${ref} } locally`);
  }
  if ('Fn::GetAtt' in v) {
    const [id, attr] = v['Fn::GetAtt'] as [string, string];
    if (attr === 'Arn' && resources[id]?.Type === 'AWS::Lambda::Function') return lambdaArn(id);
    throw new Error(`${at}: cannot resolve { Fn::GetAtt: [${id}, ${attr}] } locally (only Lambda ARNs)`);
  }
  throw new Error(`${at}: unsupported intrinsic ${Object.keys(v).join(', ')}`);
}

/** Every Task state (nested Maps and Parallels included) → the local function it calls. */
function collectTasks(machine: AslNode | undefined, functions: Map<string, WorkflowFunction>, out: Map<string, TaskTarget>, where: string): void {
  for (const [name, state] of Object.entries(machine?.States ?? {})) {
    if (state.Type === 'Task') {
      const resource = String(state.Resource);
      let target: TaskTarget | undefined;
      if (resource.endsWith(':states:::lambda:invoke') || resource.endsWith(':states:::lambda:invoke.waitForTaskToken')) {
        const fn = functions.get(String(state.Parameters?.['FunctionName']));
        if (fn) target = { fn, pattern: resource.endsWith('.waitForTaskToken') ? 'token' : 'invoke' };
      } else if (functions.has(resource)) {
        target = { fn: functions.get(resource)!, pattern: 'direct' };
      }
      if (!target) throw new Error(`${where}: task '${name}' calls ${resource} ${String(state.Parameters?.['FunctionName'] ?? '')}, which has no local handler`);
      if (out.has(name)) throw new Error(`${where}: task state name '${name}' is used twice; local overrides are keyed by state name`);
      out.set(name, target);
    }
    for (const sub of [state.ItemProcessor, state.Iterator, ...(state.Branches ?? [])]) if (sub) collectTasks(sub, functions, out, where);
  }
}

/**
 * AWS reads TimeoutSecondsPath from the state input; aws-local-stepfunctions reads it from the
 * effective input (after Parameters). Copy the value into Parameters under a reserved key so
 * both agree; the local handlers only look at Payload.
 */
function localizeTimeoutPaths(machine: AslNode | undefined): void {
  for (const state of Object.values(machine?.States ?? {})) {
    if (state.Type === 'Task' && typeof state.TimeoutSecondsPath === 'string' && state.Parameters) {
      state.Parameters[`${LOCAL_TIMEOUT_KEY}.$`] = state.TimeoutSecondsPath;
      state.TimeoutSecondsPath = `$.${LOCAL_TIMEOUT_KEY}`;
    }
    for (const sub of [state.ItemProcessor, state.Iterator, ...(state.Branches ?? [])]) if (sub) localizeTimeoutPaths(sub);
  }
}

function replaceDeep(value: unknown, from: string, to: string): unknown {
  if (value === from) return to;
  if (Array.isArray(value)) return value.map((v) => replaceDeep(v, from, to));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceDeep(v, from, to)]));
  return value;
}
