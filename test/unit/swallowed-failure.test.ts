import type { CommandRecord } from '../../lambdas/domain/command.js';
import { startWorkflow } from '../../lambdas/use-cases/cluster-operations.js';
import { publishStored, type DeviceDeps } from '../../lambdas/use-cases/device-messages.js';
import { setFailureSink } from '../../lambdas/use-cases/swallowed-failure.js';

const lines: string[] = [];
let previous: ReturnType<typeof setFailureSink>;
const level = process.env.POWERTOOLS_LOG_LEVEL;
beforeAll(() => { process.env.POWERTOOLS_LOG_LEVEL = 'WARN'; previous = setFailureSink((l) => lines.push(l)); });
afterAll(() => { setFailureSink(previous); if (level === undefined) delete process.env.POWERTOOLS_LOG_LEVEL; else process.env.POWERTOOLS_LOG_LEVEL = level; });
beforeEach(() => { lines.length = 0; });

const emfMetric = (line: Record<string, any>) => line._aws.CloudWatchMetrics[0].Metrics[0].Name;

describe('failures swallowed by design leave a structured line and a metric', () => {
  it('publishStored: a failed publish returns false (the command stays queued) and says so with host, command and operation', async () => {
    const updates: unknown[] = [];
    const deps: DeviceDeps = {
      clock: { now: () => new Date('2026-01-01T00:00:00Z') },
      presence: { apply: async () => true },
      status: { get: async () => undefined, put: async () => true },
      commands: { create: async () => true, get: async () => undefined, update: async (c) => { updates.push(c); return true; }, listUnfinished: async () => [], listOverdue: async () => [], withParams: async (c) => c },
      publisher: { publish: async () => { throw new Error('endpoint unreachable'); } },
      hostLifecycle: { lifecycle: async () => ({ status: 'approved' }) },
    };
    const c: CommandRecord = {
      commandId: 'cmd-1', hostId: 'h1', type: 'reboot', params: {}, deadline: '2026-01-01T01:00:00Z', state: 'queued', version: 1,
      createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z', operationId: 'op-1',
    } as CommandRecord;
    expect(await publishStored(deps, c)).toBe(false);
    expect(updates).toEqual([]);
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!);
    expect(line).toMatchObject({ level: 'WARN', hostId: 'h1', commandId: 'cmd-1', operationId: 'op-1', error: { message: 'endpoint unreachable' }, CommandPublishFailed: 1 });
    expect(line.message).toMatch(/stays queued/);
    expect(emfMetric(line)).toBe('CommandPublishFailed');
  });

  it('startWorkflow: a failed start does not fail the request and says the sweep will start it', async () => {
    await expect(startWorkflow({ workflows: { start: async () => { throw new Error('throttled'); } } as never }, 'create-cluster', 'op-9')).resolves.toBeUndefined();
    const line = JSON.parse(lines[0]!);
    expect(line).toMatchObject({ operationId: 'op-9', workflow: 'create-cluster', WorkflowStartFailed: 1, error: { message: 'throttled' } });
    expect(line.message).toMatch(/stays queued.*sweep/);
    expect(emfMetric(line)).toBe('WorkflowStartFailed');
  });
});
