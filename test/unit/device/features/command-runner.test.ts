import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resultMessage, TOPICS } from '../../../../lambdas/contracts/mqtt.js';
import { sleep } from '../../../../device/backoff.js';
import { CommandRunnerFeature } from '../../../../device/features/command-runner-feature.js';
import { StateStore } from '../../../../device/state-store.js';
import { waitFor } from '../agent-harness.js';
import { activeTimeouts, agentState, fakeHost, type FakeHost } from './feature-harness.js';

let dir: string;
let runners: CommandRunnerFeature[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ef-runner-'));
});
afterEach(async () => {
  for (const r of runners) await r.stop();
  runners = [];
  await rm(dir, { recursive: true, force: true });
});

const future = () => new Date(Date.now() + 60 * 60_000).toISOString();
const cmd = (commandId: string, type: string, params: Record<string, unknown> = {}) => JSON.stringify({ commandId, type, params, deadline: future() });

async function runner(host: FakeHost = fakeHost()) {
  const store = new StateStore(dir);
  await store.init();
  const results: any[] = [];
  const reports: string[] = [];
  const state = agentState();
  const r = new CommandRunnerFeature({
    hostId: 'host-1', executor: host, store, state, log: () => undefined, now: () => new Date(), sleep,
    publish: async (topic, body) => {
      expect(topic).toBe(TOPICS.results('host-1'));
      expect(resultMessage.safeParse(body).success).toBe(true);
      results.push(body);
    },
    report: async (kind) => void reports.push(kind),
    reportIfChanged: async () => void reports.push('if-changed'),
    readyTimeoutMs: 1000, readyPollMs: 10,
  });
  runners.push(r);
  await r.start();
  await r.verified;
  const phases = (id: string) => results.filter((x) => x.commandId === id).map((x) => x.phase);
  const outcome = (id: string) => waitFor(() => phases(id).some((p) => p === 'succeeded' || p === 'failed'), `${id} outcome`);
  return { r, host, store, results, reports, state, phases, outcome };
}

describe('command runner feature', () => {
  test.each([
    ['bootstrap Ready', { ready: true }, 'succeeded'],
    ['bootstrap never Ready', { ready: false }, 'failed'],
  ])('%s: a status report (if anything changed) goes out before the verdict, not at the next periodic check', async (_name, k8s, verdict) => {
    const host = fakeHost({ boot: 'active', kairosVersion: 'v3.4.2', kubernetes: { ...k8s, role: 'init', version: 'v1.32.3+k3s1' } });
    const store = new StateStore(dir);
    await store.init();
    const events: string[] = [];
    const r = new CommandRunnerFeature({
      hostId: 'host-1', executor: host, store, state: agentState(), log: () => undefined, now: () => new Date(), sleep,
      publish: async (_t, body) => void events.push(`result ${(body as { phase: string }).phase}`),
      report: async (kind) => void events.push(`report ${kind}`), reportIfChanged: async () => void events.push('report if-changed'),
      readyTimeoutMs: 1000, readyPollMs: 10,
    });
    runners.push(r);
    await r.start();
    r.accept(JSON.stringify({ commandId: 'b-1', type: 'apply-cloud-config', params: { cloudConfig: 'cluster:\n  cluster_token: t0k3n\n  role: init\n', mode: 'bootstrap', readyTimeoutSeconds: 1 }, deadline: future() }));
    await waitFor(() => events.includes(`result ${verdict}`), 'the verdict');
    expect(events.slice(-2)).toEqual(['report if-changed', `result ${verdict}`]);
  });

  test('runs a command id at most once: a redelivery repeats the stored result and runs nothing', async () => {
    const x = await runner();
    x.r.accept(cmd('r-1', 'report-state'));
    x.r.accept(cmd('r-1', 'report-state'));
    await waitFor(() => x.phases('r-1').length === 3, 'three results');
    expect(x.reports).toEqual(['full']);
    expect(x.phases('r-1')).toEqual(['accepted', 'succeeded', 'succeeded']);
    expect(x.state.commandsRun).toBe(1);
  });

  test('at most once across a restart: a new runner on the same state dir does not run it again', async () => {
    const a = await runner();
    a.r.accept(cmd('a-1', 'apply-cloud-config', { cloudConfig: 'stages: {}' }));
    await a.outcome('a-1');
    await a.r.stop();
    const b = await runner(a.host);
    b.r.accept(cmd('a-1', 'apply-cloud-config', { cloudConfig: 'stages: {}' }));
    await b.outcome('a-1');
    expect(a.host.calls).toEqual(['apply-cloud-config']);
    expect(b.phases('a-1')).toEqual(['succeeded']);
  });

  test('refuses a type outside the allow-list, records the id, and runs nothing', async () => {
    const x = await runner();
    x.r.accept(JSON.stringify({ commandId: 'evil-1', type: 'exec', params: { argv: 'rm -rf /' }, deadline: future() }));
    await x.outcome('evil-1');
    expect(x.results).toEqual([expect.objectContaining({ commandId: 'evil-1', phase: 'failed', detail: expect.stringContaining('"exec" is not allowed') })]);
    // The refused id never runs later, whatever type it comes back with.
    x.r.accept(cmd('evil-1', 'reboot'));
    await waitFor(() => x.phases('evil-1').length === 2, 'the repeated refusal');
    expect(x.phases('evil-1')).toEqual(['failed', 'failed']);
    expect(x.host.calls).toEqual([]);
    expect(x.state.commandsRun).toBe(0);
  });

  test('drops what it cannot answer (no JSON, no usable id) with a log line', async () => {
    const logs: string[] = [];
    const x = await runner();
    const r = new CommandRunnerFeature({
      hostId: 'host-1', executor: x.host, store: x.store, state: agentState(), log: (_l, m) => logs.push(m), now: () => new Date(), sleep,
      publish: async (_t, body) => void x.results.push(body), report: async () => undefined, reportIfChanged: async () => undefined, readyTimeoutMs: 1000, readyPollMs: 10,
    });
    runners.push(r);
    await r.start();
    r.accept('not json');
    r.accept(JSON.stringify({ type: 'exec' }));
    expect(logs).toEqual(['dropped a command that is not JSON', 'dropped a command of a type that is not allowed and without a usable id']);
    expect(x.results).toEqual([]);
  });

  test('start() first decides the command that rebooted the host, before any command delivered meanwhile', async () => {
    const store = new StateStore(dir);
    await store.init();
    await store.writeInflight({ commandId: 'boot-1', type: 'reboot', deadline: future(), startedAt: new Date().toISOString() });
    const x = await runner();
    x.r.accept(cmd('r-2', 'report-state'));
    await x.outcome('r-2');
    expect(x.results.map((r) => `${r.commandId} ${r.phase}`)).toEqual(['boot-1 succeeded', 'r-2 accepted', 'r-2 succeeded']);
    expect(await x.store.readInflight()).toBeUndefined();
  });

  test('a command past its deadline while running fails with "deadline passed"', async () => {
    const host = fakeHost();
    host.hangUpgrade = true;
    const x = await runner(host);
    x.r.accept(JSON.stringify({ commandId: 'h-1', type: 'upgrade', params: { image: 'quay.io/kairos/ubuntu:v3.5.0' }, deadline: new Date(Date.now() + 200).toISOString() }));
    await x.outcome('h-1');
    expect(x.phases('h-1')).toEqual(['accepted', 'progress', 'failed']);
    expect(x.results.at(-1).detail).toBe('deadline passed');
  });

  test('stop() ends the deadline timer of a running command, and a stopped runner publishes nothing', async () => {
    const host = fakeHost();
    host.hangUpgrade = true;
    const x = await runner(host);
    const before = activeTimeouts();
    x.r.accept(cmd('h-2', 'upgrade', { image: 'quay.io/kairos/ubuntu:v3.5.0' }));
    await waitFor(() => x.phases('h-2').includes('progress') && host.calls.length === 1, 'the upgrade running');
    expect(activeTimeouts()).toBe(before + 1);
    await x.r.stop();
    expect(activeTimeouts()).toBe(before);
    x.r.accept(cmd('r-3', 'report-state'));
    await x.r.idle;
    expect(x.phases('h-2')).toEqual(['accepted', 'progress']);
    expect(x.phases('r-3')).toEqual([]);
    expect(x.reports).toEqual([]);
    // Not recorded either: the agent that runs next may still run it.
    expect(await x.store.recordCommand('r-3')).toBe(true);
  });

  describe('wait-packs', () => {
    const init = (): FakeHost => fakeHost({ boot: 'active', kairosVersion: 'v3.4.2', kubernetes: { ready: true, role: 'init', version: 'v1.31.2+k3s1' } });
    const detail = (x: Awaited<ReturnType<typeof runner>>, id: string) => x.results.filter((r) => r.commandId === id && (r.phase === 'succeeded' || r.phase === 'failed')).map((r) => `${r.phase}: ${r.detail}`)[0];

    test('succeeds once every named pack is ready, after progress naming what it waits for; the status goes out first', async () => {
      const host = init();
      host.currentPacks = [{ name: 'calico', type: 'cni', state: 'installing', reason: 'helm install job helm-install-calico running' }, { name: 'nfs', type: 'csi', state: 'ready', version: 'v4.9.0' }];
      const x = await runner(host);
      x.r.accept(cmd('w-1', 'wait-packs', { packs: 'calico,nfs', timeoutSeconds: 30 }));
      await waitFor(() => x.results.some((r) => r.commandId === 'w-1' && r.phase === 'progress' && /calico installing \(helm install job/.test(r.detail)), 'progress naming calico');
      host.currentPacks = [{ name: 'calico', type: 'cni', state: 'ready', version: 'v3.29.1' }, host.currentPacks[1]!];
      await x.outcome('w-1');
      expect(detail(x, 'w-1')).toBe('succeeded: every pack ready: calico v3.29.1, nfs v4.9.0');
      expect(x.reports).toContain('if-changed');
    });

    test('fails at once when a pack is in error, naming it and its reason', async () => {
      const host = init();
      host.currentPacks = [{ name: 'calico', type: 'cni', state: 'error', reason: 'chart tigera-operator version v9.9.9 not found in https://docs.tigera.io/calico/charts' }];
      const x = await runner(host);
      x.r.accept(cmd('w-2', 'wait-packs', { packs: 'calico', timeoutSeconds: 3600 }));
      await x.outcome('w-2');
      expect(detail(x, 'w-2')).toBe('failed: pack calico failed: chart tigera-operator version v9.9.9 not found in https://docs.tigera.io/calico/charts');
    });

    test('fails when the time is up, naming the packs not ready and their states', async () => {
      const host = init();
      host.currentPacks = [{ name: 'calico', type: 'cni', state: 'pending', reason: 'manifest edgefleet-calico.yaml not applied yet' }];
      const x = await runner(host);
      x.r.accept(cmd('w-3', 'wait-packs', { packs: 'calico', timeoutSeconds: 1 }));
      await x.outcome('w-3');
      expect(detail(x, 'w-3')).toBe('failed: packs not ready within 1 s: calico pending (manifest edgefleet-calico.yaml not applied yet)');
    });

    test('is refused on a worker and with bad parameters (nothing waited for)', async () => {
      const worker = fakeHost({ boot: 'active', kubernetes: { ready: true, role: 'worker' } });
      const x = await runner(worker);
      x.r.accept(cmd('w-4', 'wait-packs', { packs: 'calico', timeoutSeconds: 5 }));
      x.r.accept(cmd('w-5', 'wait-packs', { packs: 'Calico;rm -rf', timeoutSeconds: 5 }));
      await x.outcome('w-4');
      await x.outcome('w-5');
      expect(detail(x, 'w-4')).toMatch(/^failed: this host is a worker; wait-packs runs on the cluster's init node/);
      expect(detail(x, 'w-5')).toMatch(/^failed: .*packs: pack names \(DNS labels\), comma-separated/);
    });
  });
});
