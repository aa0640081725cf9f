import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pendingCommandsRequest, resultMessage, statusMessage, TOPICS } from '../../../lambdas/contracts/mqtt.js';
import { startAgent, type AgentHandle } from '../../../device/agent.js';
import type { AgentConfig } from '../../../device/config.js';
import type { KairosExecutor, RebootOutcome } from '../../../device/kairos.js';
import { SimulatedKairos, type SimulatedKairosOptions } from '../../../simulator/index.js';
import { approved, CERT, inventory, MemoryTransport, waitFor } from './agent-harness.js';

const V2 = 'quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.5.0-k3sv1.33.1-k3s1';
const future = () => new Date(Date.now() + 60 * 60_000).toISOString();

let dir: string;
let handles: AgentHandle[] = [];
let fetchCalls = 0;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ef-agent-'));
  fetchCalls = 0;
});
afterEach(async () => {
  for (const h of handles) await h.stop();
  handles = [];
  await rm(dir, { recursive: true, force: true });
});

const config = (): AgentConfig => ({ apiUrl: 'http://127.0.0.1:1', registrationToken: 'tok', project: 'acme', site: 's1', tags: {}, stateDir: dir, uid: 'host-1', fullReportSeconds: 3600 });

function start(executor: KairosExecutor, extra: { fetchReply?: () => Response } = {}) {
  let transport: MemoryTransport | undefined;
  const logs: string[] = [];
  const h = startAgent({
    config: config(),
    executor,
    transportFactory: (s) => (transport = new MemoryTransport(s)),
    fetch: (async () => {
      fetchCalls++;
      return extra.fetchReply?.() ?? new Response(JSON.stringify(approved), { status: 200, headers: { 'content-type': 'application/json' } });
    }) as typeof fetch,
    inventory: async () => inventory,
    log: (_l, m) => logs.push(m),
    checkIntervalMs: 60 * 60_000,
    readyTimeoutMs: 2000,
  });
  handles.push(h);
  return { h, logs, t: () => transport!, online: () => waitFor(() => h.state.phase === 'online' && (transport?.statuses().length ?? 0) > 0, 'online') };
}

const sim = (o: SimulatedKairosOptions = {}) => new SimulatedKairos({ version: 'v3.4.2', ...o });

describe('edge agent', () => {
  test('registers, connects as its thing, subscribes, asks for pending commands and sends one full status', async () => {
    const a = start(sim());
    await a.online();
    const t = a.t();
    expect(t.settings).toMatchObject({ endpoint: 'localhost', port: 8883, clientId: 'host-1', certificatePem: CERT, caPem: CERT });
    expect(t.settings.keyPem).toMatch(/BEGIN PRIVATE KEY/);
    // Its commands, and the Secure Tunneling notifications of its thing (remote access is on by default).
    expect([...t.subscriptions]).toEqual([TOPICS.commands('host-1'), '$aws/things/host-1/tunnels/notify']);
    const pending = t.published.filter((m) => m.topic === TOPICS.pendingCommands('host-1'));
    expect(pending).toHaveLength(1);
    expect(pendingCommandsRequest.safeParse(pending[0]!.body).success).toBe(true);
    const [status] = t.statuses();
    expect(statusMessage.parse(status)).toMatchObject({ kind: 'full', boot: { state: 'active', kairosVersion: 'v3.4.2' }, inventory });
    expect(a.h.state.hostId).toBe('host-1');
  });

  test('a restarted agent reuses its key and certificate: no second registration', async () => {
    const a = start(sim());
    await a.online();
    const key = a.t().settings.keyPem;
    await a.h.stop();
    const b = start(sim());
    await b.online();
    expect(fetchCalls).toBe(1);
    expect(b.t().settings.keyPem).toBe(key);
  });

  test('on reconnect it asks for pending commands again (and reports only if something changed)', async () => {
    const a = start(sim());
    await a.online();
    a.t().drop();
    expect(a.h.state.phase).toBe('offline');
    await a.t().reconnect();
    await waitFor(() => a.t().published.filter((m) => m.topic === TOPICS.pendingCommands('host-1')).length === 2, 'second pending request');
    expect(a.h.state.phase).toBe('online');
    expect(a.t().statuses()).toHaveLength(1);
  });

  test('a command delivered twice runs once, also across a restart', async () => {
    const k = sim();
    const a = start(k);
    await a.online();
    const cmd = { commandId: 'cmd-1', type: 'apply-cloud-config', params: { cloudConfig: 'stages: {}' }, deadline: future() };
    a.t().deliver(cmd);
    a.t().deliver(cmd);
    // Both deliveries answered: the run's outcome and the redelivery's repeat of it.
    await waitFor(() => a.t().phases('cmd-1').filter((p) => p === 'succeeded').length === 2, 'both deliveries answered');
    expect(k.calls).toEqual(['apply-cloud-config']);
    // The redelivery does not run; its outcome is repeated (results are idempotent).
    expect(a.t().phases('cmd-1')).toEqual(['accepted', 'succeeded', 'succeeded']);
    for (const r of a.t().results()) expect(resultMessage.safeParse(r).success).toBe(true);
    await a.h.stop();

    const b = start(k);
    await b.online();
    b.t().deliver(cmd);
    // Wait for the answer (a load-dependent sleep here once saw no result yet), then check
    // that answering did not run the command again.
    await waitFor(() => b.t().results().length > 0, 'redelivery answered after the restart');
    expect(k.calls).toEqual(['apply-cloud-config']);
    expect(b.t().results()).toEqual([expect.objectContaining({ commandId: 'cmd-1', phase: 'succeeded', detail: expect.stringContaining('90_edgefleet.yaml') })]);
  });

  test('a type outside the allow-list is refused and nothing runs', async () => {
    const k = sim();
    const a = start(k);
    await a.online();
    a.t().deliver({ commandId: 'evil-1', type: 'exec', params: { argv: 'rm -rf /' }, deadline: future() });
    await waitFor(() => a.t().results('evil-1').length > 0, 'refusal');
    expect(a.t().results('evil-1')).toEqual([expect.objectContaining({ phase: 'failed', detail: expect.stringContaining('"exec" is not allowed') })]);
    a.t().deliver({ type: 'exec' });
    a.t().deliver('not json');
    a.t().deliver({ commandId: 'x', type: 'reboot', params: {}, deadline: future() }, 'edgefleet/hosts/other/commands');
    await new Promise((r) => setTimeout(r, 50));
    expect(k.calls).toEqual([]);
    expect(a.t().results()).toHaveLength(1);
  });

  test('upgrade: accepted → progress → reboot → succeeded only when booted active at the target version; status reports the change', async () => {
    const k = sim({ k8sRole: 'worker' });
    const a = start(k);
    await a.online();
    a.t().deliver({ commandId: 'up-1', type: 'upgrade', params: { image: V2 }, deadline: future() });
    await waitFor(() => a.t().phases('up-1').includes('succeeded') || a.t().phases('up-1').includes('failed'), 'upgrade outcome');
    expect(a.t().phases('up-1')).toEqual(['accepted', 'progress', 'progress', 'succeeded']);
    expect(a.t().results('up-1').at(-1).detail).toContain('booted active at v3.5.0');
    expect(k.calls).toEqual([`upgrade ${V2}`, 'reboot']);
    await waitFor(() => a.t().statuses().length === 2, 'change report');
    expect(a.t().statuses()[1]).toMatchObject({ kind: 'change', boot: { state: 'active', kairosVersion: 'v3.5.0' }, kubernetes: { ready: true, role: 'worker' } });
  });

  test('upgrade that falls back to passive fails with the reason', async () => {
    const a = start(sim({ failures: { bootFallback: true } }));
    await a.online();
    a.t().deliver({ commandId: 'up-2', type: 'upgrade', params: { image: V2 }, deadline: future() });
    await waitFor(() => a.t().phases('up-2').includes('failed'), 'failure');
    expect(a.t().results('up-2').at(-1).detail).toMatch(/^booted passive at v3\.4\.2: the new image did not boot and Kairos fell back to \S+v3\.4\.2\S+; the active partition still holds \S+$/);
  });

  test('upgrade waits for Kubernetes Ready after the reboot', async () => {
    const a = start(sim({ k8sReadyDelayMs: 200, k8sRole: 'worker' }));
    await a.online();
    a.t().deliver({ commandId: 'up-3', type: 'upgrade', params: { image: V2 }, deadline: future() });
    await waitFor(() => a.t().phases('up-3').includes('succeeded'), 'succeeded', 10_000);
    expect(a.t().results('up-3').map((r) => r.detail)).toContainEqual(expect.stringContaining('waiting for the Kubernetes node'));
  });

  test('download failure, invalid image and a past deadline fail with named reasons', async () => {
    const k = sim({ failures: { download: true } });
    const a = start(k);
    await a.online();
    a.t().deliver({ commandId: 'd1', type: 'upgrade', params: { image: V2 }, deadline: future() });
    a.t().deliver({ commandId: 'd2', type: 'upgrade', params: { image: '--source=/evil' }, deadline: future() });
    a.t().deliver({ commandId: 'd3', type: 'reboot', params: {}, deadline: new Date(Date.now() - 1000).toISOString() });
    await waitFor(() => ['d1', 'd2', 'd3'].every((id) => a.t().phases(id).includes('failed')), 'three failures');
    expect(a.t().results('d1').at(-1).detail).toMatch(/error pulling/);
    expect(a.t().results('d2').at(-1).detail).toMatch(/invalid parameter: image: must not start with "-"/);
    expect(a.t().results('d3')).toEqual([expect.objectContaining({ phase: 'failed', detail: 'deadline passed' })]);
    expect(k.calls).toEqual([`upgrade ${V2}`]);
  });

  test('a hanging upgrade times out at its deadline into a named failure', async () => {
    const k = sim({ failures: { hang: true } });
    const a = start(k);
    await a.online();
    a.t().deliver({ commandId: 'h1', type: 'upgrade', params: { image: V2 }, deadline: new Date(Date.now() + 300).toISOString() });
    await waitFor(() => a.t().phases('h1').includes('failed'), 'deadline failure');
    expect(a.t().phases('h1')).toEqual(['accepted', 'progress', 'failed']);
    expect(a.t().results('h1').at(-1).detail).toBe('deadline passed');
    k.stop();
  });

  test('a real reboot: the result is decided by the agent that starts after the boot', async () => {
    const k = sim();
    // Like a real host: reboot() returns while the machine goes down.
    const goingDown: KairosExecutor = {
      upgrade: (i, o) => k.upgrade(i, o), applyCloudConfig: (y) => k.applyCloudConfig(y), state: () => k.state(), reset: () => k.reset(),
      bootstrap: () => k.bootstrap(), restartKubernetes: () => k.restartKubernetes(), reloadKubernetes: () => k.reloadKubernetes(), kubeNode: (a, n, t) => k.kubeNode(a, n, t),
      stateFreeMb: () => k.stateFreeMb(), checkImage: (i) => k.checkImage(i), packs: () => k.packs(), exportKubeconfig: () => k.exportKubeconfig(),
      reboot: async (): Promise<RebootOutcome> => 'rebooting',
    };
    const a = start(goingDown);
    await a.online();
    a.t().deliver({ commandId: 'up-9', type: 'upgrade', params: { image: V2 }, deadline: future() });
    await waitFor(() => a.h.state.phase === 'rebooting', 'rebooting');
    expect(a.t().phases('up-9')).toEqual(['accepted', 'progress', 'progress']);
    await a.h.stop();
    await k.reboot();
    const b = start(k);
    await b.online();
    await waitFor(() => b.t().phases('up-9').includes('succeeded'), 'succeeded after boot');
    expect(b.t().results('up-9').at(-1).detail).toContain('v3.5.0');
  });

  test('report-state sends a full report; reset goes through statereset', async () => {
    const k = sim();
    const a = start(k);
    await a.online();
    a.t().deliver({ commandId: 'r1', type: 'report-state', params: {}, deadline: future() });
    a.t().deliver({ commandId: 'r2', type: 'reset', params: {}, deadline: future() });
    await waitFor(() => a.t().phases('r2').includes('succeeded'), 'reset');
    expect(a.t().phases('r1')).toEqual(['accepted', 'succeeded']);
    expect(a.t().statuses().filter((s) => s.kind === 'full')).toHaveLength(2);
    expect(k.calls).toEqual(['reset', 'reboot']);
  });

  test('a terminal registration refusal stops the agent with the technician message', async () => {
    const a = start(sim(), { fetchReply: () => new Response(JSON.stringify({ status: 403, code: 'token-expired', title: 'expired' }), { status: 403, headers: { 'content-type': 'application/problem+json' } }) });
    await a.h.done;
    expect(a.h.state.phase).toBe('refused');
    expect(a.h.state.message).toMatch(/token has expired/);
  });
});
