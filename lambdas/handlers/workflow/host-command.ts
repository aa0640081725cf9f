import { hostCommandInput } from '../../contracts/workflows.js';
import type { WorkflowDeps } from '../../use-cases/workflows/deps.js';
import { runHostTask } from '../../use-cases/workflows/run-host-task.js';
import { lazy } from '../kit.js';
import { awsWorkflowDeps, workflowHandler } from './framework.js';

/** Task `host-command` (`.waitForTaskToken`): sends the host its command; the result handler completes the token. */
export const makeHandler = (deps: () => WorkflowDeps) => workflowHandler('host-command', hostCommandInput, async (input, d) => ({ outcome: await runHostTask(d, input) }), deps);

export const handler = lazy(() => makeHandler(awsWorkflowDeps));
