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
  // The sweep runs every second here (every minute on AWS).
  h = await startHarness({ tunnelTimeScale: 1 / 60, tunnelSweepMs: 1000 });
  ({ fleet } = await startFleet(h, {
    count: 3, prefix: 'tn', stateDir: join(dir, 'fleet'), tunnelEndpoint: h.rt.tunnelRelay.endpoint, sshPort,
    remoteAccess: (_uid, n) => n !== 3,
  }));
  operator = await h.token('alice', ['default:operator']);
  viewer = await h.token('victor', ['default:viewer']);
  admin = await h.token('root', ['default:admin']);
  // The stored grant is what lets alice (and victor, who still lacks the role) open a shell.
  for (const subject of ['alice', 'victor']) {
    expect((await h.call('POST', '/v1/troubleshoot-grants', { token: admin, body: { subject } })).status).toBe(201);
  }
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
    const [live] = (await h.call('GET', '/v1/hosts/tn-1/tunnels?state=open', { token: viewer })).body.items;
    expect(live).toMatchObject({ sourceConnected: true, destinationConnected: true });
    // The sweep audits each side's connect (who, which host, when after opening).
    await eventually('both sides\' connects are audited', async () => {
      const connects = (await audit('tunnel.connect')).filter((e: { resource: string }) => e.resource === `tunnel/${live.id}`);
      return connects.length === 2 ? connects : undefined;
    }, 20_000).then((connects) => {
      expect(connects.map((e: { actor: string }) => e.actor).sort()).toEqual(['alice', 'device:tn-1']);
      expect(connects.find((e: { actor: string }) => e.actor === 'alice').detail).toMatch(/the operator's side \(alice\) connected; host tn-1; user ef-[0-9a-f]{8}; reason: kubelet restarts/);
    });

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
    ['an admin without a stored grant', () => admin, /you \(root\) hold no troubleshoot grant in project "default".*POST \/v1\/troubleshoot-grants/],
  ])('refuses %s (403, audited, nothing opened)', async (_who, token, message) => {
    const res = await h.call('POST', '/v1/hosts/tn-2/tunnels', { token: token(), body: { reason: 'look', publicKey: key() } });
    expect(res.status).toBe(403);
    expect(res.body.detail).toMatch(message);
    // Refused and audited as denied (the role by the route, the grant by the use case).
    expect((await audit()).some((e: { outcome: string; resource: string; detail?: string }) =>
      e.outcome === 'denied' && e.resource.includes('tn-2') && message.test(e.detail ?? ''))).toBe(true);
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

  it('revoking the grant closes the holder\'s open tunnel at once (revoked) and removes the temporary user', async () => {
    const carol = await h.token('carol', ['default:operator']);
    const granted = await h.call('POST', '/v1/troubleshoot-grants', { token: admin, body: { subject: 'carol' } });
    expect(granted.status).toBe(201);
    expect(granted.body).toMatchObject({ subject: 'carol', project: 'default', createdBy: 'root' });
    const host = fleet.host('tn-1')!;
    const opened = await h.call('POST', '/v1/hosts/tn-1/tunnels', { token: carol, body: { reason: 'look at the disk', durationMinutes: 600, publicKey: key() } });
    expect(opened.status).toBe(201);
    await eventually('the temporary user is added', async () => host.accounts.users.length === 1, 30_000);

    const revoked = await h.call('DELETE', `/v1/troubleshoot-grants/${granted.body.id}`, { token: admin });
    expect(revoked.status).toBe(200);
    expect(revoked.body.closedTunnels).toEqual([opened.body.id]);
    const [t] = (await h.call('GET', '/v1/hosts/tn-1/tunnels')).body.items;
    expect(t).toMatchObject({ id: opened.body.id, state: 'closed', closeReason: 'revoked', closedBy: 'root' });
    await eventually('the temporary user is removed', async () => host.accounts.users.length === 0, 30_000);
    expect((await audit('tunnel.close')).find((e: { resource: string }) => e.resource === `tunnel/${t.id}`)?.detail).toMatch(/opened by carol; reason: look at the disk; open \d+ min; closed revoked/);
    expect((await audit('troubleshoot-grant.revoke')).some((e: { actor: string; detail?: string }) => e.actor === 'root' && /carol/.test(e.detail ?? ''))).toBe(true);
    // Without the grant carol cannot open another one.
    expect((await h.call('POST', '/v1/hosts/tn-1/tunnels', { token: carol, body: { reason: 'again', publicKey: key() } })).status).toBe(403);
  }, 90_000);

  it('a grant that lapses closes its holder\'s tunnel within the sweep interval (revoked)', async () => {
    const dave = await h.token('dave', ['default:operator']);
    const expiresAt = new Date(Date.now() + 8_000).toISOString();
    expect((await h.call('POST', '/v1/troubleshoot-grants', { token: admin, body: { subject: 'dave', expiresAt } })).status).toBe(201);
    const host = fleet.host('tn-1')!;
    const opened = await h.call('POST', '/v1/hosts/tn-1/tunnels', { token: dave, body: { reason: 'short grant', durationMinutes: 600, publicKey: key() } });
    expect(opened.status).toBe(201);
    await eventually('the temporary user is added', async () => host.accounts.users.length === 1, 30_000);
    // Every look at it says why it closed: revoked (the sweep closes the service's tunnel, then records it: closedBy).
    const t = await eventually('the sweep closes it once the grant lapsed', async () => {
      const [x] = (await h.call('GET', '/v1/hosts/tn-1/tunnels')).body.items;
      if (x.id === opened.body.id && x.state === 'closed') expect(x.closeReason).toBe('revoked');
      return x.id === opened.body.id && x.state === 'closed' && x.closedBy ? x : undefined;
    }, 60_000);
    expect(t).toMatchObject({ closeReason: 'revoked', closedBy: 'edgefleet' });
    expect(Date.parse(t.closedAt)).toBeGreaterThanOrEqual(Date.parse(expiresAt));
    await eventually('the temporary user is removed', async () => host.accounts.users.length === 0, 30_000);
  }, 120_000);

  it('troubleshoot grants: admin only, listed, 409 on a second, 404 on an unknown id, 400 naming the field', async () => {
    expect((await h.call('POST', '/v1/troubleshoot-grants', { token: operator, body: { subject: 'mallory' } })).status).toBe(403);
    expect((await h.call('GET', '/v1/troubleshoot-grants', { token: operator })).status).toBe(403);
    const list = await h.call('GET', '/v1/troubleshoot-grants?limit=1', { token: admin });
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(1);
    expect(list.body.nextCursor).toEqual(expect.any(String));
    const again = await h.call('POST', '/v1/troubleshoot-grants', { token: admin, body: { subject: 'alice' } });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'grant-exists' });
    expect((await h.call('DELETE', '/v1/troubleshoot-grants/bm9ib2R5', { token: admin })).status).toBe(404);
    expect((await h.call('DELETE', '/v1/troubleshoot-grants/not!ours', { token: admin })).status).toBe(404);
    for (const [body, message] of [
      [{}, /subject/], [{ subject: 'has space' }, /subject/], [{ subject: 'x', expiresAt: 'tomorrow' }, /expiresAt/],
      [{ subject: 'x', expiresAt: '2020-01-01T00:00:00Z' }, /expiresAt .* is not in the future/], [{ subject: 'x', role: 'admin' }, /unknown field\(s\): role/],
    ] as const) {
      const res = await h.call('POST', '/v1/troubleshoot-grants', { token: admin, body });
      expect(res.status).toBe(400);
      expect(res.body.detail).toMatch(message);
    }
  });

  describe('second-person approval (PATCH /v1/troubleshoot-settings {approval: required})', () => {
    beforeAll(async () => {
      expect((await h.call('PATCH', '/v1/troubleshoot-settings', { token: operator, body: { approval: 'required' } })).status).toBe(403);
      const set = await h.call('PATCH', '/v1/troubleshoot-settings', { token: admin, body: { approval: 'required' } });
      expect(set.body).toEqual({ approval: 'required' });
      expect((await h.call('GET', '/v1/troubleshoot-settings', { token: viewer })).body).toEqual({ approval: 'required' });
    });
    afterAll(async () => { await h.call('PATCH', '/v1/troubleshoot-settings', { token: admin, body: { approval: 'none' } }); });

    it('a request waits (202, no token, nothing opened); self-approval is refused (403, audited); another person approves; only the requester starts it, once', async () => {
      const host = fleet.host('tn-1')!;
      const req = await h.call('POST', '/v1/hosts/tn-1/tunnels', { token: operator, body: { reason: 'needs a second pair of eyes', publicKey: key() } });
      expect(req.status).toBe(202);
      expect(req.body).toMatchObject({ state: 'pending-approval', actor: 'alice' });
      expect(JSON.stringify(req.body)).not.toMatch(/AccessToken|publicKey|ssh-ed25519/);
      const id = req.body.id;
      expect(host.accounts.calls.filter((c) => c.includes(req.body.user))).toEqual([]);

      const self = await h.call('POST', `/v1/hosts/tn-1/tunnels/${id}/approve`, { token: operator });
      expect(self.status).toBe(403);
      expect(self.body).toMatchObject({ code: 'self-approval' });
      expect((await audit('tunnel.approve')).some((e: { outcome: string; actor: string; resource: string }) => e.outcome === 'denied' && e.actor === 'alice' && e.resource === `tunnel/${id}`)).toBe(true);
      // A viewer cannot approve (role), even holding a grant.
      expect((await h.call('POST', `/v1/hosts/tn-1/tunnels/${id}/approve`, { token: viewer })).status).toBe(403);
      // Starting before approval: 409.
      expect((await h.call('POST', `/v1/hosts/tn-1/tunnels/${id}/start`, { token: operator })).body).toMatchObject({ code: 'tunnel-not-approved' });

      const approved = await h.call('POST', `/v1/hosts/tn-1/tunnels/${id}/approve`, { token: admin });
      expect(approved.status).toBe(200);
      expect(approved.body).toMatchObject({ state: 'approved', approvedBy: 'root' });
      expect(JSON.stringify(approved.body)).not.toMatch(/AccessToken/);
      expect((await h.call('POST', `/v1/hosts/tn-1/tunnels/${id}/start`, { token: admin })).body).toMatchObject({ code: 'not-requester' });

      const started = await h.call('POST', `/v1/hosts/tn-1/tunnels/${id}/start`, { token: operator });
      expect(started.status).toBe(201);
      expect(started.body).toMatchObject({ id, state: 'open', approvedBy: 'root', sourceAccessToken: expect.any(String) });
      expect((await h.call('POST', `/v1/hosts/tn-1/tunnels/${id}/start`, { token: operator })).status).toBe(409);
      await eventually('the temporary user is added', async () => host.accounts.users.length === 1, 30_000);
      expect((await audit('tunnel.open')).find((e: { resource: string; outcome: string }) => e.resource === `tunnel/${id}` && e.outcome === 'success')?.detail).toMatch(/approved by root/);
      expect((await h.call('DELETE', `/v1/hosts/tn-1/tunnels/${id}`, { token: operator })).body).toMatchObject({ state: 'closed', closeReason: 'deleted' });
      await eventually('the temporary user is removed', async () => host.accounts.users.length === 0, 30_000);
    }, 90_000);

    it('hosts shell says it waits for approval, and connects once another person approves', async () => {
      const out: string[] = [];
      const err: string[] = [];
      const running = runCli(['hosts', 'shell', 'tn-1', '--reason', 'approved look', '--no-ssh'], {
        env: { HOME: dir, EDGEFLEET_URL: h.rt.url, EDGEFLEET_TOKEN: operator, EDGEFLEET_CONFIG: join(dir, 'none.json') },
        stdout: (x) => out.push(x), stderr: (x) => err.push(x), cwd: dir,
      });
      const [tunnelId] = await eventually('the CLI says it waits', async () => {
        const m = /Tunnel (\S+) to tn-1 waits for a second person's approval[\s\S]*edgefleet hosts approve-shell tn-1 \S+/.exec(err.join(''));
        return m ? [m[1]!] : undefined;
      }, 30_000);
      const approver: string[] = [];
      expect(await runCli(['hosts', 'approve-shell', 'tn-1', tunnelId], {
        env: { HOME: dir, EDGEFLEET_URL: h.rt.url, EDGEFLEET_TOKEN: admin, EDGEFLEET_CONFIG: join(dir, 'none.json') },
        stdout: (x) => approver.push(x), stderr: () => undefined, cwd: dir,
      })).toBe(0);
      expect(approver.join('')).toContain(`Approved tunnel ${tunnelId} to tn-1 requested by alice`);
      const port = await eventually('the CLI prints its port', async () => {
        const m = /port (\d+)/.exec(out.join(''));
        return m ? Number(m[1]) : undefined;
      }, 30_000);
      const bytes = Buffer.from('SSH-2.0-approved\r\n');
      expect((await roundTrip(port, bytes)).equals(bytes)).toBe(true);
      expect((await h.call('DELETE', `/v1/hosts/tn-1/tunnels/${tunnelId}`, { token: operator })).status).toBe(200);
      expect(await running).toBe(0);
    }, 90_000);

    it('a request nobody approves expires (closed: expired) and adds no user', async () => {
      const req = await h.call('POST', '/v1/hosts/tn-1/tunnels', { token: operator, body: { reason: 'nobody around', publicKey: key() } });
      expect(req.status).toBe(202);
      const t = await eventually('the pending request expires', async () => {
        const [x] = (await h.call('GET', '/v1/hosts/tn-1/tunnels')).body.items;
        return x.id === req.body.id && x.state === 'closed' ? x : undefined;
      }, 60_000);
      expect(t.closeReason).toBe('expired');
      expect((await h.call('POST', `/v1/hosts/tn-1/tunnels/${req.body.id}/approve`, { token: admin })).body).toMatchObject({ code: 'tunnel-not-pending' });
      expect(fleet.host('tn-1')!.accounts.calls.filter((c) => c.includes(req.body.user))).toEqual([]);
    }, 90_000);
  });
});
