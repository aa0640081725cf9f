/**
 * Fleet-wide agent updates through the rollout machinery (issue 16 Build 5), end to end on the
 * local runtime with simulated hosts running the real agent: a rollout of kind agent-update
 * starts each host's own agent-update operation in waves (canary first); a target succeeds only
 * when its host reports the new version; a version that falls back fails its target with the
 * reason and the abort threshold stops the rollout with the later hosts untouched.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { renderAgentManifest } from '../../lambdas/contracts/agent-artifacts.js';
import type { SimulatedFleet } from '../../simulator/index.js';
import { eventually, startFleet, startHarness, type Harness } from './harness.js';

let h: Harness;
let fleet: SimulatedFleet;
let dir: string;
const NEW = '0.2.0';
const OLD = '0.1.0';
const FILE = `edgefleet-agent-linux-${process.arch}`;
const EXECUTABLE = Buffer.from(`#!/bin/sh\n# edgefleet agent ${NEW} (test artifact)\n${'x'.repeat(1024)}\n`);

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-agentrollout-it-'));
  const artifacts = path.join(dir, 'artifacts');
  mkdirSync(artifacts);
  writeFileSync(path.join(artifacts, FILE), EXECUTABLE);
  writeFileSync(path.join(artifacts, 'manifest.json'), renderAgentManifest({
    version: NEW, node: process.version, builtAt: new Date().toISOString(),
    artifacts: [{ arch: process.arch === 'arm64' ? 'arm64' : 'x64', file: FILE, sha256: createHash('sha256').update(EXECUTABLE).digest('hex'), size: EXECUTABLE.length }],
  }));
  h = await startHarness({ agentArtifactsDir: artifacts, commandSweepMs: 300 });
  ({ fleet } = await startFleet(h, { count: 8, prefix: 'ar', stateDir: path.join(dir, 'hosts'), kairos: { rebootDelayMs: 50, k8sReadyDelayMs: 50 } }));
}, 120_000);

afterAll(async () => {
  await fleet?.stop();
  await h?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const ENDED = ['succeeded', 'incomplete', 'aborted', 'cancelled', 'superseded', 'failed'];
async function rolloutEnded(id: string): Promise<any> {
  let last: unknown;
  return eventually(`rollout ${id} ends`, async () => {
    last = (await h.call('GET', `/v1/rollouts/${id}`)).body;
    return ENDED.includes((last as { status: string }).status) ? last : false;
  }, 120_000, 200).catch((e) => { throw new Error(`${(e as Error).message}; last seen: ${JSON.stringify(last)}`); });
}
const targets = async (id: string) => (await h.call('GET', `/v1/rollouts/${id}/clusters?limit=100`)).body.items as any[];
const reportedVersion = async (hostId: string) => ((await h.call('GET', `/v1/hosts/${hostId}`)).body as { reported?: { agentVersion?: string } }).reported?.agentVersion;
const agentOps = async () => ((await h.call('GET', '/v1/operations?limit=100')).body.items as { type: string; target: { id: string } }[]).filter((o) => o.type === 'agent-update');
const policy = (extra: object = {}) => ({ waves: { canary: { clusters: 1 }, growth: 2, maxConcurrent: 4 }, tickSeconds: 1, ...extra });

describe('agent-update rollouts', () => {
  it('bad input on the create route is a 4xx problem and starts nothing', async () => {
    const post = (body: unknown) => h.call('POST', '/v1/rollouts', { body });
    const bad: unknown[] = [
      { kind: 'agent-update', version: 'latest', targets: { all: true } },
      { kind: 'agent-update', version: NEW, targets: { hostIds: ['ar-1', 'ar-1'] } },
      { kind: 'agent-update', version: NEW, targets: { hostIds: [] } },
      { kind: 'agent-update', version: NEW, targets: { template: 'shop' } },
      { kind: 'agent-update', version: NEW, targets: { all: false } },
      { kind: 'agent-update', version: NEW, targets: { hostIds: Array.from({ length: 1001 }, (_, i) => `h-${i}`) } },
      { kind: 'agent-update', version: NEW, to: { version: '1.0.0' }, targets: { all: true } },
      { kind: 'os-update', version: NEW, targets: { all: true } },
    ];
    for (const body of bad) expect([JSON.stringify(body).slice(0, 80), (await post(body)).status]).toEqual([JSON.stringify(body).slice(0, 80), 400]);
    const unpublished = await post({ kind: 'agent-update', version: '9.9.9', targets: { all: true } });
    expect(unpublished).toMatchObject({ status: 422, body: { code: 'agent-version-not-published' } });
    expect(unpublished.body.detail).toContain(`offers ${NEW}`);
    const viewer = await h.call('POST', '/v1/rollouts', { body: { kind: 'agent-update', version: NEW, targets: { all: true } }, token: await h.token('v@example.com', ['default:viewer']) });
    expect(viewer.status).toBe(403);
    expect((await h.call('GET', '/v1/rollouts')).body.items).toEqual([]);
    expect(await agentOps()).toEqual([]);
  });

  it('a canary of 1 then growing waves over 4 hosts: succeeded, every host reports the new version', async () => {
    const hosts = ['ar-1', 'ar-2', 'ar-3', 'ar-4'];
    for (const id of hosts) expect(await reportedVersion(id)).toBe(OLD);
    const created = await h.call('POST', '/v1/rollouts', { body: { kind: 'agent-update', version: NEW, targets: { hostIds: hosts }, policy: policy() } });
    expect(created).toMatchObject({ status: 202, body: { kind: 'agent-update', to: { version: NEW }, targets: { hostList: { count: 4 } } } });
    const r = await rolloutEnded(created.body.id);
    expect([r.status, r.reason]).toEqual(['succeeded', 'all 4 hosts updated and reporting the new agent version']);
    expect(r.waves.map((w: { size: number }) => w.size)).toEqual([1, 2, 1]);
    for (const id of hosts) expect(await reportedVersion(id)).toBe(NEW);
    const ts = await targets(r.id);
    expect(ts.map((t) => [t.hostId, t.state, t.operationId])).toEqual(hosts.map((id, i) => [id, 'succeeded', `op-${r.id}-${i}`]));
    for (const t of ts) {
      const op = (await h.call('GET', `/v1/operations/${t.operationId}`)).body;
      expect([op.type, op.status, op.target.id]).toEqual(['agent-update', 'succeeded', t.hostId]);
    }
  });

  it('hosts already at the version are done, not failures', async () => {
    const created = await h.call('POST', '/v1/rollouts', { body: { kind: 'agent-update', version: NEW, targets: { hostIds: ['ar-1', 'ar-2'] }, policy: policy() } });
    const r = await rolloutEnded(created.body.id);
    expect(r.status).toBe('succeeded');
    const ts = await targets(r.id);
    expect(ts.map((t) => [t.state, t.reason, t.operationId])).toEqual([['succeeded', `skipped: already at agent ${NEW}`, undefined], ['succeeded', `skipped: already at agent ${NEW}`, undefined]]);
  });

  it('a version that falls back fails its canary target with the reason; the abort threshold stops the rollout, later hosts untouched', async () => {
    fleet.host('ar-5')!.failAgentVersions.add(NEW);
    const later = ['ar-6', 'ar-7', 'ar-8'];
    const created = await h.call('POST', '/v1/rollouts', {
      body: { kind: 'agent-update', version: NEW, targets: { hostIds: ['ar-5', ...later] }, policy: policy({ abort: { failureCount: 1, minFinished: 1 } }) },
    });
    expect(created.status).toBe(202);
    const r = await rolloutEnded(created.body.id);
    expect(r.status).toBe('aborted');
    expect(r.reason).toMatch(/aborted/);
    expect(r.counts).toMatchObject({ failed: 1, pending: 3, succeeded: 0, running: 0 });
    expect(r.failed.map((t: { hostId: string }) => t.hostId)).toEqual(['ar-5']);
    expect(r.failed[0].reason).toMatch(/^its agent update failed: .*fell back to agent 0\.1\.0/);
    expect(await reportedVersion('ar-5')).toBe(OLD);
    for (const id of later) expect(await reportedVersion(id)).toBe(OLD);
    const touched = (await agentOps()).map((o) => o.target.id);
    for (const id of later) expect(touched).not.toContain(id);
    expect((await targets(r.id)).filter((t) => later.includes(t.hostId)).map((t) => t.state)).toEqual(['pending', 'pending', 'pending']);
  });
});
