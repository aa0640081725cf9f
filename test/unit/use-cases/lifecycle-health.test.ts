/**
 * A host's health follows its lifecycle before it ever connects (issue 12: `hosts list --health
 * unknown` finds hosts that never reported): pre-registered, registered and waiting, approved and
 * never connected, rejected — each stored `unknown` with the reason, listed by the health filter.
 */
import type { Inventory } from '../../../lambdas/contracts/device.js';
import { approveHost, createHost, listHosts, rejectHost } from '../../../lambdas/use-cases/hosts.js';
import { createRegistrationToken } from '../../../lambdas/use-cases/registration-tokens.js';
import { registerDevice } from '../../../lambdas/use-cases/register-device.js';
import { ADMIN, world } from './world.js';

const inventory: Inventory = { arch: 'amd64', cpus: 4, memoryMb: 8192, disks: [], nics: [], os: { name: 'ubuntu', version: '24.04' }, agentVersion: '1.0.0' };
const CSR = '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n';

async function setup() {
  const w = await world({ hosts: 0 });
  const deps = { ...w.deps, health: { clock: w.clock, store: w.healthStore, events: w.events, clusters: w.clusters } };
  return { w, deps };
}

describe('health after lifecycle changes', () => {
  it.each<[string, (d: Awaited<ReturnType<typeof setup>>) => Promise<string>, string]>([
    ['pre-registered', async ({ deps }) => (await createHost(deps, ADMIN, { uid: 'pre-1' })).id, 'host is pre-registered: it is not expected to report'],
    ['registered, waiting for approval', async ({ deps }) => {
      const t = await createRegistrationToken(deps, ADMIN, { name: 'shops' });
      return (await registerDevice(deps, 'r', { token: t.token!, uid: 'wait-1', csr: CSR, inventory })).hostId;
    }, 'host is pending: it is not expected to report'],
    ['auto-approved, never connected', async ({ deps }) => {
      const t = await createRegistrationToken(deps, ADMIN, { name: 'shops', autoApprove: true });
      return (await registerDevice(deps, 'r', { token: t.token!, uid: 'auto-1', csr: CSR, inventory })).hostId;
    }, 'never connected'],
    ['approved by an operator, never connected', async ({ deps }) => {
      const t = await createRegistrationToken(deps, ADMIN, { name: 'shops' });
      const out = await registerDevice(deps, 'r', { token: t.token!, uid: 'ok-1', csr: CSR, inventory });
      const code = out.status === 'pending' ? out.pairingCode : undefined;
      return (await approveHost(deps, ADMIN, out.hostId, { pairingCode: code })).id;
    }, 'never connected'],
    ['rejected', async ({ deps }) => {
      const t = await createRegistrationToken(deps, ADMIN, { name: 'shops' });
      const out = await registerDevice(deps, 'r', { token: t.token!, uid: 'no-1', csr: CSR, inventory });
      return (await rejectHost(deps, ADMIN, out.hostId, {})).id;
    }, 'host is rejected: it is not expected to report'],
  ])('%s: stored unknown with its reason, found by ?health=unknown', async (_what, act, reason) => {
    const s = await setup();
    const id = await act(s);
    expect(s.w.state.health.get(id)).toMatchObject({ state: 'unknown', reasons: [reason] });
    const listed = await listHosts(s.deps, ADMIN, { health: 'unknown' }, { limit: 100 });
    expect(listed.items.map((h) => h.id)).toEqual([id]);
  });

  it('without a health store wired, the lifecycle change still happens (nothing derived)', async () => {
    const w = await world({ hosts: 0 });
    const h = await createHost(w.deps, ADMIN, { uid: 'bare-1' });
    expect(h.status).toBe('pre-registered');
    expect(w.state.health.get('bare-1')).toBeUndefined();
  });
});
