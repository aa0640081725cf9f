/**
 * Alerts on the real local runtime: a webhook rule, a simulated host that is stopped (its agent
 * disconnects: the broker's lifecycle event), the presence handler derives the health change,
 * the local event bus hands it to the dispatcher, which POSTs a signed notification to a
 * loopback receiver — once. Bad input is refused; the webhook key is never in DynamoDB.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { simulatorControl, type SimulatedFleet } from '../../simulator/index.js';
import { eventually, startFleet, startHarness, type Harness } from './harness.js';

interface Received { readonly at: number; readonly path: string; readonly body: string; readonly signature: string }

let h: Harness;
let dir: string;
let fleet: SimulatedFleet;
let ids: string[] = [];
let receiver: Server;
let receiverUrl = '';
const received: Received[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ at: Date.now(), path: req.url ?? '', body, signature: String(req.headers['edgefleet-signature'] ?? '') });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hooks/edgefleet`;
  // Re-notify intervals 2400 times shorter (the default 240 minutes: 6 s); the sweep every 500 ms.
  h = await startHarness({ alertTimeScale: 1 / 2400, alertSweepMs: 500 });
  dir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-alerts-it-'));
  ({ fleet, ids } = await startFleet(h, { count: 3, prefix: 'al', stateDir: dir, kairos: { rebootDelayMs: 100, k8sReadyDelayMs: 150 } }));
  for (const id of ids) await eventually(`${id} healthy`, async () => (await h.call('GET', `/v1/hosts/${id}`)).body?.health?.state === 'healthy');
  // What `npm start -- --simulate N` serves: stop and start one simulated host (README "Alerts").
  h.rt.addLocalRoute(simulatorControl(fleet, h.rt.adminToken));
}, 120_000);

const control = (id: string, action: string, token: string | null = h.rt.adminToken) => fetch(`${h.rt.url}/_local/simulator/hosts/${id}/${action}`, {
  method: 'POST', headers: token ? { authorization: `Bearer ${token}` } : {},
});
afterAll(async () => {
  await fleet?.stop();
  await h?.stop();
  await new Promise<void>((r) => (receiver ? receiver.close(() => r()) : r()));
  rmSync(dir, { recursive: true, force: true });
});

let secret = '';
let ruleId = '';

describe('alert rules', () => {
  it('creates a webhook rule; its HMAC key is shown once and is nowhere in DynamoDB', async () => {
    const r = await h.call('POST', '/v1/alert-rules', {
      body: { name: 'shops down', match: { states: ['unhealthy'], kinds: ['host'], site: 'simulated' }, target: { type: 'webhook', url: receiverUrl } },
      headers: { 'idempotency-key': 'alert-rule-0001' },
    });
    expect({ status: r.status, body: r.status === 201 ? undefined : r.body }).toEqual({ status: 201, body: undefined });
    expect(r.body).toMatchObject({ name: 'shops down', target: { type: 'webhook', url: receiverUrl }, renotifyMinutes: 240 });
    secret = r.body.secret;
    ruleId = r.body.id;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    const again = await h.call('GET', `/v1/alert-rules/${ruleId}`);
    expect(again.body.secret).toBeUndefined();
    const replay = await h.call('POST', '/v1/alert-rules', {
      body: { name: 'shops down', match: { states: ['unhealthy'], kinds: ['host'], site: 'simulated' }, target: { type: 'webhook', url: receiverUrl } },
      headers: { 'idempotency-key': 'alert-rule-0001' },
    });
    expect(replay.body.id).toBe(ruleId);
    expect(replay.body.secret).toBeUndefined();
    expect(replay.headers.get('edgefleet-secret-omitted')).toMatch(/^secret; /);
    const items = await h.rt.dynamo.send(new ScanCommand({ TableName: h.rt.deps.config.stateTable }));
    expect(JSON.stringify(items.Items)).not.toContain(secret);
    const listed = await h.call('GET', '/v1/alert-rules');
    expect(listed.body.items.map((x: { id: string }) => x.id)).toEqual([ruleId]);
    const audit = await h.call('GET', `/v1/audit-events?resource=${encodeURIComponent(`alert-rule/${ruleId}`)}`);
    expect(audit.body.items).toEqual([expect.objectContaining({ action: 'alert-rule.create', outcome: 'success' })]);
  });

  it('a stopped host reaches the webhook once, signed, within the bound', async () => {
    // The local control refuses without the admin token and names unknown hosts.
    expect((await control(ids[0]!, 'stop', null)).status).toBe(401);
    expect((await control(ids[0]!, 'stop', await h.token('vic', ['default:viewer']))).status).toBe(401);
    const unknown = await control('nope', 'stop');
    expect({ status: unknown.status, detail: ((await unknown.json()) as { detail: string }).detail }).toEqual({ status: 404, detail: expect.stringContaining('no simulated host nope') });
    expect(fleet.host(ids[0]!)!.running).toBe(true);
    const stoppedAt = Date.now();
    const stopped = await control(ids[0]!, 'stop');
    expect({ status: stopped.status, body: await stopped.json() }).toEqual({ status: 200, body: { hostId: ids[0], running: false } });
    const first = await eventually('the webhook delivery', async () => received[0], 120_000);
    expect(first.at - stoppedAt).toBeLessThan(120_000);
    const [t, v1] = first.signature.split(',').map((p) => p.split('=', 2)[1]);
    expect(Math.abs(Number(t) - Date.now() / 1000)).toBeLessThan(300);
    expect(v1).toBe(createHmac('sha256', secret).update(`${t}.${first.body}`).digest('hex'));
    const body = JSON.parse(first.body);
    expect(body).toMatchObject({
      ruleId, ruleName: 'shops down', reason: 'first',
      event: { kind: 'host', hostId: ids[0], site: 'simulated', state: 'unhealthy', previousState: 'healthy', reasons: [expect.stringMatching(/^offline since /)] },
    });
    // Not twice: the same host in the same state is not re-sent (the other hosts stay healthy).
    await new Promise((r) => setTimeout(r, 1500));
    expect(received).toHaveLength(1);
  }, 150_000);

  it('an open alert is sent again after the re-notify interval (not before), and once as resolved when the host is back', async () => {
    const first = received[0]!;
    const again = await eventually('the re-notification', async () => received[1], 30_000);
    // 240 minutes at the test's time scale: 6 s.
    expect(again.at - first.at).toBeGreaterThanOrEqual(5_500);
    expect(JSON.parse(again.body)).toMatchObject({
      ruleId, reason: 'renotify-due', event: { kind: 'host', hostId: ids[0], state: 'unhealthy', reasons: [expect.stringMatching(/^offline since /)] },
    });
    expect((await control(ids[0]!, 'start')).status).toBe(200);
    const resolved = await eventually('the resolved notification', async () => received.find((r) => JSON.parse(r.body).reason === 'resolved'), 60_000);
    expect(JSON.parse(resolved.body)).toMatchObject({ ruleId, event: { kind: 'host', hostId: ids[0], state: 'healthy', previousState: 'unhealthy' } });
    const [t, v1] = resolved.signature.split(',').map((p) => p.split('=', 2)[1]);
    expect(v1).toBe(createHmac('sha256', secret).update(`${t}.${resolved.body}`).digest('hex'));
    // Resolved is sent once and closes the alert: nothing more after another interval.
    const count = received.length;
    await new Promise((r) => setTimeout(r, 7_000));
    expect(received.slice(count)).toEqual([]);
    expect(received.map((r) => JSON.parse(r.body).reason)).toEqual(['first', 'renotify-due', 'resolved']);
  }, 120_000);

  it('refuses bad input with specific problems and changes nothing', async () => {
    const before = (await h.call('GET', '/v1/alert-rules')).body.items.length;
    const cases: [unknown, number, string][] = [
      [{ name: 'x', match: { states: ['sick'] }, target: { type: 'webhook', url: receiverUrl } }, 400, 'match.states'],
      [{ name: 'x', match: { states: [] }, target: { type: 'webhook', url: receiverUrl } }, 400, 'match.states'],
      [{ name: 'x', match: { states: ['unhealthy'] }, target: { type: 'webhook', url: 'ftp://example.com/x' } }, 400, 'target.url'],
      [{ name: 'x', match: { states: ['unhealthy'] }, target: { type: 'webhook', url: 'http://10.0.0.5/hook' } }, 400, 'target.url'],
      [{ name: 'x', match: { states: ['unhealthy'] }, target: { type: 'webhook', url: 'http://169.254.169.254/latest' } }, 400, 'target.url'],
      [{ name: 'x', match: { states: ['unhealthy'] }, target: { type: 'sns', topicArn: 'arn:aws:sns:eu-west-1:123456789012:alerts' } }, 400, 'target.type'],
      [{ name: 'x', match: { states: ['unhealthy'] }, target: { type: 'email', to: 'a@b' } }, 400, 'target'],
      [{ name: 'x', match: { states: ['unhealthy'] }, target: { type: 'webhook', url: receiverUrl }, renotifyMinutes: 1 }, 400, 'renotifyMinutes'],
      [{ name: 'x', match: { states: ['unhealthy'], extra: 1 }, target: { type: 'webhook', url: receiverUrl } }, 400, 'match'],
    ];
    for (const [body, status, where] of cases) {
      const r = await h.call('POST', '/v1/alert-rules', { body });
      expect({ body, status: r.status }).toEqual({ body, status });
      expect(r.headers.get('content-type')).toContain('application/problem+json');
      expect(JSON.stringify(r.body.errors ?? [])).toContain(where);
    }
    const viewer = await h.token('val', ['default:viewer']);
    const denied = await h.call('POST', '/v1/alert-rules', { token: viewer, body: { name: 'x', match: { states: ['unhealthy'] }, target: { type: 'webhook', url: receiverUrl } } });
    expect(denied.status).toBe(403);
    expect((await h.call('GET', '/v1/alert-rules', { token: viewer })).status).toBe(200);
    expect((await h.call('GET', '/v1/alert-rules/nope')).status).toBe(404);
    expect((await h.call('GET', '/v1/alert-rules')).body.items.length).toBe(before);
  });

  it('a node that goes NotReady reaches a cluster rule\'s webhook within the bound, as degraded naming the node, once', async () => {
    const [cp, worker] = [ids[1]!, ids[2]!];
    expect((await h.call('POST', '/v1/profiles', { body: { name: 'alerts' } })).status).toBe(201);
    const version = await h.call('POST', '/v1/profiles/alerts/versions', { body: { version: '1.0.0', layers: [
      { type: 'os', pack: 'ubuntu', version: '24.04', image: 'quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.5.0-k3sv1.31.2-k3s1' },
      { type: 'k8s', pack: 'k3s', version: '1.31.2' },
    ], publish: true } });
    expect({ status: version.status, body: version.status === 201 ? undefined : version.body }).toEqual({ status: 201, body: undefined });
    const rule = await h.call('POST', '/v1/alert-rules', { body: {
      name: 'clusters degraded', match: { states: ['degraded', 'unreachable'], kinds: ['cluster'] },
      target: { type: 'webhook', url: receiverUrl.replace('/hooks/edgefleet', '/hooks/clusters') }, renotifyMinutes: 10_080,
    } });
    expect(rule.status).toBe(201);
    const created = await h.call('POST', '/v1/clusters', { body: { name: 'alerts', profile: { name: 'alerts', version: '1.0.0' }, controlPlane: { hostIds: [cp] }, workers: [{ name: 'w', hostIds: [worker] }] } });
    expect({ status: created.status, body: created.status === 202 ? undefined : created.body }).toEqual({ status: 202, body: undefined });
    const clusterId = created.body.id;
    await eventually('the cluster running and healthy', async () => {
      const c = (await h.call('GET', `/v1/clusters/${clusterId}`)).body;
      return c?.status === 'running' && c?.health?.state === 'healthy';
    }, 120_000, 200);
    const mark = received.length;
    const broke = Date.now();
    fleet.host(worker)!.kairos.setFailures({ neverReady: true });
    const cluster = (r: Received) => r.path === '/hooks/clusters' && JSON.parse(r.body).event.state === 'degraded';
    const alert = await eventually('the degraded cluster alert', async () => received.slice(mark).find(cluster), 120_000);
    expect(alert.at - broke).toBeLessThan(120_000);
    expect(JSON.parse(alert.body)).toMatchObject({
      ruleId: rule.body.id, event: { kind: 'cluster', clusterId, name: 'alerts', state: 'degraded', previousState: 'healthy', reasons: [`node ${worker}: Kubernetes NotReady`] },
    });
    const [t, v1] = alert.signature.split(',').map((p) => p.split('=', 2)[1]);
    expect(v1).toBe(createHmac('sha256', rule.body.secret).update(`${t}.${alert.body}`).digest('hex'));
    await new Promise((r) => setTimeout(r, 1500));
    expect(received.slice(mark).filter(cluster)).toHaveLength(1);
    fleet.host(worker)!.kairos.setFailures({ neverReady: undefined });
    await eventually('resolved', async () => received.slice(mark).find((r) => r.path === '/hooks/clusters' && JSON.parse(r.body).reason === 'resolved'), 60_000);
  }, 300_000);

  it('deletes a rule and its key (a deleted rule notifies nobody)', async () => {
    expect((await h.call('DELETE', `/v1/alert-rules/${ruleId}`)).status).toBe(204);
    expect((await h.call('GET', `/v1/alert-rules/${ruleId}`)).status).toBe(404);
    expect(await h.rt.deps.secrets.get(`alert-rules/${ruleId}/webhook-secret`)).toBeUndefined();
  });
});
