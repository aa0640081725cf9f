import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Grant, PolicyStatement, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  Chain, DefinitionBody, Fail, IntegrationPattern, JsonPath, LogLevel as SfnLogLevel, Map as MapState, Pass,
  StateMachine, StateMachineType, Succeed, TaskInput, Timeout, type IChainable,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import {
  WORKFLOW_ENV, WORKFLOW_FUNCTIONS, WORKFLOWS, type WorkflowFunction, type WorkflowKind, type WorkflowSpec,
} from '../../lambdas/contracts/workflows.js';
import { HANDLER_ENV } from '../api-routes.js';
import { acknowledgeNag } from '../nag.js';
import { deployArn, wildcardFinding, type ArnParts } from '../arns.js';
import { bindTable, EdgeFunction, type LogLevel } from './edge-function.js';
import { grantCommandPublish } from './iot-rules.js';

export interface ClusterWorkflowsProps {
  /** Operations, clusters, hosts and commands (read and written by both workflow functions). */
  readonly stateTable: ITable;
  /** Audit events (append-only). */
  readonly auditTable: ITable;
  /**
   * Backstop for one host task (TimeoutSecondsPath of the `.waitForTaskToken` tasks, via the plan).
   * Between 1 minute and 24 hours.
   * @default Duration.minutes(30)
   */
  readonly hostTimeout?: Duration;
  /**
   * Timeout of a whole execution. Between 5 minutes and 7 days, and at least `hostTimeout`.
   * @default Duration.hours(24)
   */
  readonly executionTimeout?: Duration;
  /**
   * Prefix of the Secrets Manager names of cluster secrets (join tokens).
   * @default `edgefleet/${stackName}/`
   */
  readonly secretPrefix?: string;
  /**
   * Retention of the state machines' execution log group and of the functions' log groups.
   * @default RetentionDays.THREE_MONTHS (executions), RetentionDays.ONE_MONTH (functions)
   */
  readonly executionLogRetention?: RetentionDays;
  readonly functionLogRetention?: RetentionDays;
  /**
   * `POWERTOOLS_LOG_LEVEL` of both functions.
   * @default 'INFO'
   */
  readonly logLevel?: LogLevel;
}

/** Error of the Fail state every failed execution ends in (after RecordFailure). */
export const OPERATION_FAILED_ERROR = 'EdgeFleet.OperationFailed';

/**
 * The cluster workflows (lambdas/contracts/workflows.ts): the WorkflowStep and HostCommand
 * functions and one Standard state machine per WORKFLOWS entry, all built by
 * `buildDefinition` from the spec. JSONPath only, so local/step-functions.ts runs the very
 * same definitions.
 */
export class ClusterWorkflows extends Construct {
  public readonly functions: Readonly<Record<WorkflowFunction, EdgeFunction>>;
  public readonly stateMachines: Readonly<Record<WorkflowKind, StateMachine>>;
  public readonly logGroup: LogGroup;
  public readonly secretPrefix: string;
  public readonly hostTimeout: Duration;

  constructor(scope: Construct, id: string, props: ClusterWorkflowsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.hostTimeout = props.hostTimeout ?? Duration.minutes(30);
    const hostSeconds = this.hostTimeout.toSeconds();
    if (hostSeconds < 60 || hostSeconds > 86_400) {
      throw new Error(`ClusterWorkflows: hostTimeout must be between 1 minute and 24 hours, got ${hostSeconds} s`);
    }
    const executionTimeout = props.executionTimeout ?? Duration.hours(24);
    const execSeconds = executionTimeout.toSeconds();
    if (execSeconds < 300 || execSeconds > 7 * 86_400 || execSeconds < hostSeconds) {
      throw new Error(`ClusterWorkflows: executionTimeout must be between 5 minutes and 7 days and at least hostTimeout (${hostSeconds} s), got ${execSeconds} s`);
    }
    this.secretPrefix = props.secretPrefix ?? `edgefleet/${stack.stackName}/`;
    if (!/^[A-Za-z0-9/_+=.@-]{1,200}$/.test(this.secretPrefix)) {
      throw new Error(`ClusterWorkflows: secretPrefix may only contain A-Z a-z 0-9 / _ + = . @ - (at most 200), got '${this.secretPrefix}'`);
    }

    const namedArns = Object.fromEntries((Object.entries(WORKFLOWS) as [WorkflowKind, WorkflowSpec][]).map(([kind, spec]) => [kind, deployArn({
      service: 'states', resource: 'stateMachine', resourceName: stateMachineName(stack.stackName, spec.constructId), arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    })])) as Record<WorkflowKind, string>;
    const fn = (name: WorkflowFunction, description: string, timeoutSeconds: number): EdgeFunction => {
      const spec = WORKFLOW_FUNCTIONS[name];
      const f = new EdgeFunction(this, spec.constructId, {
        entry: spec.entry,
        serviceName: `edgefleet-workflow-${name === 'step' ? 'step' : 'host-command'}`,
        description,
        timeoutSeconds,
        logRetention: props.functionLogRetention,
        logLevel: props.logLevel,
        environment: {
          // ARNs from the names, not Refs: the machines invoke these functions (no cycle).
          [WORKFLOW_ENV.stateMachines]: stack.toJsonString(namedArns),
          [WORKFLOW_ENV.secretPrefix]: this.secretPrefix,
          [WORKFLOW_ENV.hostTimeoutSeconds]: String(hostSeconds),
        },
      });
      bindTable(f, props.stateTable, HANDLER_ENV.stateTable, 'readwrite');
      bindTable(f, props.auditTable, HANDLER_ENV.auditTable, 'write', { appendOnly: true });
      return f;
    };
    const step = fn('step', 'EdgeFleet workflow step: begin (plan), finish, fail', 30);
    const hostCommand = fn('hostCommand', 'EdgeFleet workflow host task: sends one host its command (task token)', 30);
    this.functions = { step, hostCommand };

    const secretArn = deployArn(secretParts(this.secretPrefix));
    step.function.addToRolePolicy(new PolicyStatement({
      actions: ['secretsmanager:CreateSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:DeleteSecret'],
      resources: [secretArn],
    }));
    acknowledgeNag(step.role, secretFinding(this.secretPrefix),
      'Cluster join tokens are created and deleted per cluster under this stack\'s secret prefix; the wildcard is the cluster part of the name (plus the random suffix Secrets Manager appends).');
    this.grantSecretRead(hostCommand);
    grantCommandPublish(hostCommand);
    // A failed create or scale-out (RecordFailure) sends reset commands to the hosts it configured.
    grantCommandPublish(step);

    this.logGroup = new LogGroup(this, 'ExecutionLogs', { retention: props.executionLogRetention ?? RetentionDays.THREE_MONTHS });
    const machines = {} as Record<WorkflowKind, StateMachine>;
    for (const [kind, spec] of Object.entries(WORKFLOWS) as [WorkflowKind, WorkflowSpec][]) {
      const machine = new StateMachine(this, spec.constructId, {
        stateMachineName: stateMachineName(stack.stackName, spec.constructId),
        stateMachineType: StateMachineType.STANDARD,
        comment: `EdgeFleet ${kind}: ${spec.description}`,
        definitionBody: DefinitionBody.fromChainable(buildDefinition(this, spec, step.function, hostCommand.function)),
        timeout: executionTimeout,
        tracingEnabled: true,
        // No execution data: inputs and outputs carry task tokens (which complete tasks) and
        // operation inputs; the functions log what an operator needs, by operation id.
        logs: { destination: this.logGroup, level: SfnLogLevel.ALL, includeExecutionData: false },
      });
      acknowledgeNag(machine.role, 'AwsSolutions-IAM5[Resource::*]',
        'CloudWatch Logs delivery (logs:CreateLogDelivery, …) and X-Ray (xray:PutTraceSegments, …) support no resource-level permissions; CDK adds exactly those statements for logging and tracing.');
      for (const f of [step, hostCommand]) {
        acknowledgeNag(machine.role, `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(f.function.node.defaultChild as never)}.Arn>:*]`,
          'lambda:InvokeFunction on the function\'s versions/aliases (<arn>:*) as CDK grants for LambdaInvoke; limited to this one workflow function.');
      }
      machines[kind] = machine;
    }
    this.stateMachines = machines;

    // HostCommand may complete its own task (e.g. the host already did the step).
    this.grantTaskResponse(hostCommand);
    // WorkflowStep starts the rollback of a failed upgrade (a new upgrade-cluster execution),
    // and RecordFailure may complete tasks; same reason for the named ARN.
    step.function.addToRolePolicy(new PolicyStatement({
      actions: ['states:StartExecution'],
      resources: [namedArns['upgrade-cluster']],
    }));
  }

  /**
   * secretsmanager:GetSecretValue on the cluster secrets (under the prefix): functions that
   * publish commands fill the join token into them. Acknowledges the prefix wildcard on `fn`.
   */
  public grantSecretRead(fn: EdgeFunction): void {
    fn.function.addToRolePolicy(new PolicyStatement({
      actions: ['secretsmanager:GetSecretValue'],
      resources: [deployArn(secretParts(this.secretPrefix))],
    }));
    acknowledgeNag(fn.role, secretFinding(this.secretPrefix),
      'Reads the join token of whichever cluster a command is for; the wildcard is the cluster part of the name under this stack\'s prefix (plus the random suffix Secrets Manager appends).');
  }

  /**
   * secretsmanager:CreateSecret and PutSecretValue on the cluster secrets (under the prefix):
   * the clusters API stores secret profile variables (`clusters/<id>/vars/<NAME>`) and never reads them.
   */
  public grantSecretWrite(fn: EdgeFunction): void {
    fn.function.addToRolePolicy(new PolicyStatement({
      actions: ['secretsmanager:CreateSecret', 'secretsmanager:PutSecretValue'],
      resources: [deployArn(secretParts(this.secretPrefix))],
    }));
    acknowledgeNag(fn.role, secretFinding(this.secretPrefix),
      'Writes the secret variables of whichever cluster is created or reconfigured; the wildcard is the cluster part of the name under this stack\'s prefix (plus the random suffix Secrets Manager appends).');
  }

  /**
   * The clusters' kubeconfig secrets only (`<prefix>clusters/<id>/kubeconfig`): the results
   * handler writes the one an init node returns (PutSecretValue, CreateSecret the first time),
   * the clusters API reads it for GET /v1/clusters/{id}/kubeconfig.
   */
  public grantKubeconfig(fn: EdgeFunction, access: 'read' | 'write'): void {
    const parts = kubeconfigParts(this.secretPrefix);
    fn.function.addToRolePolicy(new PolicyStatement({
      actions: access === 'read' ? ['secretsmanager:GetSecretValue'] : ['secretsmanager:PutSecretValue', 'secretsmanager:CreateSecret'],
      resources: [deployArn(parts)],
    }));
    fn.function.addEnvironment(WORKFLOW_ENV.secretPrefix, this.secretPrefix);
    acknowledgeNag(fn.role, wildcardFinding(parts),
      'Only kubeconfig secrets: the wildcards are the cluster id in the name under this stack\'s prefix and the random suffix Secrets Manager appends.');
  }

  /**
   * The alert rules' webhook keys (`alert-rules/<id>/webhook-secret` under the prefix): the alert
   * API creates and deletes them, the dispatcher reads them.
   */
  public grantAlertSecrets(fn: EdgeFunction, access: 'manage' | 'read'): void {
    const parts = alertSecretParts(this.secretPrefix);
    fn.function.addToRolePolicy(new PolicyStatement({
      actions: access === 'read' ? ['secretsmanager:GetSecretValue'] : ['secretsmanager:CreateSecret', 'secretsmanager:DeleteSecret', 'secretsmanager:PutSecretValue'],
      resources: [deployArn(parts)],
    }));
    fn.function.addEnvironment(WORKFLOW_ENV.secretPrefix, this.secretPrefix);
    acknowledgeNag(fn.role, wildcardFinding(parts),
      'Only alert rules\' webhook keys: the wildcards are the rule id in the name under this stack\'s prefix and the random suffix Secrets Manager appends.');
  }

  /** states:StartExecution on every workflow (HTTP handlers that start operations). */
  public grantStart(grantable: IGrantable): void {
    for (const m of Object.values(this.stateMachines)) m.grantStartExecution(grantable);
  }

  /**
   * Completing host tasks: SendTaskSuccess and SendTaskFailure (the results handler), or only
   * SendTaskFailure with `failureOnly` (handlers that only time commands out). AWS's service
   * authorization reference gives these actions no resource type (the task token is the
   * capability), so a statement naming a state machine ARN would never match: IAM needs "*".
   */
  public grantTaskResponse(fn: EdgeFunction, options: { readonly failureOnly?: boolean } = {}): void {
    fn.function.addToRolePolicy(new PolicyStatement({
      actions: options.failureOnly ? ['states:SendTaskFailure'] : ['states:SendTaskFailure', 'states:SendTaskSuccess'],
      resources: ['*'],
    }));
    acknowledgeNag(fn.role, 'AwsSolutions-IAM5[Resource::*]',
      'states:SendTaskSuccess/SendTaskFailure support no resource-level permissions (AWS service authorization reference); the task token itself names the task.');
  }

  /** states:StopExecution on every execution of every workflow (the deadline sweep). */
  public grantStop(grantable: IGrantable): void {
    const stack = Stack.of(this);
    Grant.addToPrincipal({
      grantee: grantable,
      actions: ['states:StopExecution'],
      resourceArns: Object.values(WORKFLOWS).map((s) => deployArn(executionParts(stack.stackName, s.constructId))),
    });
  }

  /** The nag finding ids `grantStop` causes (one per workflow), for the grantee to acknowledge. */
  public stopFindings(): string[] {
    const stackName = Stack.of(this).stackName;
    return Object.values(WORKFLOWS).map((s) => wildcardFinding(executionParts(stackName, s.constructId)));
  }

  /** `{ STATE_MACHINE_ARNS: '{"create-cluster":"arn:…",…}', SECRET_PREFIX }` for handlers that start or stop workflows. */
  public environment(): Record<string, string> {
    const arns = Object.fromEntries(Object.entries(this.stateMachines).map(([k, m]) => [k, m.stateMachineArn]));
    return {
      [WORKFLOW_ENV.stateMachines]: Stack.of(this).toJsonString(arns),
      [WORKFLOW_ENV.secretPrefix]: this.secretPrefix,
    };
  }
}

const secretParts = (prefix: string): ArnParts =>
  ({ service: 'secretsmanager', resource: 'secret', resourceName: `${prefix}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
const secretFinding = (prefix: string) => wildcardFinding(secretParts(prefix));
const kubeconfigParts = (prefix: string): ArnParts =>
  ({ service: 'secretsmanager', resource: 'secret', resourceName: `${prefix}clusters/*/kubeconfig-*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
const alertSecretParts = (prefix: string): ArnParts =>
  ({ service: 'secretsmanager', resource: 'secret', resourceName: `${prefix}alert-rules/*/webhook-secret-*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
const executionParts = (stackName: string, constructId: string): ArnParts =>
  ({ service: 'states', resource: 'execution', resourceName: `${stateMachineName(stackName, constructId)}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });

/** `<stack>-<constructId>`; state machine names are at most 80 characters. */
export function stateMachineName(stackName: string, constructId: string): string {
  const name = `${stackName}-${constructId}`;
  if (name.length > 80) throw new Error(`ClusterWorkflows: state machine name '${name}' is longer than 80 characters; use a shorter stack name`);
  return name;
}

/**
 * One definition from one spec: Begin → one Map per phase → Finish → Succeed; any error →
 * RecordFailure → Fail. State names are unique across the whole machine.
 */
export function buildDefinition(scope: Construct, spec: WorkflowSpec, step: IFunction, hostCommand: IFunction): IChainable {
  const id = spec.constructId;
  const operationId = JsonPath.stringAt('$.operationId');
  // Every step names its execution: only the operation's current run may act (run-host-task, begin, finish, fail).
  const execution = JsonPath.stringAt('$$.Execution.Name');
  // Like every LambdaInvoke here, RecordFailure retries Lambda service errors (CDK's retryOnServiceExceptions).
  const recordFailure = new LambdaInvoke(scope, `${id}RecordFailure`, {
    stateName: 'RecordFailure',
    lambdaFunction: step,
    payload: TaskInput.fromObject({ action: 'fail', operationId, execution, error: JsonPath.objectAt('$.error') }),
    resultPath: JsonPath.DISCARD,
  });
  recordFailure.next(new Fail(scope, `${id}Failed`, {
    stateName: 'Failed', error: OPERATION_FAILED_ERROR,
    cause: 'The operation failed; its reason is recorded on the operation (edgefleet operations get <id>).',
  }));
  const onError = <T extends { addCatch(h: IChainable, p: { errors?: string[]; resultPath?: string }): unknown }>(s: T): T => {
    s.addCatch(recordFailure, { errors: ['States.ALL'], resultPath: '$.error' });
    return s;
  };

  const begin = onError(new LambdaInvoke(scope, `${id}Begin`, {
    stateName: 'Begin',
    lambdaFunction: step,
    payload: TaskInput.fromObject({ action: 'begin', operationId, execution }),
    resultSelector: spec.phases.some((p) => p.maxConcurrencyFromPlan)
      ? { phases: JsonPath.objectAt('$.Payload.phases'), hostTimeoutSeconds: JsonPath.numberAt('$.Payload.hostTimeoutSeconds'), maxUnavailable: JsonPath.numberAt('$.Payload.maxUnavailable') }
      : { phases: JsonPath.objectAt('$.Payload.phases'), hostTimeoutSeconds: JsonPath.numberAt('$.Payload.hostTimeoutSeconds') },
    resultPath: '$.plan',
  }));
  let chain: Chain = Chain.start(begin);
  for (const phase of spec.phases) {
    const hostTask = new LambdaInvoke(scope, `${id}-${phase.id}-HostTask`, {
      stateName: `Host task (${phase.id})`,
      lambdaFunction: hostCommand,
      integrationPattern: IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload: TaskInput.fromObject({
        token: JsonPath.taskToken,
        operationId,
        execution,
        phase: JsonPath.stringAt('$.phase'),
        task: JsonPath.objectAt('$.task'),
      }),
      // The item carries hostTimeoutSeconds (the plan is not visible inside the Map).
      taskTimeout: Timeout.at('$.hostTimeoutSeconds'),
    });
    // A sequence phase: each item is a node with its steps, run one after the other (an inner
    // Map with MaxConcurrency 1 over the node's steps; a failed step ends the node).
    const processor = phase.sequence
      ? new MapState(scope, `${id}-${phase.id}-NodeSteps`, {
        stateName: `Node steps (${phase.id})`,
        itemsPath: '$.task.steps',
        maxConcurrency: 1,
        itemSelector: {
          operationId,
          phase: JsonPath.stringAt('$.phase'),
          hostTimeoutSeconds: JsonPath.numberAt('$.hostTimeoutSeconds'),
          task: JsonPath.objectAt('$$.Map.Item.Value'),
        },
        resultPath: JsonPath.DISCARD,
      }).itemProcessor(hostTask)
      : hostTask;
    if (phase.tolerateHostFailure) {
      // The host's failure is already recorded by the handlers; the phase goes on.
      hostTask.addCatch(new Pass(scope, `${id}-${phase.id}-HostFailed`, { stateName: `Host failed (${phase.id})` }),
        { errors: ['States.ALL'], resultPath: '$.error' });
    }
    const map = onError(new MapState(scope, `${id}-${phase.id}-Phase`, {
      stateName: `Phase ${phase.id}`,
      itemsPath: `$.plan.phases.${phase.id}`,
      ...(phase.maxConcurrencyFromPlan ? { maxConcurrencyPath: '$.plan.maxUnavailable' } : { maxConcurrency: phase.maxConcurrency }),
      itemSelector: {
        operationId,
        phase: phase.id,
        hostTimeoutSeconds: JsonPath.numberAt('$.plan.hostTimeoutSeconds'),
        task: JsonPath.objectAt('$$.Map.Item.Value'),
      },
      resultPath: JsonPath.DISCARD,
    }));
    map.itemProcessor(processor);
    chain = chain.next(map);
  }
  const finish = onError(new LambdaInvoke(scope, `${id}Finish`, {
    stateName: 'Finish',
    lambdaFunction: step,
    payload: TaskInput.fromObject({ action: 'finish', operationId, execution }),
    resultPath: JsonPath.DISCARD,
  }));
  return chain.next(finish).next(new Succeed(scope, `${id}Succeeded`, { stateName: 'Succeeded' }));
}
