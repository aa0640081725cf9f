import { createRolloutBody, listRolloutsQuery, listRolloutTargetsQuery, patchSiteBody, rolloutActionBody, siteParam } from '../../contracts/rollouts.js';
import { ValidationError } from '../../domain/errors.js';
import { actOnRollout, createRollout, getRollout, listRollouts, listRolloutTargets, setSiteTimezone } from '../../use-cases/rollouts.js';
import { route, type RouteTable } from './framework.js';
import { pageOf } from './paging.js';

const action = (name: 'pause' | 'resume' | 'cancel' | 'promote') => route({
  action: 'clusters:update',
  body: rolloutActionBody,
  run: async (req, deps) => ({ status: 200, body: await actOnRollout(deps, req.ctx, req.params.rolloutId!, name, req.body?.reason) }),
});

/** Fleet rollouts and site settings: served by the clusters function (same table, same grants). */
export const rolloutRoutes: RouteTable = {
  'POST /v1/rollouts': route({
    action: 'clusters:update',
    body: createRolloutBody, idempotent: true,
    run: async (req, deps) => {
      const r = await createRollout(deps, req.ctx, req.body);
      return { status: 202, body: await getRollout(deps, req.ctx, r.id), headers: { location: `/v1/rollouts/${r.id}` } };
    },
  }),
  'GET /v1/rollouts': route({
    query: listRolloutsQuery,
    run: async (req, deps) => ({ status: 200, body: await listRollouts(deps, req.ctx, pageOf(req.query), req.query.status) }),
  }),
  'GET /v1/rollouts/{rolloutId}': route({
    run: async (req, deps) => ({ status: 200, body: await getRollout(deps, req.ctx, req.params.rolloutId!) }),
  }),
  'GET /v1/rollouts/{rolloutId}/clusters': route({
    query: listRolloutTargetsQuery,
    run: async (req, deps) => ({
      status: 200,
      body: await listRolloutTargets(deps, req.ctx, req.params.rolloutId!, { ...(req.query.state ? { state: req.query.state } : {}), ...(req.query.wave !== undefined ? { wave: req.query.wave } : {}) }, pageOf(req.query)),
    }),
  }),
  'POST /v1/rollouts/{rolloutId}/pause': action('pause'),
  'POST /v1/rollouts/{rolloutId}/resume': action('resume'),
  'POST /v1/rollouts/{rolloutId}/cancel': action('cancel'),
  'POST /v1/rollouts/{rolloutId}/promote': action('promote'),
  'PATCH /v1/sites/{site}': route({
    action: 'clusters:update',
    body: patchSiteBody,
    run: async (req, deps) => {
      const site = siteParam.safeParse(req.params.site);
      if (!site.success) throw new ValidationError('invalid-site', `'${req.params.site}' is not a site name`, { errors: [{ path: 'site', message: 'not a site name' }] });
      return { status: 200, body: await setSiteTimezone(deps, req.ctx, site.data, req.body.timezone) };
    },
  }),
};
