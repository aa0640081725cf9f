/**
 * Remote shell on the real local runtime: the CLI's source side (`hosts shell --no-ssh`)
 * through the local Secure Tunneling relay to a simulated host's agent (destination) and a
 * loopback TCP echo server standing in for sshd; the permission, the temporary user, DELETE
 * and expiry, the install configuration's switch, bad input, and the audit trail.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../cli/program.js';
import { generateSshKeyPair } from '../../cli/ssh-keys.js';
import type { SimulatedFleet } from '../../simulator/index.js';
import { eventually, startFleet, startHarness, type Harness } from './harness.js';

let h: Harness;
let fleet: SimulatedFleet;
let echo: Server;
let dir: string;
let operator: string;
let viewer: string;
let admin: string;
const key = () => generateSshKeyPair('it').publicKey;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'edgefleet-tunnels-'));
  echo = createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
  const sshPort = (echo.address() as { port: number }).port;
  // A tunnel lives durationMinutes seconds here (1/60): expiry is testable.
  h = await startHarness({ tunnelTimeScale: 1 / 60 });
  ({ fleet } = await startFleet(h, {
    count: 3, prefix: 'tn', stateDir: join(dir, 'fleet'), tunnelEndpoint: h.rt.tunnelRelay.endpoint, sshPort,
    remoteAccess: (_uid, n) => n !== 3,
  }));
  operator = await h.token('alice', ['default:operator', 'default:troubleshoot']);
  viewer = await h.token('victor', ['default:viewer', 'default:troubleshoot']);
  admin = await h.token('root', ['default:admin']);
}, 120_000);

afterAll(async () => {
  await fleet?.stop();
  await h?.stop();
  await new Promise<void>((r) => (echo ? echo.close(() => r()) : r()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Audit events of the last 10 minutes, of `action` (any when undefined). */
const audit = async (action?: string) => (await h.call('GET', `/v1/audit-events?limit=100&since=${new Date(Date.now() - 600_000).toISOString()}`)).body.items
  .filter((e: { action: string }) => action === undefined || e.action === action);

function roundTrip(port: number, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const c = connect(port, '127.0.0.1', () => c.write(data));
    c.on('data', (b: Buffer) => { chunks.push(b); got += b.length; if (got >= data.length) { c.end(); resolve(Buffer.concat(chunks)); } });
    c.on('error', reject);
  });
}

describe('remote shell through a secure tunnel (local runtime)', () => {
  it('hosts shell --no-ssh: bytes round-trip to the host\'s sshd stand-in; DELETE closes it and removes the temporary user', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const running = runCli(['hosts', 'shell', 'tn-1', '--reason', 'kubelet restarts, ticket 4711', '--duration', '30m', '--no-ssh'], {
      env: { HOME: dir, EDGEFLEET_URL: h.rt.url, EDGEFLEET_TOKEN: operator, EDGEFLEET_CONFIG: join(dir, 'none.json') },
      stdout: (s) => out.push(s), stderr: (s) => err.push(s), cwd: dir,
    });
    const port = await eventually('the CLI prints its port', async () => {
      const m = /port (\d+)/.exec(out.join(''));
      return m ? Number(m[1]) : undefined;
    }, 30_000);
    const host = fleet.host('tn-1')!;
    const user = await eventually('the agent adds the temporary user', async () => host.accounts.users[0], 30_000);
    expect(user).toMatch(/^ef-[0-9a-f]{8}$/);
    expect(host.accounts.calls.find((c) => c.startsWith('useradd'))).toContain(user);

    const bytes = Buffer.from(`SSH-2.0-test ${'x'.repeat(100_000)}\r\n`);
    expect((await roundTrip(port, bytes)).equals(bytes)).toBe(true);

    const [tunnel] = (await h.call('GET', '/v1/hosts/tn-1/tunnels?state=open', { token: viewer })).body.items;
    expect(tunnel).toMatchObject({ hostId: 'tn-1', state: 'open', actor: 'alice', reason: 'kubelet restarts, ticket 4711', durationMinutes: 30, user });
    expect(JSON.stringify(tunnel)).not.toMatch(/AccessToken|serviceTunnelId/);

    const closed = await h.call('DELETE', `/v1/hosts/tn-1/tunnels/${tunnel.id}`, { token: operator });
    expect(closed.status).toBe(200);
    expect(closed.body).toMatchObject({ state: 'closed', closeReason: 'deleted', closedBy: 'alice' });
    expect(await running).toBe(0);
    expect(err.join('')).toContain(`Tunnel ${tunnel.id} ended`);
    await eventually('the temporary user is removed', async () => host.accounts.users.length === 0, 30_000);
    expect(host.accounts.calls).toContain(`userdel --force --remove ${user}`);

    const opened = await audit('tunnel.open');
    expect(opened.find((e: { outcome: string; actor: string }) => e.outcome === 'success' && e.actor === 'alice')?.detail)
      .toMatch(/reason: kubelet restarts, ticket 4711; duration 30 min; user ef-/);
    expect((await audit('tunnel.close')).find((e: { resource: string }) => e.resource === `tunnel/${tunnel.id}`)).toMatchObject({ outcome: 'success', actor: 'alice' });
  }, 90_000);

  it('closes by itself at its expiry (within 60 s) and removes the temporary user', async () => {
    const host = fleet.host('tn-2')!;
    const res = await h.call('POST', '/v1/hosts/tn-2/tunnels', { token: operator, body: { reason: 'short look', durationMinutes: 2, publicKey: key() } });
    expect(res.status).toBe(201);
    expect(res.body.sourceAccessToken).toEqual(expect.any(String));
    await eventually('the temporary user is added', async () => host.accounts.users.length === 1, 30_000);
    await eventually('the temporary user is removed at expiry', async () => host.accounts.users.length === 0, 60_000);
    await eventually('the tunnel shows closed (expired)', async () => {
      const [t] = (await h.call('GET', '/v1/hosts/tn-2/tunnels')).body.items;
      return t.state === 'closed' && t.closeReason === 'expired';
    }, 10_000);
  }, 120_000);

  it.each([
    ['a viewer (even with the grant)', () => viewer, /role "viewer".*hosts:troubleshoot/],
    ['an admin without the grant', () => admin, /without the troubleshoot grant.*"default:troubleshoot"/],
  ])('refuses %s (403, audited, nothing opened)', async (_who, token, message) => {
    const res = await h.call('POST', '/v1/hosts/tn-2/tunnels', { token: token(), body: { reason: 'look', publicKey: key() } });
    expect(res.status).toBe(403);
    expect(res.body.detail).toMatch(message);
    // Refused before the body is read (the route's permission check), audited as denied on the host's tunnels.
    expect((await audit()).some((e: { outcome: string; resource: string; detail?: string }) =>
      e.outcome === 'denied' && e.resource.includes('/v1/hosts/tn-2/tunnels') && message.test(e.detail ?? ''))).toBe(true);
    expect((await h.call('GET', '/v1/hosts/tn-2/tunnels?state=open')).body.items).toEqual([]);
  });

  it('refuses a host whose install configuration disabled remote access (409 naming the switch)', async () => {
    await eventually('tn-3 reported its switch', async () => (await h.rt.deps.status.get('tn-3'))?.content.remoteAccess === false, 30_000);
    const res = await h.call('POST', '/v1/hosts/tn-3/tunnels', { token: operator, body: { reason: 'look', publicKey: key() } });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'remote-access-disabled' });
    expect(res.body.detail).toMatch(/remoteAccess: false/);
    expect((await audit('tunnel.open')).some((e: { outcome: string; resource: string }) => e.outcome === 'failed' && e.resource === 'host/tn-3')).toBe(true);
    expect(fleet.host('tn-3')!.accounts.calls).toEqual([]);
  });

  it.each<[string, unknown, RegExp]>([
    ['no reason', { publicKey: 'k' }, /reason/],
    ['a reason of 2 characters', { reason: 'ab', publicKey: generateSshKeyPair('x').publicKey }, /reason: say why/],
    ['a duration over 12 h', { reason: 'look', durationMinutes: 721, publicKey: generateSshKeyPair('x').publicKey }, /durationMinutes/],
    ['an idle timeout of 0', { reason: 'look', idleTimeoutMinutes: 0, publicKey: generateSshKeyPair('x').publicKey }, /idleTimeoutMinutes/],
    ['an RSA key', { reason: 'look', publicKey: 'ssh-rsa AAAAB3NzaC1yc2E= me' }, /publicKey: an OpenSSH ed25519 public key/],
    ['an unknown field', { reason: 'look', publicKey: generateSshKeyPair('x').publicKey, user: 'root' }, /unknown field\(s\): user/],
  ])('POST refuses %s with 400 naming the field', async (_name, body, message) => {
    const res = await h.call('POST', '/v1/hosts/tn-2/tunnels', { token: operator, body });
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(message);
  });

  it('answers 404 for an unknown host or tunnel, and 400 for an unknown list filter', async () => {
    expect((await h.call('POST', '/v1/hosts/nope/tunnels', { token: operator, body: { reason: 'look', publicKey: key() } })).status).toBe(404);
    expect((await h.call('GET', '/v1/hosts/nope/tunnels')).status).toBe(404);
    expect((await h.call('DELETE', '/v1/hosts/tn-1/tunnels/nope', { token: operator })).status).toBe(404);
    expect((await h.call('GET', '/v1/hosts/tn-1/tunnels?state=weird')).status).toBe(400);
  });
});
