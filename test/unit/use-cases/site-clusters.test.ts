import { describe, expect, it, jest } from '@jest/globals';
import type { HostRecord } from '../../../lambdas/domain/model.js';
import { siteClusterId } from '../../../lambdas/domain/templates.js';
import { createTemplate, deleteTemplate, detachCluster, getTemplate } from '../../../lambdas/use-cases/cluster-templates.js';
import { checkHostSite, checkSite } from '../../../lambdas/use-cases/site-clusters.js';
import { recordPresence } from '../../../lambdas/use-cases/device-messages.js';
import { ADMIN, CLUSTER_ID, PROJECT, T0, world } from './world.js';

const template = {
  name: 'shop', profile: { name: 'edge', version: '1.x' }, variables: {},
  topology: { minHosts: 3, controlPlane: [{ hosts: 1, size: 1 as const }, { hosts: 3, size: 3 as const }], workerPool: 'pos', vipTag: 'vip' },
  selector: { site: 'shop-*' },
};

async function siteWorld() {
  const w = await world({ hosts: 1 });
  await createTemplate(w.deps, ADMIN, template);
  const host = async (id: string, over: Partial<HostRecord> = {}) => {
    await w.hosts.create({ id, uid: id, project: PROJECT, site: 'shop-7', tags: { vip: '192.0.2.7' }, status: 'approved', version: 1, createdAt: T0, updatedAt: T0, ...over });
  };
  const online = (id: string) => w.presence.apply(id, { presence: 'online', at: Date.parse(T0) + 1 });
  return { w, host, online, clusterId: siteClusterId(PROJECT, 'shop-7', 'shop') };
}

describe('zero-touch site clusters (checkSite)', () => {
  it('waits for the third host, then builds the site\'s cluster once, attached to the template, through the create workflow', async () => {
    const { w, host, online, clusterId } = await siteWorld();
    for (const id of ['s1', 's2']) { await host(id); await online(id); }
    await host('s3');
    const waiting = await checkSite(w.deps, PROJECT, 'shop-7');
    expect(waiting).toMatchObject({ state: 'waiting', template: 'shop', hosts: { seen: 3, approved: 3, online: 2, matching: 3 } });
    expect(waiting.reason).toMatch(/waiting for 1 more host .*1 approved host\(s\) offline/);
    await online('s3');
    // Two events of the same moment race: one cluster, one create.
    const [a, b] = await Promise.all([checkSite(w.deps, PROJECT, 'shop-7'), checkSite(w.deps, PROJECT, 'shop-7')]);
    expect([a.state, b.state]).toEqual(['creating', 'creating']);
    const c = await w.clusters.get(clusterId);
    expect(c).toMatchObject({ templateId: 'shop', site: 'shop-7', name: 'shop-7', profile: { name: 'edge', version: '1.0.0' }, controlPlane: { hostIds: ['s1', 's2', 's3'] }, status: 'provisioning', vip: '192.0.2.7' });
    expect(w.workflows.started.filter((s) => s.kind === 'create-cluster')).toHaveLength(1);
    expect(w.state.audit.filter((e) => e.action === 'cluster.create' && e.outcome === 'success')).toEqual([expect.objectContaining({ actor: 'template:shop', resource: `cluster/${clusterId}` })]);
    expect((await w.sites.list(PROJECT, { limit: 10 })).items).toEqual([expect.objectContaining({ site: 'shop-7', clusterId, state: 'creating' })]);
  });

  it('adds a fourth matching host to the running cluster as a worker (scale-out), and not while it is busy', async () => {
    const { w, host, online, clusterId } = await siteWorld();
    for (const id of ['s1', 's2', 's3']) { await host(id); await online(id); }
    await checkSite(w.deps, PROJECT, 'shop-7');
    await host('s4'); await online('s4');
    expect((await checkSite(w.deps, PROJECT, 'shop-7')).reason).toMatch(/1 host\(s\) wait to join: the cluster is busy/);
    const c = (await w.clusters.get(clusterId))!;
    await w.clusters.updateForOperation(clusterId, c.activeOperationId!, { status: 'running' }, { endOperation: true, now: T0 });
    const joined = await checkSite(w.deps, PROJECT, 'shop-7');
    expect(joined).toMatchObject({ state: 'cluster', reason: '1 new matching host(s) join as workers' });
    const op = await w.operations.get((await w.clusters.get(clusterId))!.activeOperationId!);
    expect(op).toMatchObject({ type: 'scale-out', input: { pool: 'pos', add: ['s4'] } });
  });

  it('explains sites no template matches, and sites two templates match', async () => {
    const { w, host, online } = await siteWorld();
    await host('d1', { site: 'depot-1' }); await online('d1');
    expect(await checkSite(w.deps, PROJECT, 'depot-1')).toMatchObject({ state: 'no-template' });
    await createTemplate(w.deps, ADMIN, { ...template, name: 'depots', selector: { site: 'depot-*' } });
    await createTemplate(w.deps, ADMIN, { ...template, name: 'depots-2', selector: { site: 'depot-1' } });
    expect((await checkSite(w.deps, PROJECT, 'depot-1')).reason).toMatch(/2 templates match site depot-1 \(depots, depots-2\)/);
  });

  it('runs on a presence change of an approved site host (the IoT presence rule)', async () => {
    const { w, host, clusterId } = await siteWorld();
    for (const id of ['s1', 's2', 's3']) await host(id);
    const checkSiteOf = (hostId: string) => checkHostSite(w.deps, hostId);
    for (const id of ['s1', 's2', 's3']) await recordPresence({ ...w, checkSite: checkSiteOf }, id, { eventType: 'connected', at: Date.parse(T0) + 5 });
    expect(await w.clusters.get(clusterId)).toMatchObject({ templateId: 'shop' });
  });

  it('refuses to delete a template with attached clusters unless they are detached; detach clears the attachment', async () => {
    const { w, host, online, clusterId } = await siteWorld();
    for (const id of ['s1', 's2', 's3']) { await host(id); await online(id); }
    await checkSite(w.deps, PROJECT, 'shop-7');
    await expect(deleteTemplate(w.deps, ADMIN, 'shop', { detach: false })).rejects.toMatchObject({ code: 'cluster-template-in-use' });
    const detached = await detachCluster(w.deps, ADMIN, clusterId, {});
    expect(detached.templateId).toBeUndefined();
    await expect(detachCluster(w.deps, ADMIN, clusterId, {})).rejects.toMatchObject({ code: 'cluster-not-attached' });
    expect(await deleteTemplate(w.deps, ADMIN, 'shop', { detach: false })).toEqual({ detached: [] });
    await expect(getTemplate(w.deps, ADMIN, 'shop')).rejects.toMatchObject({ code: 'cluster-template-not-found' });
  });

  it('costs a project without templates no site read and no site status write on a presence event', async () => {
    const w = await world({ hosts: 1 });
    await w.hosts.create({ id: 'x1', uid: 'x1', project: PROJECT, site: 'shop-7', tags: {}, status: 'approved', version: 1, createdAt: T0, updatedAt: T0 });
    const list = jest.spyOn(w.deps.hosts, 'list');
    const put = jest.spyOn(w.deps.sites, 'put');
    await recordPresence({ ...w, checkSite: (id: string) => checkHostSite(w.deps, id) }, 'x1', { eventType: 'connected', at: Date.parse(T0) + 5 });
    expect(await checkHostSite(w.deps, 'x1')).toBeUndefined();
    expect(list).not.toHaveBeenCalled();
    expect(put).not.toHaveBeenCalled();
    expect((await w.sites.list(PROJECT, { limit: 10 })).items).toEqual([]);

    // A host pre-registered for a cluster still checks its site (that is how it joins), templates or not.
    await w.hosts.create({ id: 'x2', uid: 'x2', project: PROJECT, site: 'shop-7', tags: {}, status: 'approved', targetClusterId: CLUSTER_ID, version: 1, createdAt: T0, updatedAt: T0 });
    expect(await checkHostSite(w.deps, 'x2')).toMatchObject({ state: 'no-template' });
    expect(list).toHaveBeenCalledTimes(1);
  });

  it('writes a site\'s status only when it changed', async () => {
    const { w, host, online } = await siteWorld();
    await host('s1'); await online('s1');
    const put = jest.spyOn(w.deps.sites, 'put');
    const first = await checkSite(w.deps, PROJECT, 'shop-7');
    expect(first).toMatchObject({ state: 'waiting', hosts: { seen: 1, online: 1 } });
    w.clock.advance(60_000);
    expect(await checkSite(w.deps, PROJECT, 'shop-7')).toMatchObject({ state: 'waiting', reason: first.reason, hosts: first.hosts });
    expect(put).toHaveBeenCalledTimes(1);
    await host('s2'); await online('s2');
    expect(await checkSite(w.deps, PROJECT, 'shop-7')).toMatchObject({ state: 'waiting', hosts: { seen: 2, online: 2 } });
    expect(put).toHaveBeenCalledTimes(2);
    expect((await w.sites.list(PROJECT, { limit: 10 })).items).toEqual([expect.objectContaining({ site: 'shop-7', hosts: expect.objectContaining({ seen: 2 }) })]);
  });

  it('validates a template against the version its channel resolves to', async () => {
    const { w } = await siteWorld();
    await expect(createTemplate(w.deps, ADMIN, { ...template, name: 'x', profile: { name: 'edge', version: '4.x' } })).rejects.toMatchObject({ code: 'profile-version-unresolved' });
    await expect(createTemplate(w.deps, ADMIN, { ...template, name: 'y', variables: { NOPE: 1 } })).rejects.toMatchObject({ code: 'invalid-variables' });
    await expect(createTemplate(w.deps, ADMIN, template)).rejects.toMatchObject({ code: 'cluster-template-exists' });
  });
});
