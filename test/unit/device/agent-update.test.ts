import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderAgentManifest } from '../../../lambdas/contracts/agent-artifacts.js';
import type { CommandMessage } from '../../../lambdas/contracts/mqtt.js';
import { AgentInstallation, FELL_BACK_FILE, PENDING_FILE, parseEnv } from '../../../device/agent-installation.js';
import type { CommandContext } from '../../../device/commands.js';
import { AgentUpdateFeature } from '../../../device/features/agent-update-feature.js';
import { StateStore } from '../../../device/state-store.js';
import { installedAgentVersion, seedAgentInstallation, seedBakedAgent } from '../../../simulator/simulated-agent-service.js';
import { guardUnits } from '../../../lambdas/contracts/agent-layout.js';
import { writeSystemdPieces } from '../../../device/agent-installation.js';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const PEM = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const FILE = 'edgefleet-agent-linux-x64';
const EXE = Buffer.from('#!/bin/sh\necho agent 0.2.0\n');
const manifestFor = (version: string, exe: Buffer) => Buffer.from(renderAgentManifest({
  version, node: 'v20.0.0', builtAt: '2026-12-01T12:00:00.000Z',
  artifacts: [{ arch: 'x64', file: FILE, sha256: createHash('sha256').update(exe).digest('hex'), size: exe.length }],
}));

let dir: string;
let served: Record<string, Buffer>;
let restarts: number;
let published: { topic: string; body: { commandId: string; phase: string; detail?: string } }[];
let progress: string[];

const fakeFetch = (async (url: string | URL | Request) => {
  const path = String(url).replace('http://cp/v1/agent/', '');
  const body = served[path];
  return body ? new Response(body) : new Response('no', { status: 404 });
}) as typeof fetch;

function feature(running = '0.1.0', bakedDir?: string): AgentUpdateFeature {
  return new AgentUpdateFeature({
    hostId: 'h1', apiUrl: 'http://cp', installation: new AgentInstallation(join(dir, 'agent'), bakedDir), runningVersion: running,
    signingKeyPem: async () => PEM, restart: async () => { restarts += 1; }, workDir: join(dir, 'work'),
    store: new StateStore(join(dir, 'state')), publish: async (topic, body) => { published.push({ topic, body: body as never }); },
    report: async () => undefined, log: () => undefined, now: () => new Date('2026-12-01T12:00:00.000Z'), fetch: fakeFetch, arch: 'x64',
  });
}
const ctx = { stopped: () => false, result: async (_id: string, _phase: string, detail?: string) => { progress.push(detail ?? ''); } } as unknown as CommandContext;
const command = (version = '0.2.0'): CommandMessage => ({ commandId: 'agentupd-op1', type: 'agent-update', params: { version, commitSeconds: 120 }, deadline: '2026-12-01T12:15:00.000Z' });
const agent = (...p: string[]) => join(dir, 'agent', ...p);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ef-agentupd-'));
  seedAgentInstallation(agent(), '0.1.0');
  const manifest = manifestFor('0.2.0', EXE);
  served = { manifest, 'manifest.sig': sign('sha256', manifest, privateKey), [`artifacts/${FILE}`]: EXE };
  restarts = 0;
  published = [];
  progress = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('agent-update on the host', () => {
  test('verified: installed next to the running version, pending recorded with its commit deadline, then restarted', async () => {
    await feature().run(command(), ctx);
    expect(readFileSync(agent('versions', '0.2.0', 'edgefleet-agent')).equals(EXE)).toBe(true);
    expect(readFileSync(agent('versions', '0.2.0', 'manifest.json')).equals(served.manifest!)).toBe(true);
    expect(readlinkSync(agent('current'))).toBe('versions/0.2.0');
    expect(readlinkSync(agent('previous'))).toBe('versions/0.1.0');
    expect(parseEnv(readFileSync(agent(PENDING_FILE), 'utf8'))).toEqual({ COMMAND_ID: 'agentupd-op1', VERSION: '0.2.0', PREVIOUS: '0.1.0', COMMIT_BY: String(Date.parse('2026-12-01T12:02:00.000Z') / 1000) });
    expect(existsSync(agent('guard.sh'))).toBe(true);
    expect(restarts).toBe(1);
    expect(progress.join('\n')).toMatch(/verified .*installing/);
  });

  test.each<[string, () => void, RegExp]>([
    ['a manifest changed after signing', () => { served.manifest = Buffer.from(served.manifest!.toString().replace('0.2.0', '0.2.1')); }, /refused agent 0\.2\.0 \(bad-signature\).*nothing was installed/],
    ['a manifest signed by another key', () => { served['manifest.sig'] = sign('sha256', served.manifest!, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey); }, /bad-signature/],
    ['an executable changed on the way', () => { served[`artifacts/${FILE}`] = Buffer.from(EXE.toString().replace('echo', 'ecHo')); }, /refused agent 0\.2\.0 \(checksum-mismatch\).*nothing was installed/],
    ['an executable of another size', () => { served[`artifacts/${FILE}`] = Buffer.concat([EXE, Buffer.from('x')]); }, /size-mismatch/],
    ['a manifest without this architecture', () => { const m = manifestFor('0.2.0', EXE).toString().replace(FILE, 'edgefleet-agent-linux-arm64'); served.manifest = Buffer.from(m); served['manifest.sig'] = sign('sha256', served.manifest, privateKey); }, /not-listed/],
    ['the control plane publishes another version now', () => { const m = manifestFor('0.3.0', EXE); served.manifest = m; served['manifest.sig'] = sign('sha256', m, privateKey); }, /now publishes agent 0\.3\.0, not 0\.2\.0; nothing was installed/],
    ['the artifact is missing', () => { delete served[`artifacts/${FILE}`]; }, /HTTP 404; nothing was installed/],
  ])('refused, nothing installed: %s', async (_name, tamper, message) => {
    tamper();
    await expect(feature().run(command(), ctx)).rejects.toThrow(message);
    expect(existsSync(agent('versions', '0.2.0'))).toBe(false);
    expect(readlinkSync(agent('current'))).toBe('versions/0.1.0');
    expect(existsSync(agent(PENDING_FILE))).toBe(false);
    expect(existsSync(join(dir, 'work', `${FILE}.download`))).toBe(false);
    expect(restarts).toBe(0);
  });

  test('the new agent commits once online: the marker goes, the result says succeeded', async () => {
    await feature().run(command(), ctx);
    await feature('0.2.0').start();
    expect(existsSync(agent(PENDING_FILE))).toBe(false);
    expect(published.map((p) => [p.topic, p.body.phase, p.body.commandId])).toEqual([['edgefleet/hosts/h1/results', 'succeeded', 'agentupd-op1']]);
  });

  test('the guard falls back only after the commit deadline; the previous agent reports why', async () => {
    await feature().run(command(), ctx);
    const commitBy = Date.parse('2026-12-01T12:02:00.000Z') / 1000;
    const guard = (now: number) => execFileSync('sh', [agent('guard.sh')], { env: { ...process.env, EDGEFLEET_AGENT_DIR: agent(), EDGEFLEET_NOW: String(now), EDGEFLEET_NO_SYSTEMD: '1' }, stdio: 'pipe' });
    guard(commitBy);
    expect(readlinkSync(agent('current'))).toBe('versions/0.2.0');
    guard(commitBy + 30);
    expect(readlinkSync(agent('current'))).toBe('versions/0.1.0');
    expect(existsSync(agent(PENDING_FILE))).toBe(false);
    expect(parseEnv(readFileSync(agent(FELL_BACK_FILE), 'utf8')).REASON).toMatch(/agent 0\.2\.0 did not come online and commit by its deadline .*30 s ago/);
    await feature('0.1.0').start();
    expect(published).toHaveLength(1);
    expect(published[0]!.body).toMatchObject({ commandId: 'agentupd-op1', phase: 'failed', detail: expect.stringMatching(/fell back to agent 0\.1\.0 \(now running 0\.1\.0\) because agent 0\.2\.0 did not come online/) });
    expect(existsSync(agent(FELL_BACK_FILE))).toBe(false);
  });

  test('a host installed by the install script (a plain executable) keeps it as versions/<running> on its first update', async () => {
    rmSync(agent(), { recursive: true, force: true });
    mkdirSync(agent(), { recursive: true });
    writeFileSync(agent('edgefleet-agent'), '#!/bin/sh\necho agent 0.1.0\n', { mode: 0o755 });
    await feature().run(command(), ctx);
    expect(readFileSync(agent('versions', '0.1.0', 'edgefleet-agent'), 'utf8')).toContain('agent 0.1.0');
    expect(readlinkSync(agent('edgefleet-agent'))).toBe('current/edgefleet-agent');
    expect(readFileSync(agent('edgefleet-agent')).equals(EXE)).toBe(true);
  });

  test('a baked agent (read-only image content) is linked as versions/<running>, not copied; falling back runs it again', async () => {
    rmSync(agent(), { recursive: true, force: true });
    const baked = join(dir, 'opt-agent');
    seedBakedAgent(baked, '0.1.0');
    const before = readFileSync(join(baked, 'edgefleet-agent'));
    expect(installedAgentVersion(agent(), baked)).toBe('0.1.0');
    await feature('0.1.0', baked).run(command(), ctx);
    expect(readlinkSync(agent('versions', '0.1.0'))).toBe(baked);
    expect(readlinkSync(agent('previous'))).toBe('versions/0.1.0');
    expect(readlinkSync(agent('edgefleet-agent'))).toBe('current/edgefleet-agent');
    expect(installedAgentVersion(agent(), baked)).toBe('0.2.0');
    const commitBy = Number(parseEnv(readFileSync(agent(PENDING_FILE), 'utf8')).COMMIT_BY);
    execFileSync('sh', [agent('guard.sh')], { env: { ...process.env, EDGEFLEET_AGENT_DIR: agent(), EDGEFLEET_NOW: String(commitBy + 1), EDGEFLEET_NO_SYSTEMD: '1' }, stdio: 'pipe' });
    expect(readFileSync(agent('edgefleet-agent')).equals(before)).toBe(true);
    expect(installedAgentVersion(agent(), baked)).toBe('0.1.0');
    expect(readFileSync(join(baked, 'edgefleet-agent')).equals(before)).toBe(true);
  });

  test('without a baked agent, a plain executable or versions/<running>, nothing is changed and the error says what to do', async () => {
    rmSync(agent(), { recursive: true, force: true });
    mkdirSync(agent(), { recursive: true });
    await expect(feature('0.1.0', join(dir, 'no-such-baked')).run(command(), ctx)).rejects.toThrow(/nothing to fall back to; reinstall the agent/);
    expect(existsSync(agent('current'))).toBe(false);
    expect(restarts).toBe(0);
  });

  test('the systemd pieces go next to the unit and into <dir>/systemd (what the boot stage restores); the ExecStart drop-in moves a baked unit', async () => {
    const units = join(dir, 'units');
    await writeSystemdPieces(agent(), units);
    for (const [name, content] of Object.entries(guardUnits(agent()))) {
      expect(readFileSync(join(units, name), 'utf8')).toBe(content);
      expect(readFileSync(agent('systemd', name), 'utf8')).toBe(content);
    }
    expect(readFileSync(join(units, 'edgefleet-agent.service.d/20-edgefleet-agent-dir.conf'), 'utf8')).toBe(`[Service]\nExecStart=\nExecStart=${agent('edgefleet-agent')}\nEnvironment=EDGEFLEET_NATIVE_DIR=${agent('.native')}\n`);
  });
});
