import { workflowStepInput, type WorkflowPlan } from '../../contracts/workflows.js';
import { beginOperation } from '../../use-cases/workflows/begin-operation.js';
import type { WorkflowDeps } from '../../use-cases/workflows/deps.js';
import { failOperation } from '../../use-cases/workflows/fail-operation.js';
import { finishOperation } from '../../use-cases/workflows/finish-operation.js';
import { lazy } from '../kit.js';
import { awsWorkflowDeps, workflowHandler } from './framework.js';

/** Task `workflow-step`: begin (→ the plan), finish, fail. Parses, calls one use case, returns its result. */
export const makeHandler = (deps: () => WorkflowDeps) => workflowHandler('workflow-step', workflowStepInput, async (input, d): Promise<WorkflowPlan | { status: string }> => {
  switch (input.action) {
    case 'begin': return beginOperation(d, input.operationId, input.execution);
    case 'finish': return finishOperation(d, input.operationId, input.execution);
    case 'fail': return failOperation(d, input.operationId, input.error, input.execution);
  }
}, deps);

export const handler = lazy(() => makeHandler(awsWorkflowDeps));
