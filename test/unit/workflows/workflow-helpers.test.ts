import { bootstrapToken } from '../../../lambdas/use-cases/workflows/begin-operation.js';
import { readableCause } from '../../../lambdas/use-cases/workflows/fail-operation.js';
import { taskCommandId } from '../../../lambdas/use-cases/workflows/run-host-task.js';
import { commandMessage } from '../../../lambdas/contracts/mqtt.js';
import { operationDeadline } from '../../../lambdas/use-cases/workflows/deps.js';

describe('readableCause()', () => {
  it.each([
    ['a Lambda error (JSON cause) shows its message', { Error: 'ConflictError', Cause: JSON.stringify({ errorMessage: 'host h1 is offline', errorType: 'ConflictError' }) }, 'host h1 is offline'],
    ['a host failure (plain cause) is quoted', { Error: 'EdgeFleet.HostFailed', Cause: 'host h2 failed init: join refused' }, 'host h2 failed init: join refused'],
    ['a task timeout says what timed out', { Error: 'States.Timeout' }, 'a host did not answer within the host timeout'],
    ['no cause: the error name', { Error: 'States.Runtime' }, 'States.Runtime'],
    ['nothing at all', {}, 'unknown error'],
    ['JSON that is not a Lambda error stays as text', { Error: 'X', Cause: '{"foo":1}' }, '{"foo":1}'],
  ])('%s', (_name, error, expected) => {
    expect(readableCause(error)).toBe(expected);
  });
});

describe('bootstrapToken()', () => {
  it('has kubeadm\'s bootstrap-token shape whatever the random source gives', () => {
    const sources = [() => 'AbC-_dEf0123456789xyzQRSTUVWXYZ-_-_abcdefgh', () => '-_-_A', () => 'Z9'];
    for (const s of sources) expect(bootstrapToken(s)).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
  });
  it('differs between calls with real randomness', () => {
    const rnd = () => Math.random().toString(36).slice(2);
    expect(bootstrapToken(rnd)).not.toBe(bootstrapToken(rnd));
  });
});

describe('taskCommandId()', () => {
  const task = { hostId: 'h1', step: 'init' as const };
  it('is stable for one (operation, phase, task) and a valid command id', () => {
    const id = taskCommandId('op-1', 'init', task);
    expect(id).toBe(taskCommandId('op-1', 'init', task));
    expect(commandMessage.shape.commandId.safeParse(id).success).toBe(true);
  });
  it.each([
    ['another operation', 'op-2', 'init', task],
    ['another phase', 'op-1', 'controlPlane', task],
    ['another host', 'op-1', 'init', { hostId: 'h2', step: 'init' as const }],
    ['another step', 'op-1', 'init', { hostId: 'h1', step: 'reset' as const }],
    ['another subject', 'op-1', 'init', { hostId: 'h1', step: 'init' as const, subject: 'h3' }],
  ])('changes with %s', (_n, op, phase, t) => {
    expect(taskCommandId(op, phase, t)).not.toBe(taskCommandId('op-1', 'init', task));
  });
});

describe('operationDeadline()', () => {
  it('gives every sequential host step the host timeout, plus begin and finish', () => {
    const now = new Date('2026-01-01T00:00:00.000Z');
    expect(operationDeadline(now, 3, { hostTimeoutSeconds: 60 })).toBe('2026-01-01T00:05:00.000Z');
  });
});

describe('workflow kinds', () => {
  it('the domain and the wire schema list the same kinds', async () => {
    const { WORKFLOW_KINDS } = await import('../../../lambdas/domain/workflow.js');
    const { workflowKind, WORKFLOWS } = await import('../../../lambdas/contracts/workflows.js');
    expect([...workflowKind.options]).toEqual([...WORKFLOW_KINDS]);
    expect(Object.keys(WORKFLOWS).sort()).toEqual([...WORKFLOW_KINDS].sort());
  });
});
