/** register-device on the in-memory adapters: what a token admits, what is written, what is refused. */
import type { Inventory } from '../../../lambdas/contracts/device.js';
import { ForbiddenError, UnauthenticatedError } from '../../../lambdas/domain/errors.js';
import { createRegistrationToken } from '../../../lambdas/use-cases/registration-tokens.js';
import { registerDevice } from '../../../lambdas/use-cases/register-device.js';
import { ADMIN, world, type World } from './world.js';

const inventory: Inventory = { arch: 'amd64', cpus: 4, memoryMb: 8192, disks: [], nics: [], os: { name: 'ubuntu', version: '24.04' }, agentVersion: '1.0.0' };
const CSR = '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n';

async function token(w: World, opts: { autoApprove?: boolean; maxUses?: number; site?: string } = {}) {
  const t = await createRegistrationToken(w.deps, ADMIN, { name: 'shops', ...opts });
  return t.token!;
}

describe('registerDevice', () => {
  it('an unknown host with a plain token waits for approval: pending with a pairing code, no certificate', async () => {
    const w = await world();
    const out = await registerDevice(w.deps, 'r1', { token: await token(w, { site: 'north' }), uid: 'Box-77', csr: CSR, inventory });
    expect(out).toMatchObject({ status: 'pending', hostId: 'box-77' });
    const host = await w.hosts.get('box-77');
    expect(host).toMatchObject({ status: 'pending', site: 'north', project: 'p', inventory });
    expect(out.status === 'pending' && out.pairingCode).toBe(host?.pairingCode);
    expect(w.registry.things.size).toBe(0);
    expect([...w.state.tokens.values()][0]?.uses).toBe(1);
    expect(w.state.audit.map((e) => `${e.actor} ${e.action} ${e.outcome}`)).toContain('device:box-77 device.register success');
  });

  it('an auto-approving token: approved, its certificate issued and stored on the host', async () => {
    const w = await world();
    const out = await registerDevice(w.deps, 'r1', { token: await token(w, { autoApprove: true }), uid: 'box-1', csr: CSR, inventory });
    expect(out).toMatchObject({ status: 'approved', hostId: 'box-1', thingName: 'box-1' });
    const cert = w.registry.things.get('box-1')?.certificateId;
    expect(cert).toBeDefined();
    expect(await w.hosts.get('box-1')).toMatchObject({ status: 'approved', certificateId: cert });
  });

  it.each<[string, (w: World) => Promise<string>, new (...a: never[]) => Error]>([
    ['a wrong secret', async (w) => `${(await token(w)).slice(0, -2)}xx`, UnauthenticatedError],
    ['a made-up token', async () => 'ef_nothing_here', UnauthenticatedError],
    ['a used-up token', async (w) => {
      const t = await token(w, { maxUses: 1 });
      await registerDevice(w.deps, 'r0', { token: t, uid: 'first', csr: CSR, inventory });
      return t;
    }, ForbiddenError],
  ])('refuses %s and writes no host', async (_what, tokenOf, type) => {
    const w = await world();
    const t = await tokenOf(w);
    await expect(registerDevice(w.deps, 'r1', { token: t, uid: 'box-2', csr: CSR, inventory })).rejects.toBeInstanceOf(type);
    expect(await w.hosts.get('box-2')).toBeUndefined();
  });
});
