import type { z } from 'zod';
import type { approveHostBody, createHostBody, decommissionHostBody, patchHostBody, rejectHostBody } from '../contracts/api.js';
import { ConflictError, NotFoundError, ValidationError, VersionMismatchError } from '../domain/errors.js';
import { hostIdFromUid, PURGEABLE, transition, type HostEvent } from '../domain/host-lifecycle.js';
import type { HostRecord, HostWithPresence } from '../domain/model.js';
import type { HostFilter, Page, PageRequest } from '../ports/index.js';
import type { DeviceRegistry } from '../ports/device-registry.js';
import { mutate, read, visible, type Deps, type RequestContext } from './context.js';
import { refreshAfterLifecycle } from './refresh-health.js';

export const hostNotFound = (id: string) => () => new NotFoundError('host-not-found', `host ${id} does not exist in this project`);

export function newHostRecord(ctx: RequestContext, input: { uid: string; name?: string; site?: string; tags?: Record<string, string> }, now: string, targetClusterId?: string): HostRecord {
  const id = hostIdFromUid(input.uid);
  if (!id) throw new ValidationError('invalid-uid', `uid "${input.uid}" has no letters or digits to form a host id`, { errors: [{ path: 'uid', message: 'needs at least one letter or digit' }] });
  return {
    id, uid: input.uid, project: ctx.project, tags: input.tags ?? {}, status: 'pre-registered', version: 1, createdAt: now, updatedAt: now,
    ...(input.name ? { name: input.name } : {}), ...(input.site ? { site: input.site } : {}), ...(targetClusterId ? { targetClusterId } : {}),
  };
}

/** create-host: pre-register one host by hardware id. */
export async function createHost(deps: Deps, ctx: RequestContext, input: z.infer<typeof createHostBody>): Promise<HostWithPresence> {
  const record = newHostRecord(ctx, input, deps.clock.now().toISOString(), input.clusterId);
  return mutate(deps, ctx, {
    action: 'hosts:create', audit: 'host.create', resource: `host/${record.id}`,
    run: async () => {
      if (input.clusterId) {
        const c = await deps.clusters.get(input.clusterId);
        if (!c || c.project !== ctx.project) {
          throw new ValidationError('cluster-not-found', `cluster ${input.clusterId} does not exist in this project`, { errors: [{ path: 'clusterId', message: 'unknown cluster' }] });
        }
      }
      if (!(await deps.hosts.create(record))) {
        throw new ConflictError('host-exists', `a host with id ${record.id} (from uid "${input.uid}") is already registered; use PATCH to change it, or DELETE it first`);
      }
      await refreshAfterLifecycle(deps.health, record.id);
      return { ...record, presence: 'offline' as const };
    },
  });
}

export async function getHost(deps: Deps, ctx: RequestContext, id: string): Promise<HostWithPresence> {
  read(ctx, 'hosts:read');
  return visible(ctx, await deps.hosts.get(id), hostNotFound(id));
}

export async function listHosts(deps: Deps, ctx: RequestContext, filter: HostFilter, page: PageRequest): Promise<Page<HostWithPresence>> {
  read(ctx, 'hosts:read');
  return deps.hosts.list(ctx.project, filter, page);
}

/** update-host: name, site, tags; optimistic concurrency on `version`. */
export async function updateHost(deps: Deps, ctx: RequestContext, id: string, input: z.infer<typeof patchHostBody>): Promise<HostWithPresence> {
  return mutate(deps, ctx, {
    action: 'hosts:update', audit: 'host.update', resource: `host/${id}`,
    run: async () => {
      visible(ctx, await deps.hosts.get(id), hostNotFound(id));
      const { version, ...changes } = input;
      return deps.hosts.update(id, version, changes, deps.clock.now().toISOString());
    },
  });
}

async function applyLifecycle(deps: Deps, ctx: RequestContext, id: string, event: HostEvent, expectedVersion: number | undefined,
  extra: (h: HostWithPresence) => Partial<HostRecord> = () => ({})): Promise<HostWithPresence> {
  const host = visible(ctx, await deps.hosts.get(id), hostNotFound(id));
  const t = transition(host.status, event);
  if (!t.ok) throw new ConflictError(t.code, `cannot ${event.type} host ${id}: ${t.reason}`);
  const updated = await deps.hosts.update(id, expectedVersion ?? host.version, { status: t.status, ...extra(host) }, deps.clock.now().toISOString());
  await refreshAfterLifecycle(deps.health, id);
  return updated;
}

/** approve-host: a pending host becomes approved (the pairing code must match when the host shows one). */
export async function approveHost(deps: Deps, ctx: RequestContext, id: string, input: z.infer<typeof approveHostBody>): Promise<HostWithPresence> {
  return mutate(deps, ctx, {
    action: 'hosts:approve', audit: 'host.approve', resource: `host/${id}`,
    run: async () => {
      const host = visible(ctx, await deps.hosts.get(id), hostNotFound(id)) as HostWithPresence & { pairingCode?: string };
      if (host.pairingCode && input.pairingCode !== host.pairingCode) {
        throw new ConflictError('pairing-code-mismatch', `the pairing code does not match the one host ${id} shows on its console; read it again from the screen or QR code`);
      }
      return applyLifecycle(deps, ctx, id, { type: 'approve' }, input.version, () => ({ approvedAt: deps.clock.now().toISOString(), statusReason: undefined }));
    },
  });
}

export async function rejectHost(deps: Deps & { readonly registry?: Pick<DeviceRegistry, 'disconnect'> }, ctx: RequestContext, id: string, input: z.infer<typeof rejectHostBody>): Promise<HostWithPresence> {
  return mutate(deps, ctx, {
    action: 'hosts:approve', audit: 'host.reject', resource: `host/${id}`,
    run: async () => {
      const rejected = await applyLifecycle(deps, ctx, id, { type: 'reject' }, input.version, () => ({ statusReason: input.reason ?? 'rejected by an operator' }));
      // After the status changed (a reconnect is then refused): its open session ends now.
      await deps.registry?.disconnect?.(id);
      return rejected;
    },
  });
}

type RegistryDeps = Deps & { readonly registry: DeviceRegistry };

/** Revokes the certificate and deletes the thing (idempotent), then records the decommission. */
async function decommission(deps: RegistryDeps, ctx: RequestContext, host: HostWithPresence, expectedVersion: number, reason: string): Promise<HostWithPresence> {
  if (host.clusterId) throw new ConflictError('host-in-cluster', `host ${host.id} belongs to cluster ${host.clusterId}; remove it from the cluster first`);
  const t = transition(host.status, { type: 'decommission' });
  if (!t.ok) throw new ConflictError(t.code, `cannot decommission host ${host.id}: ${t.reason}`);
  // Checked before the certificate is revoked: a stale request must change nothing.
  if (expectedVersion !== host.version) throw new VersionMismatchError(`host ${host.id}`, expectedVersion);
  await deps.registry.deprovision(host.id, host.certificateId);
  return applyLifecycle(deps, ctx, host.id, { type: 'decommission' }, expectedVersion, () => ({ statusReason: reason }));
}

/** decommission-host: explicit, for any host not in a cluster; the record stays (DELETE removes it). */
export async function decommissionHost(deps: RegistryDeps, ctx: RequestContext, id: string, input: z.infer<typeof decommissionHostBody>): Promise<HostWithPresence> {
  return mutate(deps, ctx, {
    action: 'hosts:delete', audit: 'host.decommission', resource: `host/${id}`,
    run: async () => {
      const host = visible(ctx, await deps.hosts.get(id), hostNotFound(id));
      return decommission(deps, ctx, host, input.version ?? host.version, input.reason ?? 'decommissioned by an operator');
    },
  });
}

/**
 * delete-host: hosts with nothing on them (pre-registered, pending, rejected, decommissioned) are
 * removed; an approved host is decommissioned first (a second DELETE removes the record): its
 * certificate is revoked and its IoT thing deleted (both idempotent) before the status changes.
 */
export async function deleteHost(deps: RegistryDeps, ctx: RequestContext, id: string): Promise<{ deleted: boolean; host?: HostWithPresence }> {
  return mutate(deps, ctx, {
    action: 'hosts:delete', audit: 'host.delete', resource: `host/${id}`,
    run: async () => {
      const host = visible(ctx, await deps.hosts.get(id), hostNotFound(id));
      if (host.clusterId) throw new ConflictError('host-in-cluster', `host ${id} belongs to cluster ${host.clusterId}; remove it from the cluster first`);
      if (PURGEABLE.has(host.status)) {
        await deps.hosts.delete(id, host.version);
        return { deleted: true };
      }
      return { deleted: false, host: await decommission(deps, ctx, host, host.version, 'decommissioned by an operator') };
    },
    describe: (r) => ({ detail: r.deleted ? 'deleted' : 'decommissioned' }),
  });
}
