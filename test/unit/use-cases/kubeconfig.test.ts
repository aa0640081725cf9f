import type { CommandRecord } from '../../../lambdas/domain/command.js';
import type { OperationRecord } from '../../../lambdas/domain/model.js';
import { getKubeconfig } from '../../../lambdas/use-cases/get-kubeconfig.js';
import { recordResultWithSecrets } from '../../../lambdas/use-cases/store-kubeconfig.js';
import { kubeconfigSecret } from '../../../lambdas/use-cases/workflows/deps.js';
import { ADMIN, CLUSTER_ID, CP, ctxOf, PROJECT, T0, world, type World } from './world.js';

/** The kubeconfig an init node returns goes to the secret store only; admins read it back, audited. */

const KUBECONFIG = 'apiVersion: v1\nkind: Config\nclusters:\n- name: default\n  cluster:\n    server: https://192.0.2.10:6443\nusers:\n- name: default\n  user:\n    client-key-data: c2VjcmV0LWtleQ==\n';
const OP = 'op-create';

async function creating(): Promise<World> {
  const w = await world();
  const op: OperationRecord = { id: OP, project: PROJECT, type: 'create-cluster', target: { type: 'cluster', id: CLUSTER_ID }, status: 'running', step: 'kubeconfig', hosts: {}, startedAt: T0 };
  w.state.operations.set(op.id, op);
  const cluster = w.state.clusters.get(CLUSTER_ID)!;
  w.state.clusters.set(CLUSTER_ID, { ...cluster, status: 'provisioning', activeOperationId: OP, operationId: OP });
  const command: CommandRecord = {
    hostId: CP, commandId: 'wf-k1', type: 'export-kubeconfig', params: { address: '192.0.2.10' }, deadline: '2026-11-30T11:00:00.000Z',
    state: 'accepted', version: 2, createdAt: T0, updatedAt: T0, operationId: OP, workflowStep: 'export-kubeconfig', taskToken: 'tok-1',
  };
  await w.commands.create(command);
  return w;
}

/** Everything the control plane stored, as text (the secret store excepted). */
const stored = (w: World) => JSON.stringify({
  clusters: [...w.state.clusters.values()], operations: [...w.state.operations.values()], commands: [...w.state.commands.values()], audit: w.state.audit,
});

describe('recordResultWithSecrets (results of export-kubeconfig)', () => {
  it('moves the kubeconfig into the secret store, records when on the cluster, and completes the task with "stored at"', async () => {
    const w = await creating();
    expect(await recordResultWithSecrets(w, CP, 'wf-k1', { phase: 'succeeded', detail: 'admin kubeconfig exported (server https://192.0.2.10:6443)' }, { kubeconfig: KUBECONFIG })).toBe('applied');
    expect(await w.secrets.get(kubeconfigSecret(CLUSTER_ID))).toBe(KUBECONFIG);
    expect(w.state.clusters.get(CLUSTER_ID)!.kubeconfigStoredAt).toBe(T0);
    const command = await w.commands.get(CP, 'wf-k1');
    expect(command).toEqual(expect.objectContaining({ state: 'succeeded', detail: `kubeconfig stored at ${T0} (admin kubeconfig exported (server https://192.0.2.10:6443))` }));
    expect(w.workflows.completed).toEqual([expect.objectContaining({ token: 'tok-1', output: expect.objectContaining({ detail: expect.stringMatching(/^kubeconfig stored at /) }) })]);
    expect(JSON.stringify(w.workflows.completed)).not.toContain('c2VjcmV0LWtleQ==');
    expect(stored(w)).not.toContain('c2VjcmV0LWtleQ==');
  });

  it('a delivery that stored the result but died before completing the task (a Lambda timeout) is finished by the redelivery', async () => {
    const w = await creating();
    const down = { sendTaskSuccess: async () => { throw new Error('Task timed out after 10.00 seconds'); }, sendTaskFailure: w.workflows.sendTaskFailure.bind(w.workflows) };
    await expect(recordResultWithSecrets({ ...w, workflows: down }, CP, 'wf-k1', { phase: 'succeeded' }, { kubeconfig: KUBECONFIG })).rejects.toThrow(/timed out/);
    expect((await w.commands.get(CP, 'wf-k1'))!.state).toBe('succeeded');
    expect(w.workflows.completed).toEqual([]); // without the redelivery the create would wait until its deadline
    expect(await recordResultWithSecrets(w, CP, 'wf-k1', { phase: 'succeeded' }, { kubeconfig: KUBECONFIG })).toBe('redelivered');
    expect(w.workflows.completed).toEqual([expect.objectContaining({ token: 'tok-1', output: expect.objectContaining({ detail: expect.stringMatching(/^kubeconfig stored at /) }) })]);
    expect(await w.secrets.get(kubeconfigSecret(CLUSTER_ID))).toBe(KUBECONFIG);
    // Delivered a third time (the token is closed by now): nothing changes, nothing fails.
    expect(await recordResultWithSecrets(w, CP, 'wf-k1', { phase: 'succeeded' }, { kubeconfig: KUBECONFIG })).toBe('redelivered');
    expect(w.workflows.completed).toHaveLength(1);
  });

  it('fails the step, saying why, when a success carries no kubeconfig', async () => {
    const w = await creating();
    await recordResultWithSecrets(w, CP, 'wf-k1', { phase: 'succeeded', detail: 'admin kubeconfig exported' });
    expect((await w.commands.get(CP, 'wf-k1'))!.state).toBe('failed');
    expect((await w.commands.get(CP, 'wf-k1'))!.detail).toMatch(/did not send it/);
    expect(await w.secrets.get(kubeconfigSecret(CLUSTER_ID))).toBeUndefined();
  });

  it('drops a kubeconfig riding on any other command', async () => {
    const w = await creating();
    await w.commands.create({ hostId: CP, commandId: 'c-2', type: 'report-state', params: {}, deadline: '2026-11-30T11:00:00.000Z', state: 'sent', version: 1, createdAt: T0, updatedAt: T0 });
    await recordResultWithSecrets(w, CP, 'c-2', { phase: 'succeeded' }, { kubeconfig: KUBECONFIG });
    expect(w.secrets.secrets.size).toBe(0);
    expect(await w.secrets.get(kubeconfigSecret(CLUSTER_ID))).toBeUndefined();
  });
});

describe('getKubeconfig', () => {
  it('returns the stored kubeconfig to an admin, audited as cluster.kubeconfig.read', async () => {
    const w = await creating();
    await recordResultWithSecrets(w, CP, 'wf-k1', { phase: 'succeeded' }, { kubeconfig: KUBECONFIG });
    expect(await getKubeconfig(w, ADMIN, CLUSTER_ID)).toBe(KUBECONFIG);
    expect(w.state.audit.at(-1)).toEqual(expect.objectContaining({ action: 'cluster.kubeconfig.read', resource: `cluster/${CLUSTER_ID}`, outcome: 'success', actor: 'alice' }));
    expect(JSON.stringify(w.state.audit)).not.toContain('c2VjcmV0LWtleQ==');
  });

  it.each(['viewer', 'operator'] as const)('refuses a %s (403), audited as denied', async (role) => {
    const w = await creating();
    await recordResultWithSecrets(w, CP, 'wf-k1', { phase: 'succeeded' }, { kubeconfig: KUBECONFIG });
    await expect(getKubeconfig(w, ctxOf(role, 'bob'), CLUSTER_ID)).rejects.toMatchObject({ kind: 'forbidden' });
    expect(w.state.audit.at(-1)).toEqual(expect.objectContaining({ action: 'cluster.kubeconfig.read', outcome: 'denied', actor: 'bob' }));
  });

  it("hides another project's cluster (404)", async () => {
    const w = await creating();
    await recordResultWithSecrets(w, CP, 'wf-k1', { phase: 'succeeded' }, { kubeconfig: KUBECONFIG });
    const other = { principal: { subject: 'eve', roles: { other: 'admin' as const } }, project: 'other', requestId: 'r' };
    await expect(getKubeconfig(w, other, CLUSTER_ID)).rejects.toMatchObject({ kind: 'not-found', code: 'cluster-not-found' });
  });

  it('answers 409 with what to do while none was fetched yet', async () => {
    const w = await creating();
    await expect(getKubeconfig(w, ADMIN, CLUSTER_ID)).rejects.toMatchObject({ kind: 'conflict', code: 'kubeconfig-not-ready', message: expect.stringMatching(/wait for the create operation op-create to succeed/) });
  });
});
