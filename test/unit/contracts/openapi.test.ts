import { batchHostsBody, createClusterBody, createHostBody, createProfileVersionBody, createTokenBody } from '../../../lambdas/contracts/api.js';
import { ROUTE_DOCS, buildOpenApi } from '../../../lambdas/contracts/openapi.js';
import { API_ROUTES, routeKey } from '../../../lambdas/contracts/routes.js';

interface Operation {
  summary: string;
  security: unknown[];
  parameters: { name: string; in: string; required: boolean; schema: Record<string, unknown> }[];
  requestBody?: { required: boolean; content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: Record<string, unknown> }> }>;
}
interface OpenApi {
  openapi: string;
  info: { title: string; version: string };
  components: { securitySchemes: Record<string, unknown> };
  paths: Record<string, Record<string, Operation>>;
}

const spec = buildOpenApi('1') as unknown as OpenApi;
const op = (method: string, path: string) => spec.paths[path]?.[method.toLowerCase()];

describe('ROUTE_DOCS and the route table', () => {
  const routeKeys = API_ROUTES.map(routeKey);

  it('has no duplicate routes', () => {
    expect(new Set(routeKeys).size).toBe(routeKeys.length);
  });

  it('documents exactly the routes of API_ROUTES (no more, no less)', () => {
    expect(Object.keys(ROUTE_DOCS).sort()).toEqual([...routeKeys].sort());
  });

  it.each(routeKeys)('%s has a summary', (key) => {
    expect(ROUTE_DOCS[key]?.summary).toMatch(/\S/);
  });
});

describe('buildOpenApi()', () => {
  it('is an OpenAPI 3.1 document with bearer JWT security', () => {
    expect(spec.openapi).toBe('3.1.0');
    expect(spec.info).toEqual({ title: 'EdgeFleet API', version: '1' });
    expect(spec.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    expect(JSON.parse(JSON.stringify(spec))).toEqual(spec); // plain JSON, no functions or undefined
  });

  it('has every path and method of the route table and nothing else', () => {
    const documented = Object.entries(spec.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    expect(documented.sort()).toEqual(API_ROUTES.map(routeKey).sort());
  });

  it.each(API_ROUTES.map((r) => [routeKey(r), r] as const))('%s: security, path parameters and a problem response', (_key, route) => {
    const o = op(route.method, route.path)!;
    expect(o.summary).toBe(ROUTE_DOCS[routeKey(route)]!.summary);
    expect(o.security).toEqual(route.auth === 'jwt' ? [{ bearer: [] }] : []);
    const pathParams = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
    expect(o.parameters.filter((p) => p.in === 'path').map((p) => p.name)).toEqual(pathParams);
    for (const p of o.parameters.filter((x) => x.in === 'path')) expect(p.required).toBe(true);
    expect(o.parameters.some((p) => p.in === 'header' && p.name === 'x-edgefleet-project')).toBe(route.auth === 'jwt');
    expect(o.responses.default!.content!['application/problem+json']!.schema).toMatchObject({
      type: 'object', required: expect.arrayContaining(['type', 'title', 'status', 'code', 'detail']),
    });
  });

  it.each(Object.entries(ROUTE_DOCS).filter(([, d]) => d.body).map(([k]) => k))('%s has a JSON schema request body', (key) => {
    const [method, path] = key.split(' ') as [string, string];
    const body = op(method, path)!.requestBody!;
    expect(body.required).toBe(true);
    const schema = body.content['application/json']!.schema;
    // A discriminated union (POST /v1/rollouts on kind) is a oneOf of closed objects.
    const alternatives = (schema as { oneOf?: (typeof schema)[] }).oneOf ?? [schema];
    for (const alt of alternatives) {
      expect(alt.type).toBe('object');
      expect(alt.properties).toEqual(expect.any(Object));
      // Strict bodies are documented as closed objects.
      expect(alt.additionalProperties).toBe(false);
    }
  });

  it.each(Object.entries(ROUTE_DOCS).filter(([, d]) => !d.body).map(([k]) => k))('%s has no request body', (key) => {
    const [method, path] = key.split(' ') as [string, string];
    expect(op(method, path)!.requestBody).toBeUndefined();
  });

  it.each([
    ['POST /v1/registration-tokens', createTokenBody, ['name'], '201'],
    ['POST /v1/hosts', createHostBody, ['uid'], '201'],
    ['POST /v1/hosts/batch', batchHostsBody, ['hosts'], '200'],
    ['POST /v1/profiles/{name}/versions', createProfileVersionBody, ['version', 'layers'], '201'],
    ['POST /v1/clusters', createClusterBody, ['name', 'profile', 'controlPlane'], '202'],
  ] as const)('%s: body fields, required list and success status', (key, body, required, status) => {
    const [method, path] = key.split(' ') as [string, string];
    const o = op(method, path)!;
    const schema = o.requestBody!.content['application/json']!.schema as { properties: Record<string, unknown>; required: string[] };
    expect(Object.keys(schema.properties).sort()).toEqual(Object.keys(body.shape).sort());
    expect([...schema.required].sort()).toEqual([...required].sort());
    expect(Object.keys(o.responses).sort()).toEqual([status, 'default'].sort());
  });

  it('documents body constraints from the zod schemas', () => {
    const batch = op('POST', '/v1/hosts/batch')!.requestBody!.content['application/json']!.schema as { properties: { hosts: Record<string, unknown> } };
    expect(batch.properties.hosts).toMatchObject({ type: 'array', minItems: 1, maxItems: 10_000 });
    const host = op('POST', '/v1/hosts')!.requestBody!.content['application/json']!.schema as { properties: { uid: Record<string, unknown> } };
    expect(host.properties.uid).toMatchObject({ type: 'string', minLength: 1, maxLength: 128 });
  });

  it('documents query parameters for list routes', () => {
    const names = op('GET', '/v1/hosts')!.parameters.filter((p) => p.in === 'query').map((p) => p.name);
    expect(names.sort()).toEqual(['clusterId', 'cursor', 'health', 'limit', 'site', 'status', 'tag']);
    const limit = op('GET', '/v1/hosts')!.parameters.find((p) => p.name === 'limit')!;
    expect(limit).toMatchObject({ required: false, schema: { type: 'integer', minimum: 1, maximum: 100 } });
    const status = op('GET', '/v1/hosts')!.parameters.find((p) => p.name === 'status')!;
    expect(status.schema.enum).toEqual(expect.arrayContaining(['pending', 'approved']));
  });

  it('the version argument is the document version', () => {
    expect((buildOpenApi('2.5.0') as unknown as OpenApi).info.version).toBe('2.5.0');
  });
});
