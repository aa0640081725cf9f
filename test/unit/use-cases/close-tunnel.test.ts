import { memoryAdapters } from '../../../lambdas/adapters/memory/index.js';
import type { TunnelRecord } from '../../../lambdas/domain/tunnel.js';
import type { TunnelRepository, TunnelService } from '../../../lambdas/ports/tunnels.js';
import { closeTunnel } from '../../../lambdas/use-cases/close-tunnel.js';
import { endTunnel } from '../../../lambdas/use-cases/end-tunnel.js';
import { sweepTunnels } from '../../../lambdas/use-cases/sweep-tunnels.js';
import { revokeTroubleshootGrant } from '../../../lambdas/use-cases/troubleshoot-grants.js';
import { grantIdFor } from '../../../lambdas/domain/troubleshoot-grant.js';
import type { TunnelDeps } from '../../../lambdas/use-cases/tunnel-deps.js';
import { ctxOf, PROJECT, T0 } from './world.js';

/*
 * DELETE of a tunnel while another writer changes its record (the host reports its user added,
 * the tunnel is started): the close reads the record again and closes it; it never answers the
 * re-read record open (a proof run saw `state: open` from a DELETE).
 */
const OPEN: TunnelRecord = {
  id: 't1', project: PROJECT, hostId: 'h1', state: 'open', reason: 'disk full', actor: 'alice', durationMinutes: 60, idleTimeoutMinutes: 15,
  user: 'ef-00000001', serviceTunnelId: 'svc-1', createdAt: T0, expiresAt: '2026-11-30T11:00:00.000Z', version: 3,
};

/** A repository where `races` other writers each bump the record just before the close's write. */
function racingTunnels(races: number): TunnelRepository & { stored: () => TunnelRecord } {
  let stored = OPEN;
  let left = races;
  return {
    stored: () => stored,
    create: async () => false,
    get: async (id) => (id === stored.id ? stored : undefined),
    listByHost: async () => [stored],
    listUnclosed: async () => (stored.state === 'closed' ? [] : [stored]),
    update: async (next) => {
      if (left > 0) { left--; stored = { ...stored, destinationConnected: !stored.destinationConnected, version: stored.version + 1 }; return false; }
      if (next.version !== stored.version + 1) return false;
      stored = next;
      return true;
    },
  };
}

async function depsWith(tunnels: TunnelRepository) {
  const a = memoryAdapters({ now: '2026-11-30T10:10:00.000Z', idPrefix: 'n' });
  await a.hosts.create({ id: 'h1', uid: 'h1', project: PROJECT, status: 'approved', tags: {}, version: 1, createdAt: T0, updatedAt: T0 } as never);
  const closed: string[] = [];
  const tunnelService: TunnelService = {
    open: async () => { throw new Error('not here'); }, close: async (id) => { closed.push(id); }, describe: async () => undefined, endpoint: async () => 'wss://local',
  };
  const deps = { ...a, tunnels, tunnelService, approvalWaitMs: 60_000 } as unknown as TunnelDeps;
  return { deps, closed, state: a.state };
}

describe('closeTunnel under concurrent changes', () => {
  it.each([0, 1, 4])('closes the record after %i lost conditional writes', async (races) => {
    const tunnels = racingTunnels(races);
    const { deps, closed } = await depsWith(tunnels);
    const out = await closeTunnel(deps, ctxOf('operator'), 'h1', 't1');
    expect(out).toMatchObject({ state: 'closed', closeReason: 'deleted', closedBy: 'alice' });
    expect(tunnels.stored()).toMatchObject({ state: 'closed', closeReason: 'deleted', version: OPEN.version + races + 1 });
    expect(closed).toEqual(['svc-1']);
  });

  it('answers 409 tunnel-busy when the record keeps changing, with the service side closed', async () => {
    const tunnels = racingTunnels(50);
    const { deps, closed } = await depsWith(tunnels);
    await expect(closeTunnel(deps, ctxOf('operator'), 'h1', 't1')).rejects.toMatchObject({ code: 'tunnel-busy' });
    expect(tunnels.stored().state).toBe('open');
    expect(closed).toEqual(['svc-1']);
  });
});

describe('endTunnel (grant revoked, sweep) under concurrent changes', () => {
  it.each([0, 1, 4])('closes the record after %i lost conditional writes, audits once, tells the host once', async (races) => {
    const tunnels = racingTunnels(races);
    const { deps, closed, state } = await depsWith(tunnels);
    const out = await endTunnel(deps, OPEN, 'revoked', { subject: 'root', requestId: 'r1' });
    expect(out).toMatchObject({ state: 'closed', closeReason: 'revoked', closedBy: 'root' });
    expect(tunnels.stored()).toMatchObject({ state: 'closed', closeReason: 'revoked', version: OPEN.version + races + 1 });
    expect(closed).toEqual(['svc-1']);
    expect(state.audit.filter((e) => e.action === 'tunnel.close')).toHaveLength(1);
    expect((await deps.commands.listUnfinished('h1')).map((c) => c.commandId)).toEqual(['tunnel-t1-remove']);
  });

  it('gives up (undefined) when the record keeps changing, the service side closed', async () => {
    const tunnels = racingTunnels(50);
    const { deps, closed } = await depsWith(tunnels);
    expect(await endTunnel(deps, OPEN, 'revoked', { subject: 'root', requestId: 'r1' })).toBeUndefined();
    expect(tunnels.stored().state).toBe('open');
    expect(closed).toEqual(['svc-1']);
  });
});

describe('revoking a grant while the tunnel sweep runs', () => {
  it('closes the holder\'s tunnel itself (closed by the revoking admin, listed in the answer) even when the sweep runs the moment the grant is gone', async () => {
    const tunnels = racingTunnels(0);
    const { deps } = await depsWith(tunnels);
    const grant = { id: 'alice', project: PROJECT, subject: 'alice', createdAt: T0, createdBy: 'root' };
    let held: typeof grant | undefined = grant;
    let swept: Awaited<ReturnType<typeof sweepTunnels>> | undefined;
    const grants = {
      get: async (_p: string, s: string) => (held && s === held.subject ? held : undefined),
      // The sweep's timer fires right after the delete, before the revoke goes on.
      delete: async () => { const had = !!held; held = undefined; swept = await sweepTunnels(racingDeps, 'sweep-1'); return had; },
    };
    const racingDeps = { ...deps, grants, tunnelService: { ...deps.tunnelService, describe: async () => ({ status: 'OPEN', sourceConnected: false, destinationConnected: false }) } } as unknown as TunnelDeps;
    const out = await revokeTroubleshootGrant(racingDeps, ctxOf('admin', 'root'), grantIdFor('alice'));
    expect(out.closedTunnels).toEqual(['t1']);
    expect(tunnels.stored()).toMatchObject({ state: 'closed', closeReason: 'revoked', closedBy: 'root' });
    expect(swept?.closed).toEqual([]);
  });
});
