import { hostCommandInput } from '../../contracts/workflows.js';
import type { WorkflowDeps } from '../../use-cases/workflows/deps.js';
import { runHostTask } from '../../use-cases/workflows/run-host-task.js';
import { workflowHandler } from './framework.js';
import { awsWorkflowDeps } from './wiring.js';

/** Task `host-command` (`.waitForTaskToken`): sends the host its command; the result handler completes the token. */
export const makeHandler = (deps: () => WorkflowDeps) => workflowHandler('host-command', hostCommandInput, async (input, d) => ({ outcome: await runHostTask(d, input) }), deps);

export const handler = makeHandler(awsWorkflowDeps);
