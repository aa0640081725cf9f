import { workflowStepInput, type WorkflowPlan } from '../../contracts/workflows.js';
import { beginOperation } from '../../use-cases/workflows/begin-operation.js';
import type { RolloutDeps } from '../../use-cases/rollout-deps.js';
import { failRollout, tickRollout, type TickResult } from '../../use-cases/workflows/rollout-tick.js';
import { readableCause } from '../../use-cases/workflows/fail-operation.js';
import { failOperation } from '../../use-cases/workflows/fail-operation.js';
import { finishOperation } from '../../use-cases/workflows/finish-operation.js';
import { lazy } from '../kit.js';
import { awsWorkflowDeps, workflowHandler } from './framework.js';

/** Task `workflow-step`: begin (→ the plan), finish, fail; a rollout's tick and fail. Parses, calls one use case, returns its result. */
export const makeHandler = (deps: () => RolloutDeps) => workflowHandler('workflow-step', workflowStepInput, async (input, d): Promise<WorkflowPlan | TickResult | { status: string }> => {
  switch (input.action) {
    case 'begin': return beginOperation(d, input.operationId, input.execution);
    case 'finish': return finishOperation(d, input.operationId, input.execution);
    case 'fail': return failOperation(d, input.operationId, input.error, input.execution);
    case 'rollout-tick': return tickRollout(d, input.rolloutId, input.execution);
    case 'rollout-fail': {
      await failRollout(d, input.rolloutId, input.execution, readableCause(input.error));
      return { status: 'failed' };
    }
  }
}, deps);

export const handler = lazy(() => makeHandler(awsWorkflowDeps));
