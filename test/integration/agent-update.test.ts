/**
 * Agent updates from the fleet, end to end on the local runtime with simulated hosts running the
 * real agent: the runtime serves a signed manifest and an executable (a test artifact), the
 * agent verifies and installs it under its simulated disk (versions/, current, previous) and
 * restarts into it; the version a host reports is read from what was written to that disk. A
 * version that does not come online is undone by the real guard script, and the operation
 * fails with the reason; a tampered artifact is refused and nothing is installed.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { renderAgentManifest } from '../../lambdas/contracts/agent-artifacts.js';
import { runCli } from '../../cli/program.js';
import type { SimulatedFleet } from '../../simulator/index.js';
import { eventually, startFleet, startHarness, type Harness } from './harness.js';

let h: Harness;
let fleet: SimulatedFleet;
let dir: string;
let artifacts: string;
const NEW = '0.2.0';
const FILE = `edgefleet-agent-linux-${process.arch}`;
const EXECUTABLE = Buffer.from(`#!/bin/sh\n# edgefleet agent ${NEW} (test artifact)\n${'x'.repeat(2048)}\n`);

/** What `npm run device:build` writes: the manifest (signed by the runtime when served) and the executable. */
function publish(version: string, bytes: Buffer): void {
  writeFileSync(path.join(artifacts, FILE), bytes);
  writeFileSync(path.join(artifacts, 'manifest.json'), renderAgentManifest({
    version, node: process.version, builtAt: new Date().toISOString(),
    artifacts: [{ arch: process.arch === 'arm64' ? 'arm64' : 'x64', file: FILE, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length }],
  }));
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-agentupd-it-'));
  artifacts = path.join(dir, 'artifacts');
  mkdirSync(artifacts);
  publish(NEW, EXECUTABLE);
  h = await startHarness({ agentArtifactsDir: artifacts, commandSweepMs: 300 });
  // au-4 and au-5 start from an image with the agent baked in (images build-context): no writable layout yet.
  ({ fleet } = await startFleet(h, {
    count: 5, prefix: 'au', stateDir: path.join(dir, 'hosts'), kairos: { rebootDelayMs: 50, k8sReadyDelayMs: 50 }, bakedAgent: (uid) => uid === 'au-4' || uid === 'au-5',
  }));
}, 120_000);

afterAll(async () => {
  await fleet?.stop();
  await h?.stop();
  rmSync(dir, { recursive: true, force: true });
});

type Op = { id: string; type: string; status: string; step: string; reason?: string; input: { version: string; from?: string } };
const operation = async (id: string) => (await h.call('GET', `/v1/operations/${id}`)).body as Op;
const ended = (id: string) => eventually(`operation ${id} to end`, async () => {
  const op = await operation(id);
  return op.status !== 'running' && op.status !== 'queued' ? op : undefined;
}, 60_000, 100);
const reportedVersion = async (hostId: string) => ((await h.call('GET', `/v1/hosts/${hostId}`)).body as { reported?: { agentVersion?: string } }).reported?.agentVersion;
const link = (hostId: string, name: string) => readlinkSync(path.join(fleet.host(hostId)!.agentDir, name));

describe('agent-update on a simulated host', () => {
  it('bad input changes nothing and says what to do', async () => {
    const url = '/v1/hosts/au-1/agent-update';
    expect((await h.call('POST', url, { body: { version: 'latest' } })).status).toBe(400);
    expect((await h.call('POST', url, { body: { version: NEW, force: true } })).status).toBe(400);
    expect((await h.call('POST', url, { raw: '{' })).status).toBe(400);
    const unknown = await h.call('POST', '/v1/hosts/nope/agent-update', { body: { version: NEW } });
    expect(unknown).toMatchObject({ status: 404, body: { code: 'host-not-found' } });
    const unpublished = await h.call('POST', url, { body: { version: '9.9.9' } });
    expect(unpublished).toMatchObject({ status: 422, body: { code: 'agent-version-not-published' } });
    expect(unpublished.body.detail).toContain(`offers ${NEW}`);
    const viewer = await h.call('POST', url, { body: { version: NEW }, token: await h.token('v@example.com', ['default:viewer']) });
    expect(viewer.status).toBe(403);
    const ops = await h.call('GET', '/v1/operations?limit=50');
    expect((ops.body as { items: Op[] }).items.filter((o) => o.type === 'agent-update')).toEqual([]);
    expect(readlinkSync(path.join(fleet.host('au-1')!.agentDir, 'current'))).toBe('versions/0.1.0');
  });

  it('moves a host to the published version: verified, installed next to the old one, reported from the disk', async () => {
    expect(await reportedVersion('au-1')).toBe('0.1.0');
    const started = await h.call('POST', '/v1/hosts/au-1/agent-update', { body: { version: NEW }, headers: { 'idempotency-key': 'au-1-update' } });
    expect(started).toMatchObject({ status: 202, body: { type: 'agent-update', target: { type: 'host', id: 'au-1' }, input: { version: NEW, from: '0.1.0' } } });
    const again = await h.call('POST', '/v1/hosts/au-1/agent-update', { body: { version: NEW }, headers: { 'idempotency-key': 'au-1-update' } });
    expect(again.body.id).toBe(started.body.id);
    const op = await ended(started.body.id);
    expect(op).toMatchObject({ status: 'succeeded', step: 'done' });
    expect(await reportedVersion('au-1')).toBe(NEW);
    // What the host runs is what was written to its disk.
    expect(link('au-1', 'current')).toBe(`versions/${NEW}`);
    expect(link('au-1', 'previous')).toBe('versions/0.1.0');
    expect(readFileSync(path.join(fleet.host('au-1')!.agentDir, 'versions', NEW, 'edgefleet-agent')).equals(EXECUTABLE)).toBe(true);
    expect(existsSync(path.join(fleet.host('au-1')!.agentDir, 'pending-update.env'))).toBe(false);
    const audit = await h.call('GET', '/v1/audit-events?resource=host/au-1');
    expect(JSON.stringify(audit.body)).toContain('host.agent-update');
    // At the version already: refused, nothing started.
    const same = await h.call('POST', '/v1/hosts/au-1/agent-update', { body: { version: NEW } });
    expect(same).toMatchObject({ status: 409, body: { code: 'agent-already-at-version' } });
  }, 90_000);

  it('a new version that does not come online is undone by the guard; the operation fails saying why', async () => {
    fleet.host('au-2')!.failAgentVersions.add(NEW);
    const started = await h.call('POST', '/v1/hosts/au-2/agent-update', { body: { version: NEW } });
    expect(started.status).toBe(202);
    const op = await ended(started.body.id);
    expect(op.status).toBe('failed');
    expect(op.reason).toMatch(/fell back to agent 0\.1\.0 .*did not come online and commit by its deadline/);
    expect(link('au-2', 'current')).toBe('versions/0.1.0');
    await eventually('au-2 reports 0.1.0', async () => (await reportedVersion('au-2')) === '0.1.0');
    // The new version stays on the disk (not running): the previous one is what runs.
    expect(existsSync(path.join(fleet.host('au-2')!.agentDir, 'versions', NEW))).toBe(true);
    expect(existsSync(path.join(fleet.host('au-2')!.agentDir, 'fell-back.env'))).toBe(false);
  }, 90_000);

  it('a tampered artifact is refused with the reason and nothing is installed', async () => {
    const tampered = Buffer.from(EXECUTABLE);
    tampered[tampered.length - 2] = 'y'.charCodeAt(0);
    writeFileSync(path.join(artifacts, FILE), tampered);
    const started = await h.call('POST', '/v1/hosts/au-3/agent-update', { body: { version: NEW } });
    expect(started.status).toBe(202);
    const op = await ended(started.body.id);
    expect(op.status).toBe('failed');
    expect(op.reason).toMatch(/refused agent 0\.2\.0 \(checksum-mismatch\).*nothing was installed/);
    expect(existsSync(path.join(fleet.host('au-3')!.agentDir, 'versions', NEW))).toBe(false);
    expect(link('au-3', 'current')).toBe('versions/0.1.0');
    expect(await reportedVersion('au-3')).toBe('0.1.0');
    publish(NEW, EXECUTABLE);
  }, 90_000);

  it('the CLI starts one and watches it; hosts list shows the AGENT column', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['hosts', 'agent-update', 'au-3', '--version', NEW, '--watch', '--interval', '1'], {
      env: { EDGEFLEET_URL: h.rt.url, EDGEFLEET_TOKEN: h.rt.adminToken }, stdout: (s) => out.push(s), stderr: (s) => err.push(s), cwd: dir,
    });
    expect({ code, err: err.join('') }).toMatchObject({ code: 0 });
    expect(out.join("")).toMatch(/agent-update \S+ of host au-3: succeeded/);
    const list: string[] = [];
    expect(await runCli(['hosts', 'list'], { env: { EDGEFLEET_URL: h.rt.url, EDGEFLEET_TOKEN: h.rt.adminToken }, stdout: (s) => list.push(s), stderr: () => undefined, cwd: dir })).toBe(0);
    const lines = list.join('').split('\n');
    expect(lines[0]).toMatch(/AGENT/);
    expect(lines.find((l) => l.startsWith('au-3'))).toContain(NEW);
    expect(lines.find((l) => l.startsWith('au-2'))).toContain('0.1.0');
  }, 90_000);

  describe('a host whose image carries the agent (baked, read-only)', () => {
    const baked = (hostId: string) => fleet.host(hostId)!.bakedDir!;

    it('updates into the writable layout; the baked agent stays as it was, kept as the fallback', async () => {
      expect(existsSync(path.join(fleet.host('au-4')!.agentDir, 'current'))).toBe(false);
      expect(await reportedVersion('au-4')).toBe('0.1.0');
      const bakedExe = readFileSync(path.join(baked('au-4'), 'edgefleet-agent'));
      const started = await h.call('POST', '/v1/hosts/au-4/agent-update', { body: { version: NEW } });
      expect(started.status).toBe(202);
      expect(await ended(started.body.id)).toMatchObject({ status: 'succeeded', step: 'done' });
      expect(await reportedVersion('au-4')).toBe(NEW);
      expect(link('au-4', 'current')).toBe(`versions/${NEW}`);
      expect(link('au-4', 'previous')).toBe('versions/0.1.0');
      expect(link('au-4', path.join('versions', '0.1.0'))).toBe(baked('au-4'));
      expect(link('au-4', 'edgefleet-agent')).toBe('current/edgefleet-agent');
      expect(readFileSync(path.join(baked('au-4'), 'edgefleet-agent')).equals(bakedExe)).toBe(true);
      expect(readdirSync(baked('au-4')).sort()).toEqual(['edgefleet-agent', 'manifest.json']);
    }, 90_000);

    it('a new version that does not come online falls back to the baked agent', async () => {
      fleet.host('au-5')!.failAgentVersions.add(NEW);
      const started = await h.call('POST', '/v1/hosts/au-5/agent-update', { body: { version: NEW } });
      expect(started.status).toBe(202);
      const op = await ended(started.body.id);
      expect(op.status).toBe('failed');
      expect(op.reason).toMatch(/fell back to agent 0\.1\.0 .*did not come online and commit by its deadline/);
      expect(link('au-5', 'current')).toBe('versions/0.1.0');
      expect(realpathSync(path.join(fleet.host('au-5')!.agentDir, 'edgefleet-agent'))).toBe(realpathSync(path.join(baked('au-5'), 'edgefleet-agent')));
      await eventually('au-5 reports 0.1.0', async () => (await reportedVersion('au-5')) === '0.1.0');
    }, 90_000);
  });
});
