import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSshKeyPair } from '../../../../cli/ssh-keys.js';
import { AllowListRunner } from '../../../../device/command-runner.js';
import { TUNNEL_PROGRAMS, TunnelFeature } from '../../../../device/features/tunnel-feature.js';
import { SimulatedAccounts } from '../../../../simulator/simulated-accounts.js';

let dir: string;
let accounts: SimulatedAccounts;
const logs: string[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ef-tunnel-feature-'));
  accounts = new SimulatedAccounts();
  logs.length = 0;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const feature = (enabled = true) => new TunnelFeature({
  enabled, sshPort: 22, authorizedKeysDir: join(dir, 'keys'), runner: new AllowListRunner(accounts, TUNNEL_PROGRAMS),
  log: (_l, m) => logs.push(m), now: () => new Date(),
});
const add = (expiresInMs: number) => ({
  action: 'add' as const, user: 'ef-0123abcd', publicKey: generateSshKeyPair('t').publicKey, tunnelId: 't-1',
  expiresAt: new Date(Date.now() + expiresInMs).toISOString(), idleTimeoutMinutes: 30,
});

async function waitFor(cond: () => boolean): Promise<void> {
  const until = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the remote-shell feature of the agent', () => {
  it('adds the temporary user with useradd (argv) and writes only the given key for it; remove undoes both', async () => {
    const f = feature();
    const p = add(60_000);
    await f.addUser(p);
    expect(accounts.calls).toEqual(['useradd --create-home --shell /bin/sh --comment EdgeFleet tunnel t-1 ef-0123abcd']);
    expect(readFileSync(join(dir, 'keys', 'ef-0123abcd'), 'utf8')).toBe(`${p.publicKey}\n`);
    await f.removeUser('ef-0123abcd', 'tunnel closed');
    expect(accounts.calls.at(-1)).toBe('userdel --force --remove ef-0123abcd');
    expect(existsSync(join(dir, 'keys', 'ef-0123abcd'))).toBe(false);
    expect(accounts.users).toEqual([]);
    // Removing again is fine (userdel exits 6: already gone).
    await expect(f.removeUser('ef-0123abcd', 'again')).resolves.toMatch(/removed/);
  });

  it('removes the user by itself at the expiry', async () => {
    const f = feature();
    await f.addUser(add(300));
    expect(accounts.users).toEqual(['ef-0123abcd']);
    await waitFor(() => accounts.users.length === 0);
    expect(f.temporaryUsers).toEqual([]);
  });

  it('removes every temporary user when the agent stops', async () => {
    const f = feature();
    await f.addUser(add(60_000));
    await f.stop();
    expect(accounts.users).toEqual([]);
  });

  it('refuses everything when the install configuration switched remote access off', async () => {
    const f = feature(false);
    await expect(f.addUser(add(60_000))).rejects.toThrow(/remote access is disabled on this host by its install configuration/);
    f.onNotify(JSON.stringify({ clientAccessToken: 'x', clientMode: 'destination', region: 'eu-west-1', services: ['SSH'] }));
    expect(logs.some((m) => /refused a tunnel: remote access is disabled/.test(m))).toBe(true);
    expect(accounts.calls).toEqual([]);
  });

  it('refuses a user for a tunnel that already expired, and ignores invalid notifications', async () => {
    const f = feature();
    await expect(f.addUser(add(-1000))).rejects.toThrow(/already expired/);
    f.onNotify('{"clientMode":"destination"}');
    f.onNotify(JSON.stringify({ clientAccessToken: 'x', clientMode: 'destination', region: 'eu-west-1', services: ['RDP'] }));
    expect(logs).toEqual(expect.arrayContaining([expect.stringMatching(/not valid/), expect.stringMatching(/serves only SSH/)]));
    expect(accounts.calls).toEqual([]);
  });
});
