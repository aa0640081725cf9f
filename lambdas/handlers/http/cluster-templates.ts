import { listQuery } from '../../contracts/common.js';
import { createTemplateBody, deleteTemplateQuery, listSitesQuery, patchTemplateBody } from '../../contracts/templates.js';
import type { TemplateRecord } from '../../domain/templates.js';
import { createTemplate, deleteTemplate, getTemplate, listTemplates, updateTemplate } from '../../use-cases/cluster-templates.js';
import { listSites } from '../../use-cases/site-clusters.js';
import { route, type RouteTable } from './framework.js';
import { pageOf } from './paging.js';

/** A secret variable's value as the API shows it (the value is only in the secret store). */
const MASKED = '********';

/** The template as the API shows it: its secret variables masked. */
export function templateView(t: TemplateRecord): TemplateRecord {
  if (!t.secretVariables?.length) return t;
  return { ...t, variables: { ...(t.variables ?? {}), ...Object.fromEntries(t.secretVariables.map((n) => [n, MASKED])) } };
}

/** Cluster templates and sites: served by the clusters function (same table, same grants). */
export const templateRoutes: RouteTable = {
  'POST /v1/cluster-templates': route({
    action: 'clusters:create',
    body: createTemplateBody, idempotent: true,
    run: async (req, deps) => {
      const t = await createTemplate(deps, req.ctx, req.body);
      return { status: 201, body: templateView(t), headers: { location: `/v1/cluster-templates/${t.id}` } };
    },
  }),
  'GET /v1/cluster-templates': route({
    query: listQuery,
    run: async (req, deps) => {
      const page = await listTemplates(deps, req.ctx, pageOf(req.query));
      return { status: 200, body: { ...page, items: page.items.map(templateView) } };
    },
  }),
  'GET /v1/cluster-templates/{templateId}': route({
    run: async (req, deps) => ({ status: 200, body: templateView(await getTemplate(deps, req.ctx, req.params.templateId!)) }),
  }),
  'PATCH /v1/cluster-templates/{templateId}': route({
    action: 'clusters:create',
    body: patchTemplateBody,
    run: async (req, deps) => ({ status: 200, body: templateView(await updateTemplate(deps, req.ctx, req.params.templateId!, req.body)) }),
  }),
  'DELETE /v1/cluster-templates/{templateId}': route({
    action: 'clusters:delete',
    query: deleteTemplateQuery,
    run: async (req, deps) => ({ status: 200, body: await deleteTemplate(deps, req.ctx, req.params.templateId!, { detach: req.query.detach === 'true' }) }),
  }),
  'GET /v1/sites': route({
    query: listSitesQuery,
    run: async (req, deps) => ({ status: 200, body: await listSites(deps, req.ctx, pageOf(req.query)) }),
  }),
};
