import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { WORKFLOW_ERRORS } from '../../contracts/workflows.js';
import { EdgeFleetError } from '../../domain/errors.js';
import type { RolloutDeps } from '../../use-cases/rollout-deps.js';
import { awsRoot } from '../composition-root.js';
import { correlationIds, entryPoint } from '../kit.js';
import { getLogger } from '../observability.js';

/** An invalid task input: the state machine's Catch sees the name, the operation's reason the message. */
export class InvalidTaskInput extends Error {
  override readonly name = WORKFLOW_ERRORS.invalid;
}

/**
 * A Step Functions task target: validates the payload (strict zod), calls one use case and
 * returns its result. An error is logged and re-thrown: Step Functions reports its name as the
 * task's Error and its message as the Cause, which the fail step turns into the reason.
 */
export function workflowHandler<S extends z.ZodType, R, D>(
  task: string, schema: S, run: (input: z.infer<S>, deps: D) => Promise<R>, deps: () => D,
): (event: unknown, context?: Context) => Promise<R> {
  // The payload's operation (and, for a host task, its host) label every line of the invocation.
  return entryPoint<unknown, R>({
    kind: 'workflow', name: `edgefleet-workflow-${task}`,
    correlate: (event) => ({
      ...correlationIds(event, ['operationId']),
      ...(event !== null && typeof event === 'object' ? correlationIds(Reflect.get(event, 'task'), ['hostId']) : {}),
    }),
  }, async (event) => {
    const parsed = schema.safeParse(event);
    if (!parsed.success) {
      const why = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ');
      getLogger().error('workflow task input rejected', { task, why });
      throw new InvalidTaskInput(`${task} received an invalid input (${why}); the state machine definition and the handler disagree`);
    }
    try {
      return await run(parsed.data, deps());
    } catch (e) {
      const err = e as Error;
      const log = e instanceof EdgeFleetError ? getLogger().warn.bind(getLogger()) : getLogger().error.bind(getLogger());
      log('workflow task failed', { task, error: { name: err.name, message: err.message, ...(e instanceof EdgeFleetError ? { code: e.code } : {}) } });
      throw e;
    }
  });
}

/** The AWS dependencies of a workflow task, from the composition root (built at cold start). */
export const awsWorkflowDeps = (): RolloutDeps => awsRoot(['stateTable', 'auditTable']).workflow;
