import type { z } from 'zod';
import type { createClusterBody } from '../contracts/api.js';
import { allHostIds, validateTopology } from '../domain/cluster.js';
import { ConflictError, NotFoundError, UnprocessableError, ValidationError } from '../domain/errors.js';
import { checkValues, secretVariableName } from '../domain/profile-variables.js';
import type { ClusterRecord } from '../domain/model.js';
import { claimableHosts, newOperation, ownerOf, startWorkflow, type ClusterOpsDeps } from './cluster-operations.js';
import type { ClusterFilter, Page, PageRequest } from '../ports/index.js';
import { mutate, read, visible, type Deps, type RequestContext } from './context.js';

const clusterNotFound = (id: string) => () => new NotFoundError('cluster-not-found', `cluster ${id} does not exist in this project`);

export interface CreatedCluster extends ClusterRecord {
  readonly operationId: string;
}

/**
 * create-cluster: records the desired state and claims its hosts in one transaction, so two
 * clusters racing for a host cannot both win. Provisioning is the operation's job.
 */
export async function createCluster(deps: ClusterOpsDeps, ctx: RequestContext, input: z.infer<typeof createClusterBody>,
  from?: { readonly id: string; readonly templateId: string; readonly site: string }): Promise<CreatedCluster> {
  return mutate(deps, ctx, {
    action: 'clusters:create', audit: 'cluster.create', resource: `cluster/${input.name}`,
    run: async () => {
      const errors = validateTopology(input);
      if (errors.length > 0) throw new ValidationError('invalid-topology', `cluster ${input.name} cannot be built: ${errors.map((e) => e.message).join('; ')}`, { errors });
      const pv = await deps.profiles.getVersion(ctx.project, input.profile.name, input.profile.version);
      if (!pv || pv.project !== ctx.project) {
        throw new ValidationError('profile-version-not-found', `profile ${input.profile.name}@${input.profile.version} does not exist in this project`, { errors: [{ path: 'profile', message: 'unknown profile version' }] });
      }
      if (pv.status !== 'published') {
        throw new ValidationError('profile-version-draft', `profile ${input.profile.name}@${input.profile.version} is a draft; publish it before building clusters from it`, { errors: [{ path: 'profile.version', message: 'not published' }] });
      }
      const checked = checkValues(pv.variables ?? [], input.variables ?? {});
      if (!checked.ok) {
        throw new UnprocessableError('invalid-variables', `cluster ${input.name} cannot be built from ${input.profile.name}@${input.profile.version}: ${checked.errors.map((e) => e.message).join('; ')}`, { errors: checked.errors });
      }
      const expected = await claimableHosts(deps, ctx, allHostIds(input), `cluster ${input.name} cannot claim its hosts`);
      const now = deps.clock.now().toISOString();
      // A template's site cluster has one id per site and template: a second create loses the transaction.
      const id = from?.id ?? `c-${deps.ids.newId()}`;
      // Secret values go to the secret store before anything can render them; the record keeps their names only.
      for (const [name, value] of Object.entries(checked.secretValues)) await deps.secrets.put(secretVariableName(id, name), value);
      const { values, secrets } = checked.variables;
      const workers = input.workers ?? [];
      // Control-plane nodes join one at a time, workers ten at a time.
      const steps = input.controlPlane.hostIds.length + workers.reduce((n, w) => n + Math.ceil(w.hostIds.length / 10), 0);
      const operation = newOperation(deps, ownerOf(ctx), { type: 'create-cluster' }, { id }, Object.keys(expected), steps, deps.workflowSettings);
      const cluster: ClusterRecord = {
        id, project: ctx.project, name: input.name, profile: input.profile, controlPlane: input.controlPlane,
        workers, ...(input.vip ? { vip: input.vip } : {}),
        ...(Object.keys(values).length > 0 ? { variables: values } : {}), ...(secrets.length > 0 ? { secretVariables: secrets } : {}),
        ...(from ? { templateId: from.templateId, site: from.site } : {}),
        status: 'provisioning', operationId: operation.id, activeOperationId: operation.id,
        version: 1, createdAt: now, updatedAt: now,
      };
      const out = await deps.clusters.createWithClaims(cluster, operation, expected);
      if (!out.ok) {
        if (out.nameTaken) throw new ConflictError('cluster-name-taken', `a cluster named ${input.name} already exists in this project`);
        throw new ConflictError('hosts-unavailable', `cluster ${input.name} lost the race for its hosts: ${out.failures.map((f) => `${f.hostId} ${f.reason}`).join('; ')}; nothing was claimed`);
      }
      await startWorkflow(deps, 'create-cluster', operation.id);
      return { ...cluster, operationId: operation.id };
    },
    describe: (c) => ({ resource: `cluster/${c.id}`, detail: c.name }),
  });
}

export async function getCluster(deps: Deps, ctx: RequestContext, id: string): Promise<ClusterRecord> {
  read(ctx, 'clusters:read');
  return visible(ctx, await deps.clusters.get(id), clusterNotFound(id));
}

export async function listClusters(deps: Deps, ctx: RequestContext, page: PageRequest, filter: ClusterFilter = {}): Promise<Page<ClusterRecord>> {
  read(ctx, 'clusters:read');
  return deps.clusters.list(ctx.project, page, filter);
}
