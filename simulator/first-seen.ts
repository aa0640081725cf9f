/**
 * When each simulated agent was first seen registered (holding its certificate) and online, from
 * its own phase: what a split fleet's workers report and what bench:fleet reads of an in-process
 * fleet. Each agent is counted once; the caller's polling interval is the resolution.
 */
const REGISTERED = new Set(['connecting', 'online', 'offline', 'rebooting']);

export interface FirstSeen {
  /** Looks at the agents now; returns the times of those first seen registered / online in this look. */
  look(hosts: readonly { readonly agent: { readonly state: { readonly phase: string } } }[], now?: number): { newlyRegisteredAt: number[]; newlyOnlineAt: number[] };
  readonly registered: number;
}

export function firstSeenTracker(): FirstSeen {
  const registered = new Set<number>();
  const online = new Set<number>();
  return {
    look(hosts, now = Date.now()) {
      const newlyRegisteredAt: number[] = [];
      const newlyOnlineAt: number[] = [];
      hosts.forEach((h, i) => {
        const phase = h.agent.state.phase;
        if (REGISTERED.has(phase) && !registered.has(i)) { registered.add(i); newlyRegisteredAt.push(now); }
        if (phase === 'online' && !online.has(i)) { online.add(i); newlyOnlineAt.push(now); }
      });
      return { newlyRegisteredAt, newlyOnlineAt };
    },
    get registered() { return registered.size; },
  };
}
