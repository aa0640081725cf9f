import { createAlertRuleBody } from '../../contracts/alerts.js';
import { listQuery } from '../../contracts/common.js';
import { createAlertRule, deleteAlertRule, getAlertRule, listAlertRules } from '../../use-cases/alert-rules.js';
import type { HttpDeps } from '../composition-root.js';
import { lazy } from '../kit.js';
import { awsHttpDeps, createHttpHandler, route, type RouteTable } from './framework.js';
import { pageOf } from './paging.js';

export const routes: RouteTable = {
  'POST /v1/alert-rules': route({
    action: 'alerts:manage',
    body: createAlertRuleBody, idempotent: true, oneTimeSecret: 'secret',
    run: async (req, deps) => ({ status: 201, body: await createAlertRule(deps, req.ctx, req.body) }),
  }),
  'GET /v1/alert-rules': route({
    query: listQuery,
    run: async (req, deps) => ({ status: 200, body: await listAlertRules(deps, req.ctx, pageOf(req.query)) }),
  }),
  'GET /v1/alert-rules/{ruleId}': route({
    run: async (req, deps) => ({ status: 200, body: await getAlertRule(deps, req.ctx, req.params.ruleId!) }),
  }),
  'DELETE /v1/alert-rules/{ruleId}': route({
    action: 'alerts:manage',
    run: async (req, deps) => {
      await deleteAlertRule(deps, req.ctx, req.params.ruleId!);
      return { status: 204 };
    },
  }),
};

export const makeHandler = (deps: () => HttpDeps) => createHttpHandler('alerts', routes, deps);
export const handler = lazy(() => makeHandler(awsHttpDeps('alerts')));
