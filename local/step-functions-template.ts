import { WORKFLOW_FUNCTIONS, type WorkflowFunction } from '../lambdas/contracts/workflows.js';

/**
 * Reading the synthesized CloudFormation template for the local Step Functions engine: the
 * intrinsics CDK puts into a DefinitionString, the Task states and the local function each
 * calls, and the one place where aws-local-stepfunctions reads a path differently from AWS.
 */

export const PARTITION = 'aws';
export const REGION = 'local-1';
export const ACCOUNT = '000000000000';
/** Where a Task's TimeoutSecondsPath is copied to (see `localizeTimeoutPaths`). */
const LOCAL_TIMEOUT_KEY = '__localTimeoutSeconds';

export interface CfnResource { readonly Type?: string; readonly Metadata?: Record<string, unknown>; readonly Properties?: Record<string, unknown> }
export interface AslState {
  Type?: string; Resource?: string; Parameters?: Record<string, unknown>; TimeoutSecondsPath?: string;
  ItemProcessor?: AslNode; Iterator?: AslNode; Branches?: AslNode[];
}
export interface AslNode { States?: Record<string, AslState> }

export interface TaskTarget { readonly fn: WorkflowFunction; readonly pattern: 'invoke' | 'token' | 'direct' }

/** Lambda ARN (as resolved below) → workflow function, by the function's construct path. */
export function lambdaFunctions(resources: Record<string, CfnResource>): Map<string, WorkflowFunction> {
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
export function collectTasks(machine: AslNode | undefined, functions: Map<string, WorkflowFunction>, out: Map<string, TaskTarget>, where: string): void {
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
export function localizeTimeoutPaths(machine: AslNode | undefined): void {
  for (const state of Object.values(machine?.States ?? {})) {
    if (state.Type === 'Task' && typeof state.TimeoutSecondsPath === 'string' && state.Parameters) {
      state.Parameters[`${LOCAL_TIMEOUT_KEY}.$`] = state.TimeoutSecondsPath;
      state.TimeoutSecondsPath = `$.${LOCAL_TIMEOUT_KEY}`;
    }
    for (const sub of [state.ItemProcessor, state.Iterator, ...(state.Branches ?? [])]) if (sub) localizeTimeoutPaths(sub);
  }
}
