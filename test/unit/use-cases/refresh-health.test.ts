/** Health derived after status and presence writes (in-memory adapters): stored on change only, published once per change. */
import { recordPresence, recordStatus } from '../../../lambdas/use-cases/device-messages.js';
import { refreshAfterMembership, refreshHostHealth, type HealthDeps } from '../../../lambdas/use-cases/refresh-health.js';
import { CLUSTER_ID, CP, IMG_OLD, T0, world, WORKERS } from './world.js';

async function healthWorld() {
  const w = await world();
  const health: HealthDeps = { clock: w.clock, store: w.healthStore, events: w.events, clusters: w.clusters };
  const deps = { ...w.deps, health };
  // Every host evaluated once (online, Ready): the starting point of a healthy fleet.
  for (const id of [CP, ...WORKERS]) await refreshHostHealth(health, id);
  w.events.events.length = 0;
  return { w, deps, health };
}

const at = (ms: number) => Date.parse(T0) + ms;
const report = (seq: number, ready: boolean) => ({
  at: new Date(at(seq * 1000)).toISOString(), seq, kind: 'change' as const,
  boot: { state: 'active', image: IMG_OLD }, agentVersion: '1.0.0', kubernetes: { ready, version: 'v1.30.4+k3s1' },
});

describe('refreshHostHealth', () => {
  it('a healthy fleet is stored healthy, its cluster healthy; deriving again writes nothing and publishes nothing', async () => {
    const { w, health } = await healthWorld();
    expect(w.state.health.get(CP)).toMatchObject({ state: 'healthy', reasons: [], online: true, rev: 1 });
    expect(w.state.clusters.get(CLUSTER_ID)?.health).toMatchObject({ state: 'healthy', reasons: [] });
    const before = structuredClone([...w.state.health.entries()]);
    for (const id of [CP, ...WORKERS]) expect(await refreshHostHealth(health, id)).toBeUndefined();
    expect([...w.state.health.entries()]).toEqual(before);
    expect(w.events.events).toEqual([]);
  });

  it('a caller\'s complete view of a new host saves the first read; a stale view loses the conditional write and is read again', async () => {
    const { w, health } = await healthWorld();
    let reads = 0;
    const store = w.healthStore;
    const counting: HealthDeps = { ...health, store: { ...store, putHostHealth: store.putHostHealth.bind(store), hostHealths: store.hostHealths.bind(store), putClusterHealth: store.putClusterHealth.bind(store), hostSnapshot: (id) => { reads++; return store.hostSnapshot(id); } } };
    // Stale: CP is online, Ready and stored healthy; a view without any of that must not win.
    const cp = (await w.hosts.get(CP))!;
    const { presence: _p, health: _h, reported: _r, ...cpRecord } = cp;
    const before = structuredClone(w.state.health.get(CP));
    expect(await refreshHostHealth(counting, CP, { host: cpRecord })).toBeUndefined();
    expect(reads).toBe(1);
    expect(w.state.health.get(CP)).toEqual(before);
    // Fresh: a host with nothing but its record is stored unknown without a read.
    const created = { ...cpRecord, id: 'new-1', uid: 'new-1', clusterId: undefined, status: 'approved' as const };
    await w.hosts.create(created);
    reads = 0;
    expect(await refreshHostHealth(counting, 'new-1', { host: created })).toMatchObject({ state: 'unknown', reasons: ['never connected'] });
    expect(reads).toBe(0);
    expect(w.state.health.get('new-1')).toMatchObject({ state: 'unknown', rev: 1 });
  });

  it('a worker that goes offline: its health and its cluster change and are published once each; a repeated event changes nothing', async () => {
    const { w, deps } = await healthWorld();
    expect(await recordPresence(deps, WORKERS[0]!, { eventType: 'disconnected', at: at(60_000) })).toBe(true);
    const since = new Date(at(60_000)).toISOString();
    expect(w.events.events).toEqual([
      expect.objectContaining({ kind: 'host', hostId: WORKERS[0], clusterId: CLUSTER_ID, state: 'unhealthy', previousState: 'healthy', reasons: [`offline since ${since}`] }),
      expect.objectContaining({ kind: 'cluster', clusterId: CLUSTER_ID, name: 'shop', state: 'degraded', previousState: 'healthy', reasons: [`node ${WORKERS[0]}: offline since ${since}`] }),
    ]);
    expect(await recordPresence(deps, WORKERS[0]!, { eventType: 'disconnected', at: at(60_000) })).toBe(false);
    expect(w.events.events).toHaveLength(2);
  });

  it('the control-plane node offline makes the cluster unreachable; back online and Ready makes both healthy again', async () => {
    const { w, deps } = await healthWorld();
    await recordPresence(deps, CP, { eventType: 'disconnected', at: at(1000) });
    expect(w.state.clusters.get(CLUSTER_ID)?.health?.state).toBe('unreachable');
    await recordPresence(deps, CP, { eventType: 'connected', at: at(2000) });
    expect(w.state.health.get(CP)?.state).toBe('healthy');
    expect(w.state.clusters.get(CLUSTER_ID)?.health?.state).toBe('healthy');
    expect(w.events.events.map((e) => `${e.kind}:${e.state}`)).toEqual(['host:unhealthy', 'cluster:unreachable', 'host:healthy', 'cluster:healthy']);
  });

  it('a NotReady report: unhealthy with the reason; the `since` of a state is kept while its reasons change', async () => {
    const { w, deps } = await healthWorld();
    w.clock.advance(5000);
    await recordStatus(deps, WORKERS[1]!, report(100, false));
    const first = w.state.health.get(WORKERS[1]!);
    expect(first).toMatchObject({ state: 'unhealthy', reasons: ['Kubernetes NotReady'] });
    w.clock.advance(5000);
    await recordPresence(deps, WORKERS[1]!, { eventType: 'disconnected', at: at(200_000) });
    expect(w.state.health.get(WORKERS[1]!)).toMatchObject({ state: 'unhealthy', since: first!.since, reasons: [`offline since ${new Date(at(200_000)).toISOString()}`] });
  });

  it('an unchanged status report derives nothing (the status is not even stored)', async () => {
    const { w, deps } = await healthWorld();
    await recordStatus(deps, WORKERS[1]!, report(100, true));
    const events = w.events.events.length;
    const rev = w.state.health.get(WORKERS[1]!)?.rev;
    expect((await recordStatus(deps, WORKERS[1]!, report(101, true))).store).toBe(false);
    expect(w.events.events).toHaveLength(events);
    expect(w.state.health.get(WORKERS[1]!)?.rev).toBe(rev);
  });

  it('a publishing failure does not fail the handler: the health is stored', async () => {
    const { w, deps } = await healthWorld();
    const failing = { ...deps, health: { ...deps.health, events: { publish: async () => { throw new Error('bus down'); } } } };
    expect(await recordPresence(failing, CP, { eventType: 'disconnected', at: at(1000) })).toBe(true);
    expect(w.state.health.get(CP)?.state).toBe('unhealthy');
  });
});

describe('cluster health is derived again from every input it depends on', () => {
  type Deps = Awaited<ReturnType<typeof healthWorld>>;
  it.each<[string, (x: Deps) => Promise<void>, string, string[]]>([
    ['a member goes offline (presence)', async ({ deps }) => { await recordPresence(deps, WORKERS[0]!, { eventType: 'disconnected', at: at(60_000) }); },
      'degraded', [`node ${WORKERS[0]}: offline since ${new Date(at(60_000)).toISOString()}`]],
    ['the control-plane node goes offline', async ({ deps }) => { await recordPresence(deps, CP, { eventType: 'disconnected', at: at(60_000) }); },
      'unreachable', [`control-plane node ${CP}: offline since ${new Date(at(60_000)).toISOString()}`]],
    ['a member reports NotReady', async ({ deps }) => { await recordStatus(deps, WORKERS[1]!, report(100, false)); },
      'degraded', [`node ${WORKERS[1]}: Kubernetes NotReady`]],
    ['the init node reports a pack in error (named once)', async ({ deps }) => {
      await recordStatus(deps, CP, { ...report(100, true), packs: [{ name: 'calico', type: 'cni', state: 'error', reason: 'ImagePullBackOff' }] });
    }, 'degraded', [`node ${CP}: pack calico error: ImagePullBackOff`]],
    ['a worker\'s pack report is not the cluster\'s (only its own health)', async ({ deps }) => {
      await recordStatus(deps, WORKERS[0]!, { ...report(100, true), packs: [{ name: 'calico', type: 'cni', state: 'error', reason: 'x' }] });
    }, 'degraded', [`node ${WORKERS[0]}: pack calico error: x`]],
    ['a member is added that never reported (membership)', async ({ w, health }) => {
      const c = w.state.clusters.get(CLUSTER_ID)!;
      await w.hosts.create({ id: 'h4', uid: 'h4', project: 'p', tags: {}, status: 'in-cluster', clusterId: CLUSTER_ID, version: 1, createdAt: T0, updatedAt: T0 });
      w.state.clusters.set(CLUSTER_ID, { ...c, workers: [{ name: 'w', hostIds: [...WORKERS, 'h4'] }] });
      await refreshAfterMembership(health, CLUSTER_ID, ['h4']);
    }, 'degraded', ['node h4: health unknown (never connected)']],
    ['an unhealthy member is removed (membership)', async ({ w, deps, health }) => {
      await recordStatus(deps, WORKERS[1]!, report(100, false));
      const c = w.state.clusters.get(CLUSTER_ID)!;
      w.state.clusters.set(CLUSTER_ID, { ...c, workers: [{ name: 'w', hostIds: [WORKERS[0]!] }] });
      const h = w.state.hosts.get(WORKERS[1]!)!;
      w.state.hosts.set(WORKERS[1]!, { ...h, status: 'approved', clusterId: undefined });
      await refreshAfterMembership(health, CLUSTER_ID, [WORKERS[1]!]);
    }, 'healthy', []],
  ])('%s', async (_n, change, state, reasons) => {
    const x = await healthWorld();
    await change(x);
    expect(x.w.state.clusters.get(CLUSTER_ID)?.health).toMatchObject({ state, reasons });
    // Change-only: deriving again, with nothing changed, writes and publishes nothing.
    const events = x.w.events.events.length;
    const stored = structuredClone(x.w.state.clusters.get(CLUSTER_ID)?.health);
    await refreshAfterMembership(x.health, CLUSTER_ID, [CP, ...WORKERS]);
    expect(x.w.events.events).toHaveLength(events);
    expect(x.w.state.clusters.get(CLUSTER_ID)?.health).toEqual(stored);
  });
});
