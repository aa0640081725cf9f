import { createProfileBody, createProfileVersionBody } from '../../contracts/api.js';
import { listQuery } from '../../contracts/common.js';
import {
  createProfile, createProfileVersion, getProfile, getProfileVersion, listProfiles, listProfileVersions, publishProfileVersion,
} from '../../use-cases/profiles.js';
import type { HttpDeps } from '../composition-root.js';
import { lazy } from '../kit.js';
import { awsHttpDeps, createHttpHandler, route, type RouteTable } from './framework.js';
import { pageOf } from './paging.js';

export const routes: RouteTable = {
  'POST /v1/profiles': route({
    action: 'profiles:create',
    body: createProfileBody, idempotent: true,
    run: async (req, deps) => ({ status: 201, body: await createProfile(deps, req.ctx, req.body) }),
  }),
  'GET /v1/profiles': route({
    query: listQuery,
    run: async (req, deps) => ({ status: 200, body: await listProfiles(deps, req.ctx, pageOf(req.query)) }),
  }),
  'GET /v1/profiles/{name}': route({
    run: async (req, deps) => ({ status: 200, body: await getProfile(deps, req.ctx, req.params.name!) }),
  }),
  'POST /v1/profiles/{name}/versions': route({
    action: 'profiles:create',
    body: createProfileVersionBody, idempotent: true,
    run: async (req, deps) => ({ status: 201, body: await createProfileVersion(deps, req.ctx, req.params.name!, req.body) }),
  }),
  'GET /v1/profiles/{name}/versions': route({
    query: listQuery,
    run: async (req, deps) => ({ status: 200, body: await listProfileVersions(deps, req.ctx, req.params.name!, pageOf(req.query)) }),
  }),
  'GET /v1/profiles/{name}/versions/{version}': route({
    run: async (req, deps) => ({ status: 200, body: await getProfileVersion(deps, req.ctx, req.params.name!, req.params.version!) }),
  }),
  'POST /v1/profiles/{name}/versions/{version}/publish': route({
    action: 'profiles:create',
    run: async (req, deps) => ({ status: 200, body: await publishProfileVersion(deps, req.ctx, req.params.name!, req.params.version!) }),
  }),
};

export const makeHandler = (deps: () => HttpDeps) => createHttpHandler('profiles', routes, deps);
export const handler = lazy(() => makeHandler(awsHttpDeps('profiles')));
