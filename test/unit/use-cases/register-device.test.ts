/** register-device on the in-memory adapters: what a token admits, what is written, what is refused. */
import type { Inventory } from '../../../lambdas/contracts/device.js';
import { ForbiddenError, ThrottledError, UnauthenticatedError } from '../../../lambdas/domain/errors.js';
import { createRegistrationToken } from '../../../lambdas/use-cases/registration-tokens.js';
import { registerDevice } from '../../../lambdas/use-cases/register-device.js';
import { MemoryRegistrationTurns } from '../../../lambdas/adapters/memory/device-plane-stores.js';
import type { HostRepository } from '../../../lambdas/ports/index.js';
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
    const certs = [...(w.registry.things.get('box-1')?.certificates ?? [])];
    expect(certs).toHaveLength(1);
    expect(await w.hosts.get('box-1')).toMatchObject({ status: 'approved', certificateId: certs[0] });
    expect(w.registry.revoked.size).toBe(0);
  });

  it('an approved host is written once, already naming its certificate (no second host write)', async () => {
    const w = await world();
    const writes: string[] = [];
    const r = w.deps.registrations;
    const registrations = {
      putHost: (...a: Parameters<typeof r.putHost>) => { writes.push(`putHost ${a[0].certificateId ?? 'no certificate'}`); return r.putHost(...a); },
      countUse: r.countUse.bind(r), consumeTokenAndPutHost: r.consumeTokenAndPutHost.bind(r),
    };
    const h = w.deps.hosts;
    const hosts: HostRepository = {
      create: h.create.bind(h), get: h.get.bind(h), list: h.list.bind(h), delete: h.delete.bind(h),
      update: async () => { writes.push('hosts.update'); throw new Error('not expected'); },
    };
    const out = await registerDevice({ ...w.deps, registrations, hosts }, 'r1', { token: await token(w, { autoApprove: true }), uid: 'box-3', csr: CSR, inventory });
    expect(out).toMatchObject({ status: 'approved', hostId: 'box-3' });
    const cert = (await w.hosts.get('box-3'))?.certificateId;
    expect(writes).toEqual([`putHost ${cert}`]);
  });

  it('a registration whose host write loses revokes the certificate it provisioned: only a recorded certificate stays valid', async () => {
    const w = await world();
    const r = w.deps.registrations;
    const registrations = { countUse: r.countUse.bind(r), consumeTokenAndPutHost: r.consumeTokenAndPutHost.bind(r), putHost: async () => ({ ok: false as const, reason: 'host' as const }) };
    await expect(registerDevice({ ...w.deps, registrations }, 'r1', { token: await token(w, { autoApprove: true }), uid: 'box-4', csr: CSR, inventory }))
      .rejects.toMatchObject({ code: 'registration-in-progress' });
    const certs = [...(w.registry.things.get('box-4')?.certificates ?? [])];
    expect(certs).toHaveLength(1);
    expect([...w.registry.revoked]).toEqual(certs);
    expect(await w.hosts.get('box-4')).toBeUndefined();
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

  it.each<[string, number | undefined, string[]]>([
    ['an unlimited token stays out of the host write (no contention on it), its use counted after', undefined, ['putHost', 'countUse']],
    ['a limited token is taken in the same atomic write as the host', 5, ['consumeTokenAndPutHost']],
  ])('%s', async (_what, maxUses, calls) => {
    const w = await world();
    const seen: string[] = [];
    const r = w.deps.registrations;
    const registrations = {
      putHost: (...a: Parameters<typeof r.putHost>) => { seen.push('putHost'); return r.putHost(...a); },
      countUse: (...a: Parameters<typeof r.countUse>) => { seen.push('countUse'); return r.countUse(...a); },
      consumeTokenAndPutHost: (...a: Parameters<typeof r.consumeTokenAndPutHost>) => { seen.push('consumeTokenAndPutHost'); return r.consumeTokenAndPutHost(...a); },
    };
    const t = await token(w, maxUses ? { maxUses } : {});
    await registerDevice({ ...w.deps, registrations }, 'r1', { token: t, uid: 'box-9', csr: CSR, inventory });
    expect(seen).toEqual(calls);
    expect(await w.hosts.get('box-9')).toMatchObject({ status: 'pending' });
    expect([...w.state.tokens.values()][0]?.uses).toBe(1);
  });

  it('an unlimited token whose use cannot be counted still registers the host (the count is a statistic), and says so', async () => {
    const w = await world();
    const t = await token(w);
    const r = w.deps.registrations;
    const registrations = { consumeTokenAndPutHost: r.consumeTokenAndPutHost.bind(r), putHost: r.putHost.bind(r), countUse: async () => { throw new Error('throttled'); } };
    const out = await registerDevice({ ...w.deps, registrations }, 'r1', { token: t, uid: 'box-10', csr: CSR, inventory });
    expect(out).toMatchObject({ status: 'pending', hostId: 'box-10' });
    expect(await w.hosts.get('box-10')).toBeDefined();
  });

  it('two registrations of one new uid on an unlimited token: one host, the other told to retry, one use', async () => {
    const w = await world();
    const t = await token(w, { autoApprove: true });
    const both = await Promise.allSettled([0, 1].map(() => registerDevice(w.deps, 'r', { token: t, uid: 'twin', csr: CSR, inventory })));
    expect(both.filter((b) => b.status === 'fulfilled')).toHaveLength(1);
    const lost = both.find((b) => b.status === 'rejected') as PromiseRejectedResult;
    expect(lost.reason).toMatchObject({ code: 'registration-in-progress' });
    expect([...w.state.tokens.values()][0]?.uses).toBe(1);
    // The winner's certificate (the one the host names) is valid, the loser's revoked.
    const named = (await w.hosts.get('twin'))?.certificateId;
    const certs = [...(w.registry.things.get('twin')?.certificates ?? [])];
    expect(certs).toContain(named);
    expect(certs.filter((c) => !w.registry.revoked.has(c))).toEqual([named]);
  });
  describe('admission at a configured rate (the IoT registry\'s)', () => {
    const admitted = (deps: Parameters<typeof registerDevice>[0], t: string, uid: string) => registerDevice(deps, 'r', { token: t, uid, csr: CSR, inventory });
    const refusal = (deps: Parameters<typeof registerDevice>[0], t: string, uid: string) => admitted(deps, t, uid).catch((e: unknown) => e);

    it('past the rate: 429 with the Retry-After of its turn, nothing written but the turn, no registry call', async () => {
      const w = await world();
      const turns = new MemoryRegistrationTurns();
      const deps = { ...w.deps, admission: { perSecond: 2, turns } };
      const t = await token(w, { autoApprove: true });
      // Two a second: a second's worth at once (turns now and 500 ms on), the third waits.
      for (const uid of ['a-1', 'a-2']) expect(await admitted(deps, t, uid)).toMatchObject({ status: 'approved' });
      const third = await refusal(deps, t, 'a-3');
      expect(third).toBeInstanceOf(ThrottledError);
      expect(third).toMatchObject({
        code: 'registration-rate-limited', retryAfterSeconds: 1,
        message: expect.stringMatching(/^host a-3 cannot register yet: the control plane admits 2 registrations per second .* and 0 host\(s\) are ahead of it; its turn is kept for it: retry after 1 s/),
      });
      for (const uid of ['a-4', 'a-5', 'a-6']) await refusal(deps, t, uid);
      // The 7th asks in the same instant: its turn is 3 s on, usable 500 ms early; a-3…a-6 wait ahead of it.
      expect(await refusal(deps, t, 'a-7')).toMatchObject({ retryAfterSeconds: 3, message: expect.stringContaining('4 host(s) are ahead of it') });
      expect(await w.hosts.get('a-3')).toBeUndefined();
      expect([...w.registry.things.keys()].sort()).toEqual(['a-1', 'a-2']);
      expect([...w.state.tokens.values()][0]?.uses).toBe(2);
      expect(turns.taken).toBe(7);
      expect([...turns.turns.keys()].sort()).toEqual(['a-3', 'a-4', 'a-5', 'a-6', 'a-7']);
      expect([...turns.turns.values()].every((x) => !x.used)).toBe(true);
    });

    it('a refused host keeps its turn: asking again early takes no new one, and it is admitted once its turn is due', async () => {
      const w = await world();
      const turns = new MemoryRegistrationTurns();
      const deps = { ...w.deps, admission: { perSecond: 1, turns } };
      const t = await token(w, { autoApprove: true });
      for (const uid of ['k-1', 'k-2', 'k-3']) await refusal(deps, t, uid);
      expect(turns.taken).toBe(3);
      // k-3 asks again (too early) twice: the same turn, told the time left.
      w.clock.advance(500);
      expect(await refusal(deps, t, 'k-3')).toMatchObject({ retryAfterSeconds: 2 });
      expect(await refusal(deps, t, 'k-3')).toMatchObject({ retryAfterSeconds: 2 });
      expect(turns.taken).toBe(3);
      // A newcomer now queues behind all three.
      expect(await refusal(deps, t, 'k-4')).toMatchObject({ retryAfterSeconds: 3 });
      w.clock.advance(1500);
      expect(await admitted(deps, t, 'k-3')).toMatchObject({ status: 'approved', hostId: 'k-3' });
      expect(turns.turns.get('k-3')).toMatchObject({ used: true });
      expect(await admitted(deps, t, 'k-2')).toMatchObject({ status: 'approved' });
      expect(await refusal(deps, t, 'k-4')).toMatchObject({ code: 'registration-rate-limited', retryAfterSeconds: 1 });
      expect(turns.taken).toBe(4);
      expect([...w.registry.things.keys()].sort()).toEqual(['k-1', 'k-2', 'k-3']);
    });

    it('a turn used by a racing request of the same host is not used twice', async () => {
      const w = await world();
      const turns = new MemoryRegistrationTurns();
      const deps = { ...w.deps, admission: { perSecond: 1, turns } };
      const t = await token(w, { autoApprove: true });
      await refusal(deps, t, 'r-0');
      await refusal(deps, t, 'r-1');
      w.clock.advance(2000);
      // Both read the unused turn; the racing request uses it first.
      const racing = { heldBy: async (id: string) => { const held = await turns.heldBy(id); await turns.use(id); return held; }, take: turns.take.bind(turns), keep: turns.keep.bind(turns), use: turns.use.bind(turns) };
      expect(await refusal({ ...deps, admission: { perSecond: 1, turns: racing } }, t, 'r-1')).toMatchObject({ code: 'registration-in-progress' });
      expect(w.registry.things.has('r-1')).toBe(false);
    });

    it('a registration that waits for approval calls no registry: it takes no turn', async () => {
      const w = await world();
      const turns = new MemoryRegistrationTurns();
      const deps = { ...w.deps, admission: { perSecond: 1, turns } };
      const t = await token(w);
      for (const uid of ['p-1', 'p-2', 'p-3']) expect(await admitted(deps, t, uid)).toMatchObject({ status: 'pending' });
      expect(turns.taken).toBe(0);
    });
  });
});
