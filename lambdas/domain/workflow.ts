/**
 * The kinds of cluster workflow (one state machine each); an operation's `type` names one.
 * The wire schema (contracts/workflows.ts `workflowKind`) lists the same kinds; a unit test
 * keeps the two in step.
 */
export const WORKFLOW_KINDS = ['create-cluster', 'scale-out', 'scale-in', 'reconfigure', 'delete-cluster', 'upgrade-cluster'] as const;
export type WorkflowKind = (typeof WORKFLOW_KINDS)[number];

/** Every state machine: the cluster workflows, and the fleet rollout (which is no operation: it runs many). */
export const MACHINE_KINDS = [...WORKFLOW_KINDS, 'rollout'] as const;
export type MachineKind = (typeof MACHINE_KINDS)[number];

/** Input of a cluster workflow's execution (named after the operation), or of a rollout's ({rolloutId}). */
export type WorkflowInput = { readonly operationId: string } | { readonly rolloutId: string };

/** The operation fields that say which workflow run is alive. */
export interface RunState {
  readonly id: string;
  readonly status: string;
  /** The current execution's name (the operation id; `<id>-r<n>` after a resume). */
  readonly execution?: string;
  readonly ending?: string;
}

/**
 * Why a workflow run may not act (send a command, start, finish) any more, or undefined when
 * it may: only the operation's current execution acts, and only while the operation is
 * `running`. A run that failed, was paused, cancelled, stopped or replaced by a resumed run
 * sends nothing (Step Functions stops a failed or stopped execution; this holds even if a
 * state of it runs late).
 */
export function runEnded(op: RunState, execution: string | undefined): string | undefined {
  if (op.status !== 'running') return `operation ${op.id} is ${op.status}`;
  if (op.ending) return `operation ${op.id} is ending (${op.ending})`;
  const current = op.execution ?? op.id;
  if (execution !== undefined && execution !== current) return `run ${execution} of operation ${op.id} was replaced by run ${current}`;
  return undefined;
}
