import type { z } from 'zod';
import type { createTemplateBody, patchTemplateBody } from '../contracts/templates.js';
import { ConflictError, NotFoundError, UnprocessableError, VersionMismatchError } from '../domain/errors.js';
import { checkValues } from '../domain/profile-variables.js';
import type { ClusterRecord, ProfileVersionRecord } from '../domain/model.js';
import { templateSecretName, type TemplateRecord } from '../domain/templates.js';
import type { Page, PageRequest } from '../ports/index.js';
import type { SecretStore } from '../ports/workflow.js';
import type { SiteStatusStore, TemplateRepository } from '../ports/templates.js';
import { mutate, read, visible, type Deps, type RequestContext } from './context.js';
import { resolveTemplateProfile } from './profile-versions.js';
import type { RolloutApiDeps } from './rollout-deps.js';
import { plannedBump, startBumpRollout } from './template-rollout.js';

export { publishedVersions, resolveTemplateProfile } from './profile-versions.js';

export interface TemplateDeps extends Deps {
  readonly templates: TemplateRepository;
  readonly sites: SiteStatusStore;
  /** Where a template's secret variables are kept (written here, read when a site's cluster is built). */
  readonly secrets: Pick<SecretStore, 'put'>;
}

/** The zero-touch check reads every template of a project for each event: a project has at most this many. */
export const MAX_TEMPLATES_PER_PROJECT = 50;
/** Published versions a channel is resolved among (the newest of the first this many). */
/** A delete with ?detach=true detaches at most this many clusters per request (then repeat it). */
const DETACH_PER_REQUEST = 100;

export const templateNotFound = (id: string) => () =>
  new NotFoundError('cluster-template-not-found', `cluster template ${id} does not exist in this project; list them with GET /v1/cluster-templates (edgefleet templates list)`);
const clusterNotFound = (id: string) => () => new NotFoundError('cluster-not-found', `cluster ${id} does not exist in this project`);


type Values = Readonly<Record<string, string | number | boolean>>;

/** Checks values against the resolved version; returns the non-secret values, secret names and the secret values to store. */
function checkTemplateValues(t: { name: string }, pv: ProfileVersionRecord, supplied: Values, current?: Pick<TemplateRecord, 'variables' | 'secretVariables'>) {
  const checked = checkValues(pv.variables ?? [], supplied, { values: current?.variables ?? {}, secrets: current?.secretVariables ?? [] });
  if (!checked.ok) {
    throw new UnprocessableError('invalid-variables', `template ${t.name} cannot use ${pv.name}@${pv.version} with these variables: ${checked.errors.map((e) => e.message).join('; ')}`, { errors: checked.errors });
  }
  return checked;
}

/** create-cluster-template: checked against the profile version it resolves to now; secret values to the secret store. */
export async function createTemplate(deps: TemplateDeps, ctx: RequestContext, input: z.infer<typeof createTemplateBody>): Promise<TemplateRecord> {
  return mutate(deps, ctx, {
    action: 'clusters:create', audit: 'cluster-template.create', resource: `cluster-template/${input.name}`,
    run: async () => {
      const pv = await resolveTemplateProfile(deps, ctx.project, input.profile);
      const checked = checkTemplateValues(input, pv, input.variables ?? {});
      if ((await deps.templates.listAll(ctx.project, MAX_TEMPLATES_PER_PROJECT)).length >= MAX_TEMPLATES_PER_PROJECT) {
        throw new ConflictError('too-many-cluster-templates', `project ${ctx.project} has ${MAX_TEMPLATES_PER_PROJECT} cluster templates, the most it may have; delete one first`);
      }
      if (await deps.templates.get(ctx.project, input.name)) {
        throw new ConflictError('cluster-template-exists', `a cluster template named ${input.name} already exists in this project; change it with PATCH or pick another name`);
      }
      for (const [name, value] of Object.entries(checked.secretValues)) await deps.secrets.put(templateSecretName(ctx.project, input.name, name), value);
      const now = deps.clock.now().toISOString();
      const { values, secrets } = checked.variables;
      const t: TemplateRecord = {
        id: input.name, project: ctx.project, name: input.name, ...(input.description ? { description: input.description } : {}),
        profile: input.profile, ...(Object.keys(values).length ? { variables: values } : {}), ...(secrets.length ? { secretVariables: [...secrets] } : {}),
        topology: input.topology, selector: input.selector, ...(input.upgradePolicy ? { upgradePolicy: input.upgradePolicy } : {}),
        createdBy: ctx.principal.subject, version: 1, createdAt: now, updatedAt: now,
      };
      if (!(await deps.templates.create(t))) throw new ConflictError('cluster-template-exists', `a cluster template named ${input.name} already exists in this project`);
      return t;
    },
    describe: (t) => ({ detail: `profile ${t.profile.name}@${t.profile.version}; selector ${JSON.stringify(t.selector)}` }),
  });
}

export async function getTemplate(deps: TemplateDeps, ctx: RequestContext, id: string): Promise<TemplateRecord> {
  read(ctx, 'clusters:read');
  return visible(ctx, await deps.templates.get(ctx.project, id), templateNotFound(id));
}

export async function listTemplates(deps: TemplateDeps, ctx: RequestContext, page: PageRequest): Promise<Page<TemplateRecord>> {
  read(ctx, 'clusters:read');
  return deps.templates.list(ctx.project, page);
}

/**
 * update-cluster-template: what it builds next. A change of the profile version (or channel) that
 * resolves to another published version starts a rollout of the attached clusters to it, with the
 * template's upgrade policy (`upgradePolicy.rollout`); while one of its rollouts still runs, a new
 * version is refused (409) or supersedes it (`onNewVersion: supersede`: it stops starting clusters
 * and ends `superseded`).
 */
export async function updateTemplate(deps: TemplateDeps & RolloutApiDeps, ctx: RequestContext, id: string, input: z.infer<typeof patchTemplateBody>): Promise<TemplateRecord> {
  return mutate(deps, ctx, {
    action: 'clusters:create', audit: 'cluster-template.update', resource: `cluster-template/${id}`,
    run: async () => {
      const cur = visible(ctx, await deps.templates.get(ctx.project, id), templateNotFound(id));
      if (cur.version !== input.version) throw new VersionMismatchError(`cluster template ${id}`, input.version);
      const profile = input.profile ?? cur.profile;
      const pv = await resolveTemplateProfile(deps, ctx.project, profile);
      const bump = input.profile ? await plannedBump(deps, cur, pv.version) : undefined;
      const checked = checkTemplateValues(cur, pv, input.variables ?? {}, cur);
      for (const [name, value] of Object.entries(checked.secretValues)) await deps.secrets.put(templateSecretName(ctx.project, id, name), value);
      const { values, secrets } = checked.variables;
      const { variables: _v, secretVariables: _s, ...rest } = cur;
      const next: TemplateRecord = {
        ...rest, profile, ...(input.description !== undefined ? { description: input.description } : {}),
        ...(Object.keys(values).length ? { variables: values } : {}), ...(secrets.length ? { secretVariables: [...secrets] } : {}),
        topology: input.topology ?? cur.topology, selector: input.selector ?? cur.selector,
        ...(input.upgradePolicy ? { upgradePolicy: input.upgradePolicy } : {}), updatedAt: deps.clock.now().toISOString(),
        ...(bump ? { rolloutId: bump.rolloutId } : {}),
      };
      const out = await deps.templates.replace(next, input.version);
      if (!out) throw new VersionMismatchError(`cluster template ${id}`, input.version);
      if (bump) await startBumpRollout(deps, ctx, out, bump);
      return out;
    },
    describe: (t) => ({ detail: `version ${t.version}` }),
  });
}

/**
 * delete-cluster-template: refused while clusters are attached, unless `detach` (then each is
 * detached first: it keeps running, no longer managed by the template).
 */
export async function deleteTemplate(deps: TemplateDeps, ctx: RequestContext, id: string, opts: { detach: boolean }): Promise<{ detached: string[] }> {
  return mutate(deps, ctx, {
    action: 'clusters:delete', audit: 'cluster-template.delete', resource: `cluster-template/${id}`,
    run: async () => {
      const cur = visible(ctx, await deps.templates.get(ctx.project, id), templateNotFound(id));
      const attached = await deps.clusters.attachedTo(ctx.project, id, DETACH_PER_REQUEST + 1);
      if (attached.length > 0 && !opts.detach) {
        const names = attached.slice(0, 5).map((c) => `${c.name} (${c.id})`).join(', ');
        throw new ConflictError('cluster-template-in-use', `cluster template ${id} still has ${attached.length > DETACH_PER_REQUEST ? `more than ${DETACH_PER_REQUEST}` : attached.length} attached cluster(s): ${names}${attached.length > 5 ? ', …' : ''}. ` +
          `Detach them (edgefleet clusters detach <id>) or delete with ?detach=true (edgefleet templates delete ${id} --detach)`);
      }
      const detached: string[] = [];
      const now = deps.clock.now().toISOString();
      for (const c of attached.slice(0, DETACH_PER_REQUEST)) {
        if (await deps.clusters.detach(c.id, c.version, now)) {
          detached.push(c.id);
          await deps.audit.record({ id: deps.ids.newId(), project: ctx.project, time: now, actor: ctx.principal.subject, action: 'cluster.detach', resource: `cluster/${c.id}`, outcome: 'success', requestId: ctx.requestId, detail: `from template ${id} (template deleted)` });
        }
      }
      if (detached.length < attached.length) {
        throw new ConflictError('cluster-template-in-use', `detached ${detached.length} cluster(s) of template ${id}, but ${attached.length - detached.length} more are attached or changed meanwhile; repeat the request`);
      }
      if (!(await deps.templates.delete(ctx.project, id, cur.version))) {
        throw new ConflictError('cluster-template-changed', `cluster template ${id} changed while it was being deleted; read it again and retry`);
      }
      return { detached };
    },
    describe: (r) => ({ detail: r.detached.length ? `detached ${r.detached.join(', ')}` : 'no attached clusters' }),
  });
}

/** detach-cluster: the cluster keeps running and is no longer managed by its template (no rollout reaches it). */
export async function detachCluster(deps: Deps, ctx: RequestContext, id: string, input: { version?: number }): Promise<ClusterRecord> {
  return mutate(deps, ctx, {
    action: 'clusters:update', audit: 'cluster.detach', resource: `cluster/${id}`,
    run: async () => {
      const c = visible(ctx, await deps.clusters.get(id), clusterNotFound(id));
      if (!c.templateId) throw new ConflictError('cluster-not-attached', `cluster ${c.name} is not attached to a cluster template; nothing to detach`);
      const expected = input.version ?? c.version;
      if (expected !== c.version) throw new VersionMismatchError(`cluster ${id}`, expected);
      const out = await deps.clusters.detach(id, expected, deps.clock.now().toISOString());
      if (!out) throw new VersionMismatchError(`cluster ${id}`, expected);
      return out;
    },
    describe: (c) => ({ detail: `${c.name} detached` }),
  });
}
