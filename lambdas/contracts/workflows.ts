import { z } from 'zod';

/**
 * The cluster workflows: one Step Functions state machine per operation type, all of one
 * shape (lib/constructs/cluster-workflows.ts):
 *
 *   Begin (workflow-step: begin → a plan: host tasks per phase)
 *     → for each phase: Map over its host tasks (MaxConcurrency per phase), each one a
 *       `.waitForTaskToken` invocation of host-command, which sends the host a command through
 *       the command channel; the result handler completes the token when the host reports
 *     → Finish (workflow-step: finish) → Succeed
 *   any error → Fail step (workflow-step: fail, records the step and reason) → Fail
 *
 * Plain data shared by lib/ (state machine definitions), the handlers and local/.
 */
export const workflowKind = z.enum(['create-cluster', 'scale-out', 'scale-in', 'reconfigure', 'delete-cluster', 'upgrade-cluster']);
export type WorkflowKind = z.infer<typeof workflowKind>;
/** Every state machine: the cluster workflows and the fleet rollout. */
export const machineKind = z.enum([...workflowKind.options, 'rollout']);
export type MachineKind = z.infer<typeof machineKind>;

/**
 * The fleet rollout (issue 13): one Standard state machine looping Tick → Wait, the tick being
 * workflow-step's `rollout-tick` (lambdas/use-cases/workflows/rollout-tick.ts); any error →
 * `rollout-fail` → Fail. Each tick is about 10 history events; after TICKS_PER_EXECUTION (500) ticks
 * the rollout continues as a new execution, so no execution nears 25,000 events whatever the
 * fleet size. Cluster upgrades are their own upgrade-cluster executions (started by the tick),
 * not children: a rollout's history does not grow with its clusters.
 */
export const ROLLOUT_MACHINE = {
  constructId: 'Rollout',
  description: 'fleet rollout: plan the target clusters, then tick (settle running cluster upgrades, judge abort thresholds, start the next wave within windows and the concurrency cap) and wait, until it ends',
} as const;

export interface WorkflowPhase {
  /** Key of the phase's host tasks in the plan (`$.plan.phases.<id>`). */
  readonly id: string;
  /** Host tasks of this phase run at most this many at a time. */
  readonly maxConcurrency: number;
  /**
   * A host task that fails is recorded on the operation and the phase goes on (delete: one
   * unreachable host must not keep the others from being reset). @default false
   */
  readonly tolerateHostFailure?: boolean;
  /**
   * Items are node sequences (`{hostId, steps: HostTask[]}`): each node's steps run one after
   * the other (an inner Map with MaxConcurrency 1), nodes run `maxConcurrency` at a time.
   * @default false (items are single host tasks)
   */
  readonly sequence?: boolean;
  /** Read the node concurrency from the plan instead (`$.plan.maxUnavailable`). */
  readonly maxConcurrencyFromPlan?: boolean;
}

export interface WorkflowSpec {
  /** Construct id of the state machine in lib/. */
  readonly constructId: string;
  readonly description: string;
  readonly phases: readonly WorkflowPhase[];
}

export const WORKFLOWS: Readonly<Record<WorkflowKind, WorkflowSpec>> = {
  'create-cluster': {
    constructId: 'CreateCluster',
    description: 'repave the hosts that do not run the profile\'s OS image (preflight, verified A/B upgrade), init the first control-plane node, join the other control-plane nodes one at a time, then the workers, then fetch the kubeconfig from the init node, then wait on the init node until every pack is ready',
    phases: [
      { id: 'repave', maxConcurrency: 10, sequence: true },
      { id: 'init', maxConcurrency: 1 },
      { id: 'controlPlane', maxConcurrency: 1 },
      { id: 'workers', maxConcurrency: 10 },
      // The init node's admin kubeconfig, once, into the secret store (GET /v1/clusters/{id}/kubeconfig).
      { id: 'kubeconfig', maxConcurrency: 1 },
      // The init node waits until every CNI, CSI and add-on pack is ready (none without packs).
      { id: 'packs', maxConcurrency: 1 },
    ],
  },
  'scale-out': {
    constructId: 'ScaleOut',
    description: 'repave the new hosts that do not run the profile\'s OS image, join new control-plane nodes one at a time, new workers in parallel',
    phases: [
      { id: 'repave', maxConcurrency: 10, sequence: true },
      { id: 'controlPlane', maxConcurrency: 1 },
      { id: 'workers', maxConcurrency: 10 },
    ],
  },
  'scale-in': {
    constructId: 'ScaleIn',
    description: 'cordon, drain and delete each leaving node (from a remaining control-plane node), then reset the leaving hosts',
    phases: [
      { id: 'drain', maxConcurrency: 1 },
      { id: 'reset', maxConcurrency: 10 },
    ],
  },
  reconfigure: {
    constructId: 'Reconfigure',
    description: 'apply restart/reload changes node by node: control plane first, then workers, then wait on the init node until every pack is ready',
    phases: [
      { id: 'controlPlane', maxConcurrency: 1 },
      { id: 'workers', maxConcurrency: 1 },
      { id: 'packs', maxConcurrency: 1 },
    ],
  },
  'delete-cluster': {
    constructId: 'DeleteCluster',
    description: 'reset every host through the statereset boot entry, then release the hosts and remove the cluster',
    phases: [{ id: 'reset', maxConcurrency: 10, tolerateHostFailure: true }],
  },
  'upgrade-cluster': {
    constructId: 'UpgradeCluster',
    description: 'node by node: preflight, cordon and drain, Kairos A/B upgrade and reboot, post-boot health gate, uncordon; control plane one at a time, then workers maxUnavailable at a time',
    phases: [
      { id: 'controlPlane', maxConcurrency: 1, sequence: true },
      { id: 'workers', maxConcurrency: 1, sequence: true, maxConcurrencyFromPlan: true },
    ],
  },
};

/** What a host is asked to do in a workflow; the host-command handler turns it into a command. */
export const hostStep = z.enum([
  'init', 'join-control-plane', 'join-worker', 'drain', 'remove-node', 'reset', 'restart', 'reload',
  // upgrades: preflight and the upgrade run on the node; cordon/drain/uncordon on a control-plane peer
  'preflight', 'cordon', 'upgrade', 'reboot', 'uncordon',
  // create: the init node's admin kubeconfig, once
  'export-kubeconfig',
  // create and reconfigure: the init node waits until every pack of the profile is ready
  'wait-packs',
]);
export type HostStep = z.infer<typeof hostStep>;

const id = z.string().min(1).max(64).regex(/^[A-Za-z0-9_.:-]+$/);

export const hostTask = z.strictObject({
  /** The host the command goes to. */
  hostId: id,
  step: hostStep,
  /** The host the step is about when it differs (drain: the leaving node, run from a control-plane peer). */
  subject: id.optional(),
});
export type HostTask = z.infer<typeof hostTask>;

/** A node's steps in a sequence phase, run one after the other. */
export const nodeSequence = z.strictObject({
  hostId: id,
  steps: z.array(hostTask).max(10),
});
export type NodeSequence = z.infer<typeof nodeSequence>;

/** Input of every cluster workflow execution. The execution name is the operation id. */
export const workflowInput = z.strictObject({ operationId: id });
/** Input of a rollout execution. */
export const rolloutInput = z.strictObject({ rolloutId: id });
export type WorkflowInput = z.infer<typeof workflowInput> | z.infer<typeof rolloutInput>;

/** What `begin` returns (stored at `$.plan`). */
export const workflowPlan = z.strictObject({
  phases: z.record(z.string(), z.array(z.union([hostTask, nodeSequence]))),
  /** TimeoutSeconds of each host task (backstop; the command deadline normally ends it first). */
  hostTimeoutSeconds: z.number().int().min(1).max(86_400),
  /** Nodes of a `maxConcurrencyFromPlan` phase at a time. */
  maxUnavailable: z.number().int().min(1).max(1000).optional(),
});
export type WorkflowPlan = z.infer<typeof workflowPlan>;

/** The error Step Functions puts at `$.error` when a Catch fires. */
export const workflowError = z.object({ Error: z.string().optional(), Cause: z.string().optional() });

/**
 * The execution a step belongs to (`$$.Execution.Name`): only the operation's current run may
 * act (optional for executions started before the field existed).
 */
const execution = z.string().min(1).max(80).regex(/^[A-Za-z0-9_.:-]+$/).optional();

export const workflowStepInput = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('begin'), operationId: id, execution }),
  z.strictObject({ action: z.literal('finish'), operationId: id, execution }),
  z.strictObject({ action: z.literal('fail'), operationId: id, execution, error: workflowError }),
  z.strictObject({ action: z.literal('rollout-tick'), rolloutId: id, execution: z.string().min(1).max(80).regex(/^[A-Za-z0-9_.:-]+$/) }),
  z.strictObject({ action: z.literal('rollout-fail'), rolloutId: id, execution: z.string().min(1).max(80).regex(/^[A-Za-z0-9_.:-]+$/), error: workflowError }),
]);
export type WorkflowStepInput = z.infer<typeof workflowStepInput>;

export const hostCommandInput = z.strictObject({
  token: z.string().min(1).max(2048),
  operationId: id,
  execution,
  phase: z.string().min(1).max(32),
  task: hostTask,
});
export type HostCommandInput = z.infer<typeof hostCommandInput>;

/** Error names a host task fails with (Catch matches them; the operation's reason quotes the cause). */
export const WORKFLOW_ERRORS = {
  hostFailed: 'EdgeFleet.HostFailed',
  hostTimedOut: 'EdgeFleet.HostTimedOut',
  invalid: 'EdgeFleet.Invalid',
} as const;

/** Environment of the workflow handlers and of every handler that starts or completes workflows. */
export const WORKFLOW_ENV = {
  /** JSON: { [kind]: stateMachineArn } */
  stateMachines: 'STATE_MACHINE_ARNS',
  /** Prefix of the Secrets Manager names of cluster secrets, e.g. `edgefleet/<stack>/`. */
  secretPrefix: 'SECRET_PREFIX',
  /** Seconds one host may take for one workflow step. @default 1800 */
  hostTimeoutSeconds: 'HOST_TIMEOUT_SECONDS',
} as const;

/**
 * Name (under the secret prefix) of the deployment's HMAC key for Idempotency-Key records: a
 * record keeps HMAC-SHA256(key, request) rather than a plain hash, because a request body may
 * carry secret values (secret profile variables) that a plain hash would let anyone who reads
 * the table confirm by guessing. On AWS the stack creates it; the local runtime creates it on
 * first start (under its data directory, 0600).
 */
export const IDEMPOTENCY_KEY_SECRET = 'idempotency-fingerprint-key';

/**
 * The two Lambda functions every state machine's Task states invoke. lib/ builds them from
 * `entry` under `constructId`; the local runtime maps the synthesized Task resources back to
 * the same handler modules by that construct id.
 */
export const WORKFLOW_FUNCTIONS = {
  /** begin / finish / fail: synchronous steps that read and write the operation. */
  step: { constructId: 'WorkflowStep', entry: 'lambdas/handlers/workflow/workflow-step.ts' },
  /** `.waitForTaskToken`: sends one host its command, carrying the task token. */
  hostCommand: { constructId: 'HostCommand', entry: 'lambdas/handlers/workflow/host-command.ts' },
} as const;
export type WorkflowFunction = keyof typeof WORKFLOW_FUNCTIONS;
