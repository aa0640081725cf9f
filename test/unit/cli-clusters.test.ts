import { buildScaleBody, needsUpgradeError, startedOperation } from '../../cli/commands/clusters.js';
import { buildVariables } from '../../cli/variables.js';
import { collectVars } from '../../cli/parse.js';
import { operationsQuery } from '../../cli/commands/operations.js';
import { ApiError, EXIT, UsageError, describeError } from '../../cli/errors.js';
import { fakeApi, on, type FakeRequest, type FakeRoute } from './cli-fake-api.js';

type Req = FakeRequest<Record<string, string>>;
type Route = FakeRoute<Record<string, string>>;

const NOW = new Date().toISOString();
const cluster = (over: Record<string, unknown> = {}) => ({
  id: 'c-1', project: 'default', name: 'shop-9', profile: { name: 'edge-k3s', version: '1.0.0' },
  controlPlane: { hostIds: ['hw-1'] }, workers: [{ name: 'pos', hostIds: ['hw-2'] }], status: 'provisioning',
  operationId: 'op-7', health: { state: 'degraded', reasons: ['node hw-2: Kubernetes NotReady'] }, version: 1, createdAt: NOW, updatedAt: NOW, ...over,
});
const operation = (status: string, over: Record<string, unknown> = {}) => ({
  id: 'op-7', project: 'default', type: 'cluster.create', target: { type: 'cluster', id: 'c-1' }, status, step: 'finish',
  hosts: { 'hw-1': { status: 'succeeded', step: 'init', detail: 'node Ready', at: NOW } }, startedAt: NOW, ...over,
});
const problem = (status: number, code: string, detail: string, errors?: { path: string; message: string }[]) => ({
  status, body: { type: 'about:blank', title: 'Problem', status, code, detail, requestId: 'req-1', ...(errors ? { errors } : {}) },
});

let routes: Route[] = [];
const seen: Req[] = [];
const { run } = fakeApi({ name: 'ef-cli-clusters-', routes: () => routes, seen, query: (p) => Object.fromEntries(p) });
beforeEach(() => {
  seen.length = 0;
  routes = [];
});

describe('clusters create', () => {
  it('sends the body and prints the cluster id and the operation to follow', async () => {
    routes = [on('POST', '/v1/clusters', { status: 202, body: cluster() })];
    const r = await run(['clusters', 'create', '--name', 'shop-9', '--profile', 'edge-k3s@1.0.0', '--control-plane', 'hw-1', '--workers', 'pos=hw-2', '--vip', '10.0.0.5']);
    expect(r.code).toBe(EXIT.ok);
    expect(seen[0]!.body).toEqual({ name: 'shop-9', profile: { name: 'edge-k3s', version: '1.0.0' }, controlPlane: { hostIds: ['hw-1'] }, workers: [{ name: 'pos', hostIds: ['hw-2'] }], vip: '10.0.0.5' });
    expect(r.stdout).toContain('Cluster shop-9 (c-1) accepted; status provisioning.');
    expect(r.stdout).toContain('Operation: op-7');
    expect(r.stdout).toContain('edgefleet operations watch op-7');
    // What test/integration/cli.test.ts reads from this output.
    expect(/operations get (\S+)/.exec(r.stdout)![1]).toBe('op-7');
    expect(/\((c-[^)]+)\)/.exec(r.stdout)![1]).toBe('c-1');
  });

  it.each([
    ['succeeded', EXIT.ok, 'Succeeded after'],
    ['failed', EXIT.conflict, 'Failed after'],
  ])('with --watch follows the operation to %s and exits %d', async (status, code, outcome) => {
    const packs = [{ name: 'calico', type: 'cni', state: status === 'succeeded' ? 'ready' : 'error', version: 'v3.29.1', ...(status === 'succeeded' ? {} : { reason: 'chart not found' }) }];
    routes = [on('POST', '/v1/clusters', { status: 202, body: cluster() }), on('GET', '/v1/operations/op-7', { status: 200, body: operation(status, { reason: 'join failed on hw-1' }) }),
      on('GET', '/v1/clusters/c-1', { status: 200, body: cluster({ packs }) })];
    const r = await run(['clusters', 'create', '--name', 'shop-9', '--profile', 'edge-k3s@1.0.0', '--control-plane', 'hw-1', '--watch']);
    expect(r.code).toBe(code);
    expect(r.stdout).toContain('Operation: op-7');
    expect(r.stdout).toContain(outcome);
    // Then the packs as the init node last reported them.
    expect(r.stdout).toMatch(status === 'succeeded' ? /Packs: 1\/1 ready\nPACK[\s\S]*calico\s+cni\s+v3.29.1\s+ready/ : /Packs: 0\/1 ready, 1 error[\s\S]*calico\s+cni\s+v3.29.1\s+error\s+chart not found/);
    expect(seen.map((q) => `${q.method} ${q.path}`)).toEqual(['POST /v1/clusters', 'GET /v1/operations/op-7', 'GET /v1/clusters/c-1']);
  });

  it('with --watch -o json writes only JSON lines: the answer first, then the changes and the outcome', async () => {
    routes = [on('POST', '/v1/clusters', { status: 202, body: cluster() }), on('GET', '/v1/operations/op-7', { status: 200, body: operation('succeeded') })];
    const r = await run(['clusters', 'create', '--name', 'shop-9', '--profile', 'edge-k3s@1.0.0', '--control-plane', 'hw-1', '--watch', '-o', 'json']);
    expect(r.code).toBe(EXIT.ok);
    const lines = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ id: 'c-1', operationId: 'op-7' });
    expect(lines.at(-1)).toMatchObject({ what: 'outcome', status: 'succeeded' });
  });
});

describe('clusters scale', () => {
  it('adds hosts to a pool and prints the operation', async () => {
    routes = [on('POST', '/v1/clusters/c-1/scale', { status: 202, body: cluster({ status: 'updating', activeOperationId: 'op-8' }) })];
    const r = await run(['clusters', 'scale', 'c-1', '--pool', 'pos', '--add', 'hw-7,hw-8']);
    expect(r.code).toBe(EXIT.ok);
    expect(seen[0]!.body).toEqual({ pool: 'pos', add: ['hw-7', 'hw-8'] });
    expect(r.stdout).toContain('Scaling cluster c-1: adding hw-7, hw-8 to pool pos.');
    expect(r.stdout).toContain('Operation: op-8');
  });

  it.each([
    [['--add', 'hw-1', '--remove', 'hw-2'], /either --add or --remove, not both/],
    [[], /--add <host ids> \(scale out\) or --remove/],
  ])('refuses %j before calling the API (exit 2)', async (flags, message) => {
    const r = await run(['clusters', 'scale', 'c-1', '--pool', 'pos', ...flags]);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toMatch(message);
    expect(seen).toEqual([]);
  });

  it('explains a 409 from the control plane (exit 4)', async () => {
    routes = [on('POST', '/v1/clusters/c-1/scale', problem(409, 'control-plane-size', 'the control plane must have 1, 3 or 5 nodes, not 2'))];
    const r = await run(['clusters', 'scale', 'c-1', '--pool', 'control-plane', '--add', 'hw-9']);
    expect(r.code).toBe(EXIT.conflict);
    expect(r.stderr).toContain('the control plane must have 1, 3 or 5 nodes, not 2 (code control-plane-size, HTTP 409)');
    expect(r.stderr).toContain('edgefleet operations list --cluster c-1');
  });
});

describe('clusters reconfigure', () => {
  it('sends the profile version and follows it with --watch', async () => {
    routes = [
      on('POST', '/v1/clusters/c-1/reconfigure', { status: 202, body: cluster({ status: 'updating', activeOperationId: 'op-9' }) }),
      on('GET', '/v1/operations/op-9', { status: 200, body: operation('succeeded', { id: 'op-9', type: 'cluster.reconfigure' }) }),
    ];
    const r = await run(['clusters', 'reconfigure', 'c-1', '--profile', 'edge-k3s@1.0.1', '--watch', '--interval', '250ms']);
    expect(r.code).toBe(EXIT.ok);
    expect(seen[0]!.body).toEqual({ profile: { name: 'edge-k3s', version: '1.0.1' } });
    expect(r.stdout).toContain('Reconfiguring cluster c-1 to edge-k3s@1.0.1.');
  });

  it('prints the per-layer changes and points to the upgrade API on reconfigure-needs-upgrade (exit 4)', async () => {
    routes = [on('POST', '/v1/clusters/c-1/reconfigure', problem(409, 'reconfigure-needs-upgrade',
      'layer os: image changed (repave); layer k8s: version 1.30 → 1.31 (reboot)\nuse the upgrade API'))];
    const r = await run(['clusters', 'reconfigure', 'c-1', '--profile', 'edge-k3s@2.0.0']);
    expect(r.code).toBe(EXIT.conflict);
    expect(r.stderr).toContain('error: cannot reconfigure cluster "c-1" to edge-k3s@2.0.0: some changes need an upgrade (code reconfigure-needs-upgrade, HTTP 409):');
    expect(r.stderr).toContain('\n    layer os: image changed (repave)\n    layer k8s: version 1.30 → 1.31 (reboot)\n    use the upgrade API\n');
    expect(r.stderr).toContain('edgefleet clusters upgrade c-1 --to edge-k3s@2.0.0');
    expect(r.stderr).toContain('request id: req-1');
  });

  it('keeps the generic message for another 409 and a 404', async () => {
    routes = [on('POST', '/v1/clusters/c-1/reconfigure', problem(409, 'busy', 'cluster c-1 has operation op-3 running'))];
    const busy = await run(['clusters', 'reconfigure', 'c-1', '--profile', 'edge-k3s@1.0.1']);
    expect(busy.code).toBe(EXIT.conflict);
    expect(busy.stderr).toContain('cluster c-1 has operation op-3 running (code busy, HTTP 409)');
    routes = [on('POST', '/v1/clusters/c-9/reconfigure', problem(404, 'not-found', 'cluster c-9 not found'))];
    const missing = await run(['clusters', 'reconfigure', 'c-9', '--profile', 'edge-k3s@1.0.1']);
    expect(missing.code).toBe(EXIT.notFound);
  });
});

describe('clusters delete', () => {
  it('refuses without --yes when there is no terminal to ask on, before calling the API (exit 2)', async () => {
    const r = await run(['clusters', 'delete', 'c-1']);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toContain('refusing to delete cluster c-1 without confirmation');
    expect(r.stderr).toContain('add --yes');
    expect(seen).toEqual([]);
  });

  it('with --yes answers 202: prints the operation and that hosts are reset and returned to the pool', async () => {
    routes = [on('DELETE', '/v1/clusters/c-1', { status: 202, body: cluster({ status: 'deleting', activeOperationId: 'op-10' }), headers: { location: '/v1/operations/op-10' } })];
    const r = await run(['clusters', 'delete', 'c-1', '--yes']);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toContain('Deleting cluster c-1: every host will be reset and returned to the pool of approved hosts.');
    expect(r.stdout).toContain('Operation: op-10');
    expect(r.stdout).toContain('edgefleet operations watch op-10');
    const json = await run(['clusters', 'delete', 'c-1', '-y', '-o', 'json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ id: 'c-1', status: 'deleting', activeOperationId: 'op-10' });
  });

  it('with --yes --watch exits 4 when the delete operation fails', async () => {
    routes = [
      on('DELETE', '/v1/clusters/c-1', { status: 202, body: cluster({ status: 'deleting', activeOperationId: 'op-10' }) }),
      on('GET', '/v1/operations/op-10', { status: 200, body: operation('failed', { id: 'op-10', type: 'cluster.delete', reason: 'hw-1 did not confirm the reset' }) }),
    ];
    const r = await run(['clusters', 'delete', 'c-1', '--yes', '--watch']);
    expect(r.code).toBe(EXIT.conflict);
    expect(r.stdout).toContain('hw-1 did not confirm the reset');
  });

  it('exits 3 for an unknown cluster', async () => {
    routes = [on('DELETE', '/v1/clusters/c-9', problem(404, 'not-found', 'cluster c-9 not found'))];
    const r = await run(['clusters', 'delete', 'c-9', '--yes']);
    expect(r.code).toBe(EXIT.notFound);
    expect(r.stderr).toContain('edgefleet clusters list');
  });
});

describe('operations list and get', () => {
  it.each([
    [['--cluster', 'c-1'], { targetType: 'cluster', targetId: 'c-1' }],
    [['--host', 'hw-4'], { targetType: 'host', targetId: 'hw-4' }],
    [['--target-type', 'cluster', '--target-id', 'c-2'], { targetType: 'cluster', targetId: 'c-2' }],
    [[], {}],
  ])('lists with %j as the target query', async (flags, query) => {
    routes = [on('GET', '/v1/operations', { status: 200, body: { items: [operation('running')] } })];
    const r = await run(['operations', 'list', ...flags]);
    expect(r.code).toBe(EXIT.ok);
    expect(seen[0]!.query).toEqual(query);
    expect(r.stdout).toMatch(/^ID\s+TYPE\s+TARGET\s+STATUS\s+STEP/);
  });

  it('refuses two targets (exit 2)', async () => {
    const r = await run(['operations', 'list', '--cluster', 'c-1', '--host', 'hw-1']);
    expect(r.code).toBe(EXIT.usage);
    expect(seen).toEqual([]);
  });

  it('shows step, reason, deadline and a per-host table', async () => {
    routes = [on('GET', '/v1/operations/op-7', { status: 200, body: operation('running', { step: 'join-workers', deadline: '2030-01-01T00:00:00Z', reason: undefined }) })];
    const r = await run(['operations', 'get', 'op-7']);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toMatch(/Step:\s+join-workers/);
    expect(r.stdout).toMatch(/Deadline:\s+2030-01-01T00:00:00Z/);
    expect(r.stdout).toMatch(/HOST\s+STATUS\s+STEP\s+AT\s+DETAIL\nhw-1\s+succeeded\s+init\s+\S+\s+node Ready/);
    expect(r.stderr).toContain('edgefleet operations watch op-7');
  });
});

describe('pure helpers', () => {
  it.each([
    [{ pool: 'pos', add: ['a'] }, { pool: 'pos', add: ['a'] }],
    [{ pool: 'pos', remove: ['b'] }, { pool: 'pos', remove: ['b'] }],
  ])('builds the scale body %j', (o, body) => {
    expect(buildScaleBody(o)).toEqual(body);
  });

  it('refuses a scale body with both or neither', () => {
    expect(() => buildScaleBody({ pool: 'pos', add: ['a'], remove: ['b'] })).toThrow(UsageError);
    expect(() => buildScaleBody({ pool: 'pos' })).toThrow(UsageError);
  });

  it.each([
    [{ activeOperationId: 'op-2', operationId: 'op-1' }, 'op-2'],
    [{ operationId: 'op-1' }, 'op-1'],
    [undefined, undefined],
  ])('finds the started operation in %j', (c, id) => {
    expect(startedOperation(c)).toBe(id);
  });

  it('neutralizes escape sequences in a needs-upgrade detail and lists field errors', () => {
    const err = new ApiError('reconfigure', 409, {
      type: 'about:blank', title: 't', status: 409, code: 'reconfigure-needs-upgrade', detail: 'layer os\x1b[2J: repave',
      errors: [{ path: 'layers.k8s', message: 'reboot' }],
    }, undefined);
    const { text, exitCode } = describeError(needsUpgradeError('c-1', { name: 'p', version: '2.0.0' }, err));
    expect(exitCode).toBe(EXIT.conflict);
    expect(text).toContain('    layer os: repave\n');
    expect(text).toContain('    - layers.k8s: reboot\n');
    expect(text).not.toContain('\x1b');
  });

  it('builds the operations query from one target', () => {
    expect(operationsQuery({ host: 'hw-1' })).toEqual({ targetType: 'host', targetId: 'hw-1' });
    expect(() => operationsQuery({ targetId: 'x' })).toThrow(/--target-id needs --target-type/);
  });

  it('has help with examples on the new commands', async () => {
    for (const cmd of [['clusters', 'scale'], ['clusters', 'reconfigure'], ['clusters', 'delete'], ['operations', 'watch'], ['operations', 'list']]) {
      const r = await run([...cmd, '--help']);
      expect(r.code).toBe(EXIT.ok);
      expect(r.stdout).toContain('Examples:');
      expect(r.stdout).toContain('--output <format>');
    }
  });
});

describe('pack status in clusters get and list', () => {
  const packs = [
    { name: 'calico', type: 'cni', state: 'ready', version: 'v3.29.1' },
    { name: 'nfs', type: 'csi', state: 'error', version: 'v4.99.0', reason: 'chart csi-driver-nfs version v4.99.0 not found in https://raw.githubusercontent.com/kubernetes-csi/csi-driver-nfs/master/charts' },
    { name: 'quotas', type: 'addon', state: 'installing', version: '1.0.0', reason: 'applying edgefleet-quotas.yaml' },
  ];
  it('get: a summary line and a PACKS table (name, type, version, state, reason)', async () => {
    routes = [on('GET', '/v1/clusters/c-1', { status: 200, body: cluster({ packs, packsReportedAt: '2026-11-30T21:00:00.000Z' }) })];
    const r = await run(['clusters', 'get', 'c-1']);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toMatch(/Packs:\s+1\/3 ready, 1 error \(reported 2026-11-30T21:00:00.000Z by hw-1\)/);
    expect(r.stdout).toMatch(/PACK\s+TYPE\s+VERSION\s+STATE\s+REASON\ncalico\s+cni\s+v3.29.1\s+ready\s+-\nnfs\s+csi\s+v4.99.0\s+error\s+chart csi-driver-nfs version v4.99.0 not found/);
    expect(r.stdout).toMatch(/quotas\s+addon\s+1.0.0\s+installing\s+applying edgefleet-quotas.yaml/);
  });

  it('get without a pack report shows no packs; list has a PACKS column', async () => {
    routes = [on('GET', '/v1/clusters/c-1', { status: 200, body: cluster() }),
      on('GET', '/v1/clusters', { status: 200, body: { items: [cluster({ packs: packs.map((p) => ({ ...p, state: 'ready' })) }), cluster({ id: 'c-2', name: 'bare' })] } })];
    expect((await run(['clusters', 'get', 'c-1'])).stdout).not.toMatch(/Packs|PACK/);
    const list = await run(['clusters', 'list']);
    expect(list.stdout).toMatch(/PACKS/);
    expect(list.stdout).toMatch(/c-1\s.*3\/3 ready/);
  });
});

describe('--var and --var-file', () => {
  it('collects NAME=value (the first "=" splits) and refuses a name given twice or a bad name', () => {
    expect(collectVars('DSN=user=a;b', collectVars('SITE=shop-1', undefined))).toEqual({ SITE: 'shop-1', DSN: 'user=a;b' });
    expect(() => collectVars('SITE=b', { SITE: 'a' })).toThrow(/SITE is given twice/);
    expect(() => collectVars('no-equals', undefined)).toThrow(/expected NAME=value/);
    expect(() => collectVars('9X=1', undefined)).toThrow(/expected NAME=value/);
  });

  it('merges a YAML file with --var; a name in both is refused; nothing given is undefined', () => {
    const read = () => 'PASSWORD: "s3cr3t"\nREPLICAS: 3\n';
    expect(buildVariables({ varFile: 'v.yaml', var: { SITE: 'a' } }, read)).toEqual({ PASSWORD: 's3cr3t', REPLICAS: 3, SITE: 'a' });
    expect(() => buildVariables({ varFile: 'v.yaml', var: { REPLICAS: '4' } }, read)).toThrow(/REPLICAS is given both/);
    expect(() => buildVariables({ varFile: 'v.yaml' }, () => '- a\n')).toThrow(/must map variable names to values/);
    expect(buildVariables({})).toBeUndefined();
  });
});

describe('health in clusters get and list', () => {
  it('get shows the health with its reasons; list has a HEALTH column and passes --health as the filter', async () => {
    routes = [on('GET', '/v1/clusters/c-1', { status: 200, body: cluster() }),
      on('GET', '/v1/clusters', { status: 200, body: { items: [cluster()] } })];
    expect((await run(['clusters', 'get', 'c-1'])).stdout).toMatch(/Health:\s+degraded: node hw-2: Kubernetes NotReady/);
    const list = await run(['clusters', 'list', '--health', 'degraded']);
    expect(list.stdout).toMatch(/STATUS\s+HEALTH\s+CONTROL PLANE/);
    expect(list.stdout).toMatch(/c-1\s.*provisioning\s+degraded\s/);
    expect(seen.at(-1)?.query).toMatchObject({ health: 'degraded' });
  });

  it('refuses a health state that does not exist, naming the valid ones', async () => {
    const r = await run(['clusters', 'list', '--health', 'sick']);
    expect(r.code).not.toBe(EXIT.ok);
    expect(r.stderr).toMatch(/healthy, degraded, unreachable, unknown/);
  });
});
