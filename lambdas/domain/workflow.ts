/**
 * The kinds of cluster workflow (one state machine each); an operation's `type` names one.
 * The wire schema (contracts/workflows.ts `workflowKind`) lists the same kinds; a unit test
 * keeps the two in step.
 */
export const WORKFLOW_KINDS = ['create-cluster', 'scale-out', 'scale-in', 'reconfigure', 'delete-cluster', 'upgrade-cluster'] as const;
export type WorkflowKind = (typeof WORKFLOW_KINDS)[number];

/** Input of every execution; the execution name is the operation id. */
export interface WorkflowInput {
  readonly operationId: string;
}
