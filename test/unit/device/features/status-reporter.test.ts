import { statusMessage, TOPICS } from '../../../../lambdas/contracts/mqtt.js';
import { sleep } from '../../../../device/backoff.js';
import { StatusReporter, type StatusReporterOptions } from '../../../../device/features/status-reporter.js';
import { inventory, waitFor } from '../agent-harness.js';
import { activeTimeouts, agentState, fakeHost } from './feature-harness.js';

function reporter(over: Partial<StatusReporterOptions> = {}) {
  const nics = { list: [{ name: 'eth0', ips: ['10.1.2.3'] }] };
  const host = fakeHost({ boot: 'active', kairosVersion: 'v3.4.2', kubernetes: { ready: true, role: 'worker', version: 'v1.31.2' } });
  const published: Array<{ topic: string; body: any }> = [];
  const state = agentState();
  const r = new StatusReporter({
    hostId: 'host-1', readState: () => host.state(), inventory: async () => inventory, addresses: () => nics.list,
    publish: async (topic, body) => void published.push({ topic, body }),
    state, log: () => undefined, now: () => new Date(), sleep, checkIntervalMs: 5, fullReportSeconds: 3600, ...over,
  });
  return { r, host, nics, published, state, kinds: () => published.map((p) => p.body.kind) };
}

let running: StatusReporter[] = [];
afterEach(async () => {
  for (const r of running) await r.stop();
  running = [];
});
const started = async (x: ReturnType<typeof reporter>) => {
  running.push(x.r);
  await x.r.start();
  return x;
};

describe('status reporter feature', () => {
  test('reports the state partition\'s free space in 256 MiB steps: a change within a step sends nothing, crossing one sends a change', async () => {
    const disk = { mb: 5000 };
    const x = await started(reporter({ stateFreeMb: async () => disk.mb }));
    expect(x.published[0]!.body.storage).toEqual({ stateFreeMb: 4864 });
    disk.mb = 4900;
    await new Promise((r) => setTimeout(r, 40));
    expect(x.kinds()).toEqual(['full']);
    disk.mb = 1000;
    await waitFor(() => x.published.length === 2, 'a change report');
    expect(x.published[1]!.body).toMatchObject({ kind: 'change', storage: { stateFreeMb: 768 } });
  });

  test('start() sends one full report with the inventory on the status topic', async () => {
    const x = await started(reporter());
    expect(x.published).toHaveLength(1);
    expect(x.published[0]!.topic).toBe(TOPICS.status('host-1'));
    expect(statusMessage.parse(x.published[0]!.body)).toMatchObject({ kind: 'full', inventory, boot: { state: 'active', kairosVersion: 'v3.4.2' } });
    expect(x.state.statusSent).toBe(1);
  });

  test('every report carries the host\'s addresses; an address change alone sends a change report with the new ones', async () => {
    const x = await started(reporter());
    expect(statusMessage.parse(x.published[0]!.body).addresses).toEqual([{ name: 'eth0', ips: ['10.1.2.3'] }]);
    x.nics.list = [{ name: 'eth0', ips: ['10.1.2.4'] }];
    await waitFor(() => x.published.length === 2, 'a change report');
    expect(x.published[1]!.body).toMatchObject({ kind: 'change', addresses: [{ name: 'eth0', ips: ['10.1.2.4'] }] });
  });

  test('sends only on change: many checks of an unchanged host send nothing; a change sends one change report', async () => {
    const x = await started(reporter());
    await waitFor(() => x.host.reads >= 20, '20 checks');
    expect(x.kinds()).toEqual(['full']);
    x.host.current = { ...x.host.current, kubernetes: { ready: false, role: 'worker', version: 'v1.31.2' } };
    await waitFor(() => x.published.length === 2, 'the change report');
    const reads = x.host.reads;
    await waitFor(() => x.host.reads >= reads + 20, '20 more checks');
    expect(x.kinds()).toEqual(['full', 'change']);
    expect(x.published[1]!.body).toMatchObject({ kind: 'change', kubernetes: { ready: false } });
    expect(x.published[1]!.body).not.toHaveProperty('inventory');
    expect(x.published[1]!.body.seq).toBeGreaterThan(x.published[0]!.body.seq);
  });

  test('a full report again once fullReportSeconds have passed, also when nothing changed', async () => {
    let t = Date.parse('2026-11-30T00:00:00Z');
    const x = await started(reporter({ now: () => new Date(t) }));
    await waitFor(() => x.host.reads >= 10, 'checks');
    expect(x.kinds()).toEqual(['full']);
    t += 3600 * 1000;
    await waitFor(() => x.published.length === 2, 'the next full report');
    expect(x.kinds()).toEqual(['full', 'full']);
  });

  test('reportIfChanged() sends nothing when nothing changed since the last report', async () => {
    const x = await started(reporter({ checkIntervalMs: 60 * 60_000 }));
    await x.r.reportIfChanged();
    await x.r.reportIfChanged();
    expect(x.kinds()).toEqual(['full']);
    x.host.current = { ...x.host.current, kairosVersion: 'v3.5.0' };
    await x.r.reportIfChanged();
    await x.r.reportIfChanged();
    expect(x.kinds()).toEqual(['full', 'change']);
  });

  test('the init node sends its packs on change only: a change of a state or reason is reported once; a worker sends none', async () => {
    const x = reporter({ checkIntervalMs: 60 * 60_000 });
    x.host.current = { ...x.host.current, kubernetes: { ready: true, role: 'init', version: 'v1.31.2' } };
    x.host.currentPacks = [{ name: 'calico', type: 'cni', state: 'installing', reason: 'helm install job helm-install-calico running' }];
    const y = await started({ ...x, r: new StatusReporter({
      hostId: 'host-1', readState: () => x.host.state(), readPacks: () => x.host.packs(), inventory: async () => inventory, addresses: () => x.nics.list,
      publish: async (topic, body) => void x.published.push({ topic, body }), state: x.state, log: () => undefined, now: () => new Date(), sleep, checkIntervalMs: 60 * 60_000, fullReportSeconds: 3600,
    }) });
    expect(statusMessage.parse(y.published[0]!.body).packs).toEqual(x.host.currentPacks);
    await y.r.reportIfChanged();
    expect(y.kinds()).toEqual(['full']);
    x.host.currentPacks = [{ name: 'calico', type: 'cni', state: 'ready', version: 'v3.29.1' }];
    await y.r.reportIfChanged();
    await y.r.reportIfChanged();
    expect(y.kinds()).toEqual(['full', 'change']);
    expect(y.published[1]!.body.packs).toEqual([{ name: 'calico', type: 'cni', state: 'ready', version: 'v3.29.1' }]);
    const w = await started(reporter({ readPacks: async () => [{ name: 'calico', type: 'cni', state: 'ready' }] }));
    expect(w.published[0]!.body).not.toHaveProperty('packs');
  });

  test('a failing check is logged and the checks go on', async () => {
    const logs: string[] = [];
    const x = await started(reporter({ log: (_l, m) => logs.push(m) }));
    const ok = x.host.current;
    x.host.state = async () => { throw new Error('kairos-agent state failed'); };
    await waitFor(() => logs.length >= 2, 'logged failures');
    expect(logs[0]).toBe('status check failed: kairos-agent state failed');
    x.host.state = async () => ({ ...ok, boot: 'passive' });
    await waitFor(() => x.published.length === 2, 'a change after the failures');
  });

  test('stop() ends its timer and its checks', async () => {
    const before = activeTimeouts();
    const x = await started(reporter({ checkIntervalMs: 60 * 60_000 }));
    expect(activeTimeouts()).toBe(before + 1);
    await x.r.stop();
    await x.r.finished;
    expect(activeTimeouts()).toBe(before);
  });
});
