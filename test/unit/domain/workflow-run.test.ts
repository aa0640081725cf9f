import { runEnded } from '../../../lambdas/domain/workflow.js';

describe('runEnded: only the live run of a running operation acts', () => {
  const op = { id: 'op-1', status: 'running', execution: 'op-1-r2' };
  it.each([
    ['the current run of a running operation', op, 'op-1-r2', undefined],
    ['a caller that names no run (the sweep, an older execution input)', op, undefined, undefined],
    ['a run a resume replaced', op, 'op-1', 'run op-1 of operation op-1 was replaced by run op-1-r2'],
    ['a paused operation', { ...op, status: 'paused' }, 'op-1-r2', 'operation op-1 is paused'],
    ['a cancelled operation', { ...op, status: 'cancelled' }, 'op-1-r2', 'operation op-1 is cancelled'],
    ['a failed operation', { ...op, status: 'failed' }, 'op-1-r2', 'operation op-1 is failed'],
    ['a queued operation (its Begin has not run)', { ...op, status: 'queued' }, 'op-1-r2', 'operation op-1 is queued'],
    ['an operation whose failure is being cleaned up', { ...op, ending: 'deadline passed' }, 'op-1-r2', 'operation op-1 is ending (deadline passed)'],
    ['a cleared ending (resumed)', { ...op, ending: '' }, 'op-1-r2', undefined],
    ['the first run, named by the operation id', { id: 'op-1', status: 'running' }, 'op-1', undefined],
    ['a stranger run of the first-run operation', { id: 'op-1', status: 'running' }, 'op-2', 'run op-2 of operation op-1 was replaced by run op-1'],
  ])('%s', (_what, state, execution, expected) => {
    expect(runEnded(state, execution)).toBe(expected);
  });
});
