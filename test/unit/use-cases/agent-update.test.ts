/** agent-update on the in-memory adapters: the request, and the operation following its command and the reported version in either order. */
import { startAgentUpdate } from '../../../lambdas/use-cases/agent-update.js';
import { recordResult, recordStatus } from '../../../lambdas/use-cases/device-messages.js';
import { sweepOperations } from '../../../lambdas/use-cases/workflows/sweep-operations.js';
import { ctxOf, world, type World } from './world.js';

const OPERATOR = ctxOf('operator');
const published = { publishedVersion: async () => '1.1.0' };
let seq = 100;
const reportVersion = (w: World, v: string) => recordStatus(w.deps, 'h1', { at: new Date(w.clock.now().getTime() + ++seq).toISOString(), seq, kind: 'change', agentVersion: v });

async function started() {
  const w = await world();
  const op = await startAgentUpdate({ ...w.deps, agentManifest: published }, OPERATOR, 'h1', { version: '1.1.0' });
  return { w, op };
}

describe('startAgentUpdate', () => {
  it('records the operation and sends the allow-listed command with the version; audited', async () => {
    const { w, op } = await started();
    expect(op).toMatchObject({ type: 'agent-update', status: 'running', target: { type: 'host', id: 'h1' }, input: { version: '1.1.0', from: '1.0.0' } });
    expect(w.publisher.to('h1')).toEqual([expect.objectContaining({ commandId: op.input.commandId, type: 'agent-update', params: { version: '1.1.0', commitSeconds: 120 } })]);
    expect((await w.audit.list('p', {}, { limit: 10 })).items.map((e) => e.action)).toContain('host.agent-update');
  });

  it('refuses a second one while the first is open, a viewer, and a version not published', async () => {
    const { w, op } = await started();
    await expect(startAgentUpdate({ ...w.deps, agentManifest: published }, OPERATOR, 'h1', { version: '1.1.0' })).rejects.toMatchObject({ code: 'agent-update-running', message: expect.stringContaining(op.id) });
    await expect(startAgentUpdate({ ...w.deps, agentManifest: published }, ctxOf('viewer'), 'h2', { version: '1.1.0' })).rejects.toMatchObject({ code: 'forbidden' });
    await expect(startAgentUpdate({ ...w.deps, agentManifest: published }, OPERATOR, 'h2', { version: '2.0.0' })).rejects.toMatchObject({ code: 'agent-version-not-published' });
    await expect(startAgentUpdate(w.deps, OPERATOR, 'h2', { version: '1.1.0' })).rejects.toMatchObject({ code: 'agent-artifacts-missing' });
  });
});

describe('the operation follows the command and the reported version', () => {
  it('result first, then the report: succeeded only once the host reports the version', async () => {
    const { w, op } = await started();
    await recordResult(w.deps, 'h1', op.input.commandId, { phase: 'succeeded', detail: 'agent 1.1.0 is running and online' });
    expect(await w.operations.get(op.id)).toMatchObject({ status: 'running', step: 'awaiting-version-report' });
    await reportVersion(w, '1.1.0');
    expect(await w.operations.get(op.id)).toMatchObject({ status: 'succeeded', step: 'done' });
  });

  it('report first, then the result: succeeded', async () => {
    const { w, op } = await started();
    await reportVersion(w, '1.1.0');
    expect((await w.operations.get(op.id))?.status).toBe('running');
    await recordResult(w.deps, 'h1', op.input.commandId, { phase: 'succeeded' });
    expect(await w.operations.get(op.id)).toMatchObject({ status: 'succeeded' });
  });

  it('a failed result fails it with the host\'s reason, whatever is reported after', async () => {
    const { w, op } = await started();
    await recordResult(w.deps, 'h1', op.input.commandId, { phase: 'failed', detail: 'fell back to agent 1.0.0 because agent 1.1.0 did not come online' });
    await reportVersion(w, '1.1.0');
    expect(await w.operations.get(op.id)).toMatchObject({ status: 'failed', reason: expect.stringContaining('fell back to agent 1.0.0') });
  });

  it('the sweep ends one whose version report never came, saying so', async () => {
    const { w, op } = await started();
    await recordResult(w.deps, 'h1', op.input.commandId, { phase: 'succeeded' });
    w.clock.set(new Date(Date.parse(op.deadline!) + 3 * 60_000));
    await sweepOperations(w.deps);
    expect(await w.operations.get(op.id)).toMatchObject({ status: 'failed', reason: expect.stringMatching(/deadline passed: the agent said it runs 1\.1\.0 but the host never reported that version/) });
  });
});
