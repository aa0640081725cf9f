/**
 * The web console in a real browser against the real local runtime (DynamoDB Local, the broker,
 * simulated hosts registering through the real paths): sign in with the link `npm start`
 * prints, the fleet overview and the hosts grid (server-side paging: one API page per view), a
 * host page, approving a pending host with its pairing code on a phone-sized screen, and a
 * viewer who sees no mutating control and whom the API refuses anyway. axe-core on every page.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startLocal, type LocalRuntime } from '../../local/runtime.js';
import { CHECKOUT_TEMPLATE_CACHE } from '../../local/template-cache.js';
import { renderAgentManifest } from '../../lambdas/contracts/agent-artifacts.js';
import { ensureConsoleBuilt } from '../../local/console-site.js';
import { startSimulatedAgents, type SimulatedFleet } from '../../simulator/index.js';
import { eventually } from '../integration/harness.js';
import { axeSerious, launchChromium, screenshot } from './browser.js';

let rt: LocalRuntime;
let browser: Browser;
let dir: string;
const fleets: SimulatedFleet[] = [];
const contexts: BrowserContext[] = [];
const pairing = new Map<string, string>();
/** The auto-approve token and agent settings: the scale test starts one more simulated host with them. */
let spareAgents: Parameters<typeof startSimulatedAgents>[0] | undefined;
let clusterId = '';
let rolloutId = '';
/** Everything the pages logged as an error (a CSP violation shows up here). */
const pageErrors: string[] = [];
const image = (kairos: string, k3s: string) => `quay.io/kairos/ubuntu:24.04-standard-amd64-generic-${kairos}-k3sv${k3s}-k3s1`;
const OLD = image('v3.5.0', '1.30.4');
const NEW = image('v3.6.0', '1.31.2');
const AGENT_NEW = '0.2.0';

/** What `npm run device:build` writes (as test/integration/agent-update.test.ts publishes it): a signed manifest of 0.2.0 and its executable. */
function publishAgent(into: string): void {
  mkdirSync(into, { recursive: true });
  const file = `edgefleet-agent-linux-${process.arch}`;
  const bytes = Buffer.from(`#!/bin/sh\n# edgefleet agent ${AGENT_NEW} (test artifact)\n${'x'.repeat(2048)}\n`);
  writeFileSync(path.join(into, file), bytes);
  writeFileSync(path.join(into, 'manifest.json'), renderAgentManifest({
    version: AGENT_NEW, node: process.version, builtAt: new Date().toISOString(),
    artifacts: [{ arch: process.arch === 'arm64' ? 'arm64' : 'x64', file, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length }],
  }));
}

/** A one-time OpenSSH ed25519 public key, as `edgefleet hosts shell` makes one. */
function sshPublicKey(): string {
  const raw = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
  return `ssh-ed25519 ${Buffer.concat([u32(11), Buffer.from('ssh-ed25519'), u32(32), raw]).toString('base64')} console-test`;
}

async function call(method: string, p: string, body?: unknown, token = rt.adminToken) {
  const res = await fetch(`${rt.url}${p}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function newPage(viewport = { width: 1280, height: 800 }): Promise<Page> {
  const ctx = await browser.newContext({ viewport });
  contexts.push(ctx);
  const page = await ctx.newPage();
  page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  return page;
}

async function expectAccessible(page: Page, name: string): Promise<void> {
  await screenshot(page, name);
  expect({ page: name, serious: await axeSerious(page) }).toEqual({ page: name, serious: [] });
}

beforeAll(async () => {
  // Always the current sources: the console is built before the runtime serves it.
  ensureConsoleBuilt({ force: true });
  dir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-browser-'));
  publishAgent(path.join(dir, 'agent'));
  rt = await startLocal({ port: 0, inMemory: true, logLevel: 'CRITICAL', templateCache: CHECKOUT_TEMPLATE_CACHE, dataDir: dir, agentArtifactsDir: path.join(dir, 'agent') });
  const auto = await call('POST', '/v1/registration-tokens', { name: 'simulated', autoApprove: true, site: 'shop-1', maxUses: 10 });
  const walkIn = await call('POST', '/v1/registration-tokens', { name: 'walk-in', site: 'shop-2' });
  const common = { apiUrl: rt.url, project: 'default', tunnelEndpoint: rt.tunnelRelay.endpoint };
  // Installed with the 1.0.0 image: creating the cluster finds them at it; 2.0.0 is a rolling repave.
  // A reboot takes 3 s (a real one takes minutes): longer than the page's 2 s poll, so the page shows each node
  // mid-upgrade at least once whatever the timing (at 150 ms a node's whole upgrade could fall between two polls).
  // A spare host, started by the scale test (earlier tests count three approved hosts): installed at 2.0.0's image.
  spareAgents = { ...common, registrationToken: auto.body.token, count: 1, uidPrefix: 'spare', stateDir: path.join(dir, 'spare'), site: 'shop-1',
    kairos: { version: 'v3.6.0', image: NEW, rebootDelayMs: 3_000, k8sReadyDelayMs: 200 } };
  fleets.push(startSimulatedAgents({ ...common, registrationToken: auto.body.token, count: 3, stateDir: path.join(dir, 'sim'), site: 'shop-1',
    kairos: { version: 'v3.5.0', image: OLD, rebootDelayMs: 3_000, k8sReadyDelayMs: 200 } }));
  fleets.push(startSimulatedAgents({
    ...common, registrationToken: walkIn.body.token, count: 1, uidPrefix: 'walkin', stateDir: path.join(dir, 'walkin'), site: 'shop-2',
    log: (_level, message) => { const m = /^(\S+): waiting for approval of host (\S+), pairing code (\S+)/.exec(message); if (m) pairing.set(m[2]!, m[3]!); },
  }));
  // 60 pre-registered hosts: more than one page of the grid (50).
  const batch = await call('POST', '/v1/hosts/batch', { hosts: Array.from({ length: 60 }, (_, i) => ({ uid: `PRE-${String(i).padStart(3, '0')}`, site: 'warehouse', tags: { lane: String(i % 3) } })) });
  expect(batch.status).toBe(200);
  await eventually('three simulated hosts online', async () => (await call('GET', '/v1/hosts?status=approved')).body.items.filter((h: { presence: string }) => h.presence === 'online').length === 3, 60_000);
  await eventually('the walk-in host pending with its pairing code', async () => pairing.get('walkin-1') && (await call('GET', '/v1/hosts/walkin-1')).body?.status === 'pending', 60_000);
  browser = await launchChromium();
}, 240_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  for (const f of fleets) await f.stop();
  await rt?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('web console (Chromium, local runtime, simulated hosts)', () => {
  let admin: Page;

  it('serves the app with its security headers, and signs in once with the printed link', async () => {
    const res = await fetch(`${rt.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self';/);
    expect(res.headers.get('x-frame-options')).toBe('DENY');

    admin = await newPage();
    await admin.goto(rt.consoleUrl);
    await admin.getByRole('heading', { name: 'Fleet overview' }).waitFor();
    expect(await admin.getByTestId('role').textContent()).toBe('admin');
    expect(admin.url()).not.toContain('code='); // the code leaves the address bar

    const again = await newPage();
    await again.goto(rt.consoleUrl);
    await again.getByRole('alert').filter({ hasText: 'already used' }).waitFor();
  }, 120_000);

  it('fleet overview: hosts by lifecycle link to the filtered grid', async () => {
    const approved = admin.getByRole('link', { name: /approved$/ }).first();
    await eventually('the approved tile counts the simulated hosts', async () => (await approved.textContent()) === '3approved');
    // Each tile loads on its own: wait until this one has left its loading state ('…') before reading it.
    const preRegistered = admin.getByRole('link', { name: /pre-registered$/ });
    await eventually('the pre-registered tile has loaded', async () => !(await preRegistered.textContent())?.startsWith('…'));
    expect(await preRegistered.textContent()).toBe('60pre-registered');
    await expectAccessible(admin, 'fleet-overview');
    await approved.click();
    await admin.getByRole('cell', { name: 'sim-1' }).waitFor();
    expect(admin.url()).toContain('#/hosts?status=approved');
    await admin.getByRole('cell', { name: '4', exact: true }).first().waitFor(); // CPUs from the inventory (the simulated host's own 4)
    await expectAccessible(admin, 'hosts-grid-simulated');
  }, 120_000);

  it('hosts grid: server-side filters and paging, one API page per view', async () => {
    const requests: string[] = [];
    admin.on('request', (r) => { if (new URL(r.url()).pathname === '/v1/hosts') requests.push(new URL(r.url()).search); });
    await admin.goto(`${rt.url}/#/hosts?site=warehouse`);
    await admin.getByText('50 hosts on this page (more on the next page)').waitFor();
    await expectAccessible(admin, 'hosts-grid');
    expect(requests).toEqual(['?site=warehouse&limit=50']);
    await admin.getByRole('button', { name: 'Next page' }).click();
    await admin.getByText('10 hosts on this page').waitFor();
    expect(requests).toHaveLength(2);
    expect(requests[1]).toMatch(/^\?site=warehouse&limit=50&cursor=/);
    await admin.getByRole('button', { name: 'Previous page' }).click();
    await admin.getByText('50 hosts on this page').waitFor();

    await admin.getByLabel('Tag (key=value)').fill('lane=1');
    await admin.getByRole('button', { name: 'Apply filters' }).click();
    await admin.waitForURL(/tag=lane%3D1/);
    // The unfiltered page on screen until the filtered one arrives has lane=1 rows too (a stop's CI read
    // it): wait until the grid holds lane=1 rows only. The API filters on the server, so every row of
    // the page has the tag (a page may hold fewer than 50); a filter that let others through never gets there.
    const lanes = admin.getByRole('cell', { name: /^lane=/ });
    await eventually('the grid shows the filtered page: lane=1 rows and no other', async () => {
      const shown = await lanes.allTextContents();
      return shown.length > 0 && shown.every((t) => t === 'lane=1');
    });
    expect(requests.at(-1)).toMatch(/^\?site=warehouse&tag=lane%3D1&limit=50$/);
  }, 120_000);

  it('host page: inventory, reported state and audit trail', async () => {
    await admin.goto(`${rt.url}/#/hosts/sim-1`);
    await admin.getByRole('heading', { name: 'Host sim-1' }).waitFor();
    await admin.getByRole('heading', { name: 'Inventory' }).waitFor();
    await admin.getByText('Architecture').waitFor();
    // The registration is in its audit trail (actor, action, outcome).
    await admin.getByRole('table', { name: /Audit events of host sim-1/ }).getByRole('cell', { name: 'succeeded' }).first().waitFor();
    await expectAccessible(admin, 'host-page');
  }, 120_000);

  it('host troubleshooting: a diagnostics bundle to its download, a pending tunnel approved and closed', async () => {
    // A second person asks for a shell while the project requires approval: the request waits, nothing opens.
    expect((await call('PATCH', '/v1/troubleshoot-settings', { approval: 'required' })).status).toBe(200);
    expect((await call('POST', '/v1/troubleshoot-grants', { subject: 'olga-operator' })).status).toBe(201);
    const olga = await rt.issuer.sign('olga-operator', ['default:operator'], 3600);
    const asked = await call('POST', '/v1/hosts/sim-1/tunnels', { reason: 'kubelet restarts, ticket 4711', publicKey: sshPublicKey() }, olga);
    expect(asked).toMatchObject({ status: 202, body: { state: 'pending-approval', actor: 'olga-operator' } });
    const tunnelId = asked.body.id as string;

    await admin.goto(`${rt.url}/#/hosts/sim-1`);
    await admin.getByRole('heading', { name: 'Diagnostics' }).waitFor();
    expect(await admin.getByTestId('shell-command').textContent()).toMatch(/^edgefleet hosts shell sim-1 --reason '/);
    await admin.getByLabel('Logs since (e.g. 30m, 1h, 2d)').fill('9w');
    await admin.getByRole('button', { name: 'Request diagnostics' }).click();
    expect(await admin.getByRole('alert').first().textContent()).toMatch(/window such as 30m/); // the API's detail
    await admin.getByLabel('Logs since (e.g. 30m, 1h, 2d)').fill('1h');
    await admin.getByLabel('Reason').fill('POS freezes');
    await admin.getByRole('button', { name: 'Request diagnostics' }).dblclick();
    await admin.getByRole('status').filter({ hasText: /^Diagnostics \S+ requested/ }).waitFor();
    const table = admin.getByRole('table', { name: /Diagnostics requests of host sim-1/ });
    await table.getByRole('cell', { name: 'uploaded' }).waitFor({ timeout: 90_000 });
    // The double click created one request (one Idempotency-Key per intent).
    expect((await call('GET', '/v1/hosts/sim-1/diagnostics')).body.items).toHaveLength(1);
    await table.getByRole('button', { name: /^Get download link for / }).click();
    const link = table.getByRole('link', { name: /^Download sim-1-\S+\.tar\.gz$/ });
    await expectAccessible(admin, 'host-troubleshooting');
    const [download] = await Promise.all([admin.waitForEvent('download'), link.click()]);
    const bytes = readFileSync(await download.path());
    expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]); // a gzip stream: the bundle itself

    const row = admin.locator(`tr[data-tunnel="${tunnelId}"]`);
    await row.getByRole('cell', { name: 'pending-approval' }).waitFor();
    await row.getByRole('button', { name: `Approve tunnel ${tunnelId}` }).click();
    await admin.getByRole('status').filter({ hasText: `Tunnel ${tunnelId} approved` }).waitFor();
    await row.getByText(/approved by/).waitFor();
    await row.getByRole('button', { name: `Close tunnel ${tunnelId}` }).click();
    await admin.getByRole('status').filter({ hasText: `Tunnel ${tunnelId} closed` }).waitFor();
    await row.getByText(/closed/).first().waitFor();
    expect((await call('GET', '/v1/hosts/sim-1/tunnels')).body.items[0]).toMatchObject({ id: tunnelId, state: 'closed', approvedBy: expect.any(String) });
    expect((await call('PATCH', '/v1/troubleshoot-settings', { approval: 'none' })).status).toBe(200);
  }, 180_000);

  it('pending approvals on a phone: a wrong code shows the API\'s detail, the right one approves the host', async () => {
    const phone = await newPage({ width: 390, height: 844 });
    await phone.goto(rt.consoleUrl.replace(/#.*/, '#/sign-in'));
    await phone.getByLabel('Access token').fill(rt.adminToken);
    await phone.getByRole('button', { name: 'Sign in' }).click();
    await phone.getByRole('link', { name: 'Pending approvals' }).click();
    const card = phone.getByRole('listitem').filter({ hasText: 'walkin-1' });
    await card.getByLabel('Pairing code shown on the host').fill('WRONG9');
    await card.getByRole('button', { name: 'Approve' }).click();
    const refusal = await card.getByRole('alert').textContent();
    expect(refusal).toMatch(/pairing/i);
    await expectAccessible(phone, 'pending-approvals-phone');
    // Nothing overflows sideways on a 390 px screen.
    expect(await phone.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);

    await card.getByLabel('Pairing code shown on the host').fill(pairing.get('walkin-1')!.toLowerCase());
    await card.getByRole('button', { name: 'Approve' }).click();
    await phone.getByRole('status').filter({ hasText: 'Host walkin-1 approved' }).waitFor();
    await eventually('walkin-1 approved and online', async () => { const h = (await call('GET', '/v1/hosts/walkin-1')).body; return h.status === 'approved' && h.presence === 'online'; }, 60_000);
  }, 120_000);

  it('profiles: create one and two versions (one a draft, then published), compared side by side', async () => {
    await admin.goto(`${rt.url}/#/profiles`);
    await admin.getByText('No profiles yet.').waitFor();
    await admin.getByLabel('Profile name').fill('edge');
    await admin.getByRole('button', { name: 'Create profile' }).click();
    await admin.getByRole('heading', { name: 'Versions of edge' }).waitFor();
    for (const [version, img, k3s, publish] of [['1.0.0', OLD, '1.30.4', true], ['2.0.0', NEW, '1.31.2', false]] as const) {
      await admin.getByLabel('Version', { exact: true }).fill(version);
      await admin.getByLabel('OS image').fill(img);
      await admin.getByLabel('Kubernetes version').fill(k3s);
      if (publish) await admin.getByLabel('Publish (immutable)').check();
      else await admin.getByLabel('Publish (immutable)').uncheck();
      await admin.getByRole('button', { name: 'Add version' }).click();
      await admin.getByRole('listitem').filter({ hasText: new RegExp(`^${version.replace(/\./g, '\\.')} `) }).waitFor();
    }
    await admin.getByRole('button', { name: 'Publish 2.0.0' }).click();
    await admin.getByRole('listitem').filter({ hasText: /^2\.0\.0 .*published/ }).waitFor();
    const diff = admin.getByRole('table', { name: 'Layers of 1.0.0 and 2.0.0' });
    await diff.getByRole('cell', { name: 'changed: image' }).waitFor();
    await diff.getByRole('cell', { name: 'changed: version' }).waitFor();
    await expectAccessible(admin, 'profiles-diff');
    // A bad version shows the API's detail.
    await admin.getByLabel('Version', { exact: true }).fill('v1');
    await admin.getByRole('button', { name: 'Add version' }).click();
    expect(await admin.getByRole('alert').textContent()).toMatch(/version/i);
  }, 120_000);

  it('registration tokens: the secret shown once, and the user-data it installs with', async () => {
    await admin.goto(`${rt.url}/#/tokens`);
    await admin.getByLabel('Name', { exact: true }).fill('shop-9');
    await admin.getByLabel('Site', { exact: true }).first().fill('shop-9');
    await admin.getByRole('button', { name: 'Create token' }).click();
    const secret = (await admin.getByTestId('token-secret').textContent()) ?? '';
    expect(secret.length).toBeGreaterThan(20);
    await admin.getByRole('cell', { name: 'shop-9' }).first().waitFor();
    await expectAccessible(admin, 'tokens');
    // Listed without its secret: the API returns it only once.
    expect(JSON.stringify((await call('GET', '/v1/registration-tokens')).body)).not.toContain(secret);
    await admin.getByLabel('Registration token (secret)').fill(secret);
    await admin.getByLabel('Site', { exact: true }).last().fill('shop-9');
    await admin.getByRole('button', { name: 'Render' }).click();
    const [download] = await Promise.all([admin.waitForEvent('download'), admin.getByRole('link', { name: 'Download user-data-shop-9.yaml' }).click()]);
    const file = await download.path();
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(file, 'utf8')).toMatch(/^#cloud-config/);
  }, 120_000);

  it('clusters: create a 3-node cluster and watch it reach running, then a rolling upgrade node by node', async () => {
    await admin.goto(`${rt.url}/#/clusters`);
    await admin.getByText('No clusters yet.').waitFor();
    await admin.getByLabel('Name').fill('shop-1-edge');
    await admin.getByLabel('Profile').selectOption('edge');
    await admin.getByLabel('Published version').locator('option', { hasText: '1.0.0' }).waitFor({ state: 'attached' });
    await admin.getByLabel('Published version').selectOption('1.0.0');
    await admin.getByLabel('sim-1 in the control plane').check();
    await admin.getByLabel('sim-2 as a worker').check();
    await admin.getByLabel('sim-3 as a worker').check();
    await expectAccessible(admin, 'clusters-create');
    await admin.getByRole('button', { name: 'Create cluster' }).click();
    await admin.waitForURL(/#\/clusters\/[^/]+$/);
    clusterId = decodeURIComponent(admin.url().split('#/clusters/')[1]!);
    await admin.getByRole('heading', { name: /^Operation / }).waitFor();
    await admin.getByTestId('cluster-status').filter({ hasText: /Status running/ }).waitFor({ timeout: 180_000 });
    await expectAccessible(admin, 'cluster-running');

    // The upgrade planner reads each node's reported kubelet version.
    await eventually('every node reported its Kubernetes version', async () => {
      const hosts = (await call('GET', `/v1/hosts?clusterId=${clusterId}`)).body.items as { reported?: { kubernetes?: { version?: string } } }[];
      return hosts.length === 3 && hosts.every((h) => h.reported?.kubernetes?.version);
    }, 60_000);
    await admin.getByLabel('To version').selectOption('2.0.0');
    // The plan preview (the API's dry run) before anything starts: the nodes in order, and why it would be refused.
    const plan = admin.getByTestId('upgrade-plan');
    await plan.getByTestId('plan-verdict').filter({ hasText: /Would be refused: .*\(downtime-not-acknowledged\)/ }).waitFor();
    expect(await plan.locator('li[data-host]').evaluateAll((els) => els.map((e) => e.getAttribute('data-host')))).toEqual(['sim-1', 'sim-2', 'sim-3']);
    expect(await plan.locator('li[data-host="sim-1"]').textContent()).toBe('1. sim-1 (control plane) repave: preflight → drain → upgrade → uncordon');
    await expectAccessible(admin, 'upgrade-plan-preview');
    expect((await call('GET', `/v1/operations?targetType=cluster&targetId=${clusterId}`)).body.items.map((o: { type: string }) => o.type)).toEqual(['create-cluster']);
    // One control-plane node: the API refuses the upgrade until its downtime is accepted, and the page says so.
    await admin.getByRole('button', { name: 'Start rolling upgrade' }).click();
    expect(await admin.getByRole('alert').textContent()).toMatch(/cannot avoid downtime: the cluster has a single control-plane node \(sim-1\)/);
    await admin.getByLabel(/I accept that the Kubernetes API is down/).check();
    await plan.getByTestId('plan-verdict').filter({ hasText: /^Would start now: edge@1\.0\.0 → 2\.0\.0/ }).waitFor();
    await admin.getByRole('button', { name: 'Start rolling upgrade' }).click();
    // Watch the per-node rows as the page polls: nodes go through their steps one at a time. The operation's
    // section is read in one step in the page (the header, its summary and its rows from the same render):
    // read piecewise, the rows of the create operation and the summary of the upgrade that replaced them in
    // between could look like a finished upgrade.
    const seen = new Set<string>();
    let shot = false;
    await eventually('the upgrade succeeded on every node, as the page shows it', async () => {
      if (await admin.getByRole('alert').count()) throw new Error(`the page shows a failure: ${await admin.getByRole('alert').first().textContent()}`);
      const view = await admin.locator('section.operation').evaluate((section) => ({
        summary: section.querySelector('p')?.textContent ?? '',
        rows: [...section.querySelectorAll('tr[data-node]')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')),
      }));
      if (!/upgrade-cluster/.test(view.summary)) return false;
      for (const [node, status, step] of view.rows) seen.add(`${node} ${status} ${step}`);
      if (!shot && view.rows.some((r) => r[1] !== 'succeeded' && r[1] !== 'pending')) { shot = true; await screenshot(admin, 'upgrade-progress'); }
      return view.rows.length === 3 && view.rows.every((r) => r[1] === 'succeeded');
    }, 200_000, 250);
    // Seen mid-way: some node was working (not pending, not done) while the page polled (each node's reboot
    // into 2.0.0 takes longer than the page's poll).
    expect([...seen].filter((s) => !/ (succeeded|pending) /.test(s))).not.toEqual([]);
    await admin.getByTestId('cluster-status').filter({ hasText: /Status running.*edge 2\.0\.0/ }).waitFor({ timeout: 60_000 });
    await expectAccessible(admin, 'cluster-upgraded');

    await admin.goto(`${rt.url}/#/audit`);
    await admin.getByLabel('Resource (e.g. host/sim-1)').fill(`cluster/${clusterId}`);
    await admin.getByRole('button', { name: 'Apply filters' }).click();
    await admin.getByRole('cell', { name: `cluster/${clusterId}` }).first().waitFor();
    await expectAccessible(admin, 'audit-log');

    // The README's pictures: the overview with the cluster, and the grid of its hosts.
    await admin.goto(`${rt.url}/#/`);
    await admin.getByRole('link', { name: /^3\s?in-cluster$/ }).waitFor();
    await admin.getByText('healthy', { exact: true }).last().waitFor();
    await expectAccessible(admin, 'readme-fleet-overview');
    await admin.goto(`${rt.url}/#/hosts?site=shop-1`);
    await admin.getByRole('cell', { name: clusterId }).first().waitFor();
    await expectAccessible(admin, 'readme-hosts-grid');
  }, 420_000);

  it('scale: a spare host joins the cluster as a worker from the cluster page, with live progress', async () => {
    fleets.push(startSimulatedAgents(spareAgents!));
    await eventually('spare-1 approved and online', async () => { const h = (await call('GET', '/v1/hosts/spare-1')).body; return h?.status === 'approved' && h.presence === 'online'; }, 60_000);
    await admin.goto(`${rt.url}/#/clusters/${encodeURIComponent(clusterId)}`);
    await admin.getByLabel('Add spare-1').check();
    await admin.getByLabel('To pool').selectOption('workers');
    await expectAccessible(admin, 'cluster-scale');
    await admin.getByRole('button', { name: 'Add hosts' }).click();
    // Read in one step, as the upgrade's watch does (the scale-out's section replaces the upgrade's).
    await eventually('the scale-out succeeded, as the page shows it', async () => {
      if (await admin.getByRole('alert').count()) throw new Error(`the page shows a failure: ${await admin.getByRole('alert').first().textContent()}`);
      const view = await admin.locator('section.operation').evaluate((section) => ({
        summary: section.querySelector('p')?.textContent ?? '',
        rows: [...section.querySelectorAll('tr[data-node]')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')),
      }));
      return /^succeeded scale-out/.test(view.summary) && view.rows.some((r) => r[0] === 'spare-1' && r[1] === 'succeeded');
    }, 120_000, 250);
    await admin.getByRole('table', { name: 'Nodes by pool' }).getByRole('row').filter({ hasText: 'spare-1' }).filter({ hasText: 'workers' }).waitFor();
    const c = (await call('GET', `/v1/clusters/${clusterId}`)).body;
    expect(c.workers).toEqual([{ name: 'workers', hostIds: ['sim-2', 'sim-3', 'spare-1'] }]);
  }, 180_000);

  it('rollouts: one over the cluster shows its wave to the end; the list and the overview link to it', async () => {
    const layers = [{ type: 'os', pack: 'ubuntu', version: '24.04', image: NEW }, { type: 'k8s', pack: 'k3s', version: '1.31.2', values: 'node-label:\n  - tier=b\n' }];
    expect((await call('POST', '/v1/profiles/edge/versions', { version: '2.1.0', layers, publish: true })).status).toBe(201);
    const ro = await call('POST', '/v1/rollouts', { name: 'tier-b', targets: { clusterIds: [clusterId] }, to: { name: 'edge', version: '2.1.0' }, policy: { tickSeconds: 1 } });
    expect(ro.status).toBe(202);
    rolloutId = ro.body.id;
    await admin.goto(`${rt.url}/#/`);
    await admin.getByRole('link', { name: /rollouts running$/ }).click();
    await admin.waitForURL(/#\/rollouts\?status=running$/);
    await admin.goto(`${rt.url}/#/rollouts`); // it may have ended already
    await admin.getByRole('link', { name: `tier-b (${rolloutId})` }).click();
    await admin.getByRole('heading', { name: 'Rollout tier-b' }).waitFor();
    await admin.locator('tr[data-wave="0"]').waitFor();
    await expectAccessible(admin, 'rollout');
    await admin.getByTestId('rollout-status').filter({ hasText: /^succeeded/ }).waitFor({ timeout: 90_000 });
    const wave = await admin.locator('tr[data-wave="0"]').evaluate((tr) => [...tr.querySelectorAll('td')].map((td) => (td.textContent ?? '').trim()));
    expect(wave.slice(0, 4)).toEqual(['1 (canary)', '1', '1/1', '1 succeeded']);
    await admin.getByRole('table', { name: /target cluster on this page/ }).getByRole('row').filter({ hasText: clusterId }).filter({ hasText: 'succeeded' }).waitFor();
    await admin.goto(`${rt.url}/#/rollouts`);
    await admin.getByRole('link', { name: `tier-b (${rolloutId})` }).waitFor();
    await expectAccessible(admin, 'rollouts');
  }, 150_000);

  it('operations: the list shows the cluster\'s create, upgrade and scale operations and opens one', async () => {
    const requests: string[] = [];
    admin.on('request', (r) => { if (new URL(r.url()).pathname === '/v1/operations') requests.push(new URL(r.url()).search); });
    await admin.goto(`${rt.url}/#/`);
    await admin.getByRole('link', { name: /operations running$/ }).click();
    await admin.waitForURL(/#\/operations\?status=running$/);
    await admin.getByText(/^No operation running on this page/).waitFor(); // every operation has ended
    await admin.goto(`${rt.url}/#/operations`);
    await admin.getByLabel('Target type').selectOption('cluster');
    await admin.getByLabel('Target id').fill(clusterId);
    await admin.getByRole('button', { name: 'Apply filters' }).click();
    await admin.waitForURL(/targetId=/);
    const table = admin.getByRole('table', { name: /operations? on this page/ });
    await table.getByRole('cell', { name: 'scale-out' }).waitFor();
    const types = await table.locator('tbody tr td:nth-child(2)').allTextContents();
    expect(types).toEqual(['upgrade-cluster', 'scale-out', 'upgrade-cluster', 'create-cluster']); // newest first: the rollout's upgrade, the scale, the upgrade, the create
    expect(requests.at(-1)).toBe(`?targetType=cluster&targetId=${encodeURIComponent(clusterId)}&limit=25`);
    await expectAccessible(admin, 'operations');
    await admin.getByLabel('Type', { exact: true }).selectOption('scale-out');
    await admin.getByRole('button', { name: 'Apply filters' }).click();
    await admin.waitForURL(/type=scale-out/);
    await eventually('only the scale-out is listed', async () => (await table.locator('tbody tr td:nth-child(2)').allTextContents()).join() === 'scale-out');
    expect(requests.at(-1)).toBe(`?targetType=cluster&targetId=${encodeURIComponent(clusterId)}&type=scale-out&limit=25`);
    await admin.getByLabel('Type', { exact: true }).selectOption('');
    await admin.getByRole('button', { name: 'Apply filters' }).click();
    await table.getByRole('cell', { name: 'create-cluster' }).waitFor();
    await table.getByRole('row').filter({ hasText: 'create-cluster' }).getByRole('link').first().click();
    await admin.waitForURL(/#\/operations\/[^/?]+$/);
    // The section is there before the operation loads (heading only): wait for its summary line.
    await admin.locator('section.operation p').first().waitFor();
    const view = await admin.locator('section.operation').evaluate((section) => ({
      summary: section.querySelector('p')?.textContent ?? '',
      rows: [...section.querySelectorAll('tr[data-node]')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')),
    }));
    expect(view.summary).toMatch(/^succeeded create-cluster/);
    expect(view.rows.map((r) => `${r[0]} ${r[1]}`).sort()).toEqual(['sim-1 succeeded', 'sim-2 succeeded', 'sim-3 succeeded']);
    await expectAccessible(admin, 'operation');
  }, 120_000);

  it('agent update from the host page: reported against published, started, its operation page', async () => {
    await admin.goto(`${rt.url}/#/hosts/walkin-1`);
    await admin.getByTestId('agent-published').filter({ hasText: AGENT_NEW }).waitFor();
    const reported = await admin.getByTestId('agent-reported').textContent();
    expect(reported).not.toBe(AGENT_NEW);
    await admin.getByRole('button', { name: `Update agent to ${AGENT_NEW}` }).click();
    await admin.getByRole('status').getByRole('link', { name: /^operation / }).click();
    await admin.waitForURL(/#\/operations\/[^/?]+$/);
    const opId = decodeURIComponent(admin.url().split('#/operations/')[1]!);
    expect((await call('GET', `/v1/operations/${opId}`)).body).toMatchObject({ type: 'agent-update', target: { type: 'host', id: 'walkin-1' }, input: { version: AGENT_NEW } });
    await eventually('the agent update ended', async () => (await call('GET', `/v1/operations/${opId}`)).body.status !== 'running', 90_000);
    expect((await call('GET', `/v1/operations/${opId}`)).body.status).toBe('succeeded');
  }, 150_000);

  it('rollout creation: the API\'s detail on a refusal, then the new rollout\'s page', async () => {
    await admin.goto(`${rt.url}/#/rollouts`);
    await admin.getByRole('link', { name: 'Start a rollout' }).click();
    await admin.getByRole('heading', { name: 'New rollout' }).waitFor();
    await admin.getByLabel('Name (optional)').fill('from-console');
    await admin.getByLabel('Cluster ids (comma or space separated)').fill(clusterId);
    await admin.getByLabel('Profile (optional: the targets\' own)').fill('edge');
    await admin.getByLabel('Version or channel (1.2.0, 1.x)').fill('9.9.9');
    await admin.getByLabel('Canary (clusters, or 10%)').fill('1');
    await admin.getByLabel('Abort above failure %').fill('10');
    await expectAccessible(admin, 'rollout-create');
    await admin.getByRole('button', { name: 'Start rollout' }).click();
    expect(await admin.getByRole('alert').first().textContent()).toMatch(/9\.9\.9/);
    await admin.getByLabel('Version or channel (1.2.0, 1.x)').fill('2.1.0');
    await admin.getByRole('button', { name: 'Start rollout' }).click();
    await admin.waitForURL(/#\/rollouts\/[^/?]+$/);
    await admin.getByRole('heading', { name: 'Rollout from-console' }).waitFor();
    const made = decodeURIComponent(admin.url().split('#/rollouts/')[1]!);
    expect((await call('GET', `/v1/rollouts/${made}`)).body).toMatchObject({ name: 'from-console', to: { name: 'edge', version: '2.1.0' }, policy: { waves: { canary: { clusters: 1 } }, abort: { failurePercent: 10 } } });
    await expectAccessible(admin, 'rollout-created');
  }, 120_000);

  it('a viewer sees no mutating control, and the API refuses them anyway', async () => {
    await call('POST', '/v1/hosts', { uid: 'LATE-1' });
    const token = await rt.issuer.sign('vera-viewer', ['default:viewer'], 3600);
    const viewer = await newPage();
    await viewer.goto(`${rt.url}/#/sign-in`);
    await viewer.getByLabel('Access token').fill(token);
    await viewer.getByRole('button', { name: 'Sign in' }).click();
    await viewer.getByRole('heading', { name: 'Fleet overview' }).waitFor();
    expect(await viewer.getByTestId('role').textContent()).toBe('viewer');
    await expectAccessible(viewer, 'viewer-overview');

    await viewer.goto(`${rt.url}/#/hosts`);
    await viewer.getByRole('cell', { name: 'sim-1' }).waitFor();
    expect(await viewer.getByRole('checkbox').count()).toBe(0);
    expect(await viewer.getByRole('button', { name: /Approve/ }).count()).toBe(0);

    await viewer.goto(`${rt.url}/#/approvals`);
    await viewer.getByRole('heading', { name: 'Pending approvals' }).waitFor();
    await viewer.getByText(/No host is waiting|walkin|late/i).first().waitFor();
    expect(await viewer.getByRole('button', { name: /Approve/ }).count()).toBe(0);
    expect(await viewer.getByRole('textbox').count()).toBe(0);
    await expectAccessible(viewer, 'viewer-approvals');

    await viewer.goto(`${rt.url}/#/clusters`);
    await viewer.getByRole('link', { name: 'shop-1-edge' }).click();
    await viewer.getByTestId('cluster-status').waitFor();
    await viewer.getByRole('heading', { name: 'Nodes' }).waitFor();
    expect(await viewer.getByRole('button').filter({ hasNotText: 'Sign out' }).count()).toBe(0);
    await expectAccessible(viewer, 'viewer-cluster');

    await viewer.getByRole('heading', { name: 'Scale' }).count().then((n) => expect(n).toBe(0));
    await viewer.goto(`${rt.url}/#/rollouts/${encodeURIComponent(rolloutId)}`);
    await viewer.locator('tr[data-wave="0"]').waitFor();
    expect(await viewer.getByRole('button').filter({ hasNotText: 'Sign out' }).count()).toBe(0);
    await expectAccessible(viewer, 'viewer-rollout');

    await viewer.goto(`${rt.url}/#/tokens`);
    await viewer.getByRole('cell', { name: 'shop-9' }).first().waitFor();
    expect(await viewer.getByRole('button').filter({ hasNotText: 'Sign out' }).count()).toBe(0);
    await viewer.goto(`${rt.url}/#/profiles`);
    await viewer.getByRole('button', { name: 'edge' }).click();
    await viewer.getByRole('table', { name: 'Layers of 2.0.0 and 2.1.0' }).waitFor(); // the two newest (2.1.0 from the rollout test)
    expect(await viewer.getByRole('textbox').count()).toBe(0);

    await viewer.goto(`${rt.url}/#/hosts/sim-1`);
    await viewer.getByRole('heading', { name: 'Remote shell' }).waitFor();
    await viewer.getByRole('table', { name: /Tunnels to host sim-1/ }).waitFor();
    await viewer.getByTestId('agent-published').filter({ hasText: AGENT_NEW }).waitFor();
    expect(await viewer.getByRole('button').filter({ hasNotText: 'Sign out' }).count()).toBe(0);
    expect(await viewer.getByRole('textbox').count()).toBe(0);
    await expectAccessible(viewer, 'viewer-host');
    await viewer.goto(`${rt.url}/#/rollouts`);
    await viewer.getByRole('heading', { name: 'Rollouts' }).waitFor();
    expect(await viewer.getByRole('link', { name: 'Start a rollout' }).count()).toBe(0);

    const refused = await call('POST', '/v1/hosts/late-1/approve', {}, token);
    expect(refused.status).toBe(403);
  }, 120_000);

  it('axe-core reports a serious finding when there is one (the accessibility check can fail)', async () => {
    const p = await newPage();
    await p.goto(`${rt.url}/#/sign-in`);
    await p.getByLabel('Access token').waitFor();
    await p.evaluate("document.querySelector('label[for=token]').remove()");
    expect((await axeSerious(p)).map((f) => f.id)).toContain('label');
  }, 120_000);

  it('no page logged an error (a CSP violation would)', () => {
    expect(pageErrors.filter((e) => !/401|403|409|Failed to load resource/.test(e))).toEqual([]);
  }, 120_000);
});
