import type { StatusMessage } from '../lambdas/contracts/mqtt.js';
import type { Inventory } from '../lambdas/contracts/device.js';
import type { NicAddresses, PackStatus } from '../lambdas/contracts/packs.js';
import type { KairosState, PartitionImage } from './kairos.js';
import { AGENT_VERSION } from './version.js';

/**
 * The decisions of status reporting, as pure functions: what counts as a change, which report
 * is due, the sequence number and the message itself. The status reporter feature
 * (features/status-reporter.ts) does the reading, the timing and the sending.
 */

/** What a status message compares to decide whether anything changed (the host's addresses too). */
export function fingerprint(s: KairosState, addresses?: readonly NicAddresses[]): string {
  return JSON.stringify([s.boot, s.kairosVersion, s.osRelease, s.image, s.digest, s.flavor, s.partitions, s.kubernetes?.ready, s.kubernetes?.version, s.kubernetes?.role, s.kubernetes?.cordoned, addresses ?? null]);
}

/** Which report a periodic check sends: a full one when `fullReportSeconds` passed since the last, else one only on change. */
export function dueReport(nowMs: number, lastFullMs: number, fullReportSeconds: number): 'full' | 'change-only' {
  return nowMs - lastFullMs >= fullReportSeconds * 1000 ? 'full' : 'change-only';
}

/** Strictly increasing, and the time in ms when the clock is ahead of the last one (it survives a restart). */
export function nextSeq(lastSeq: number, nowMs: number): number {
  return Math.max(lastSeq + 1, nowMs);
}

/** The status report's `boot`: booted partition, running image identity and what the partitions hold. */
export function bootReport(s: KairosState): StatusMessage['boot'] {
  const part = (p: PartitionImage | undefined) => (p ? { image: p.image, ...(p.digest ? { digest: p.digest } : {}) } : undefined);
  const active = part(s.partitions?.active);
  const passive = part(s.partitions?.passive);
  return {
    state: s.boot,
    ...(s.kairosVersion ? { kairosVersion: s.kairosVersion } : {}), ...(s.osRelease ? { osRelease: s.osRelease } : {}),
    ...(s.image ? { image: s.image } : {}), ...(s.digest ? { digest: s.digest } : {}), ...(s.flavor ? { flavor: s.flavor.slice(0, 64) } : {}),
    ...(active || passive ? { partitions: { ...(active ? { active } : {}), ...(passive ? { passive } : {}) } } : {}),
  };
}

/** The status message for a host state; a full report carries the inventory; the init node's carries its packs; every report the host's addresses. */
export function statusReport(s: KairosState, r: { kind: 'change' | 'full'; seq: number; at: Date; inventory?: Inventory; packs?: readonly PackStatus[]; addresses?: readonly NicAddresses[]; stateFreeMb?: number; agentVersion?: string }): StatusMessage {
  return {
    seq: r.seq, at: r.at.toISOString(), kind: r.kind,
    boot: bootReport(s),
    agentVersion: r.agentVersion ?? AGENT_VERSION,
    ...(s.kubernetes ? {
      kubernetes: {
        ready: s.kubernetes.ready, ...(s.kubernetes.role ? { role: s.kubernetes.role } : {}), ...(s.kubernetes.version ? { version: s.kubernetes.version } : {}),
        ...(s.kubernetes.cordoned !== undefined ? { cordoned: s.kubernetes.cordoned } : {}),
      },
    } : {}),
    ...(r.kind === 'full' && r.inventory ? { inventory: r.inventory } : {}),
    ...(r.addresses ? { addresses: r.addresses.map((n) => ({ name: n.name, ips: [...n.ips] })) } : {}),
    ...(r.packs ? { packs: r.packs.slice(0, 64) } : {}),
    ...(r.stateFreeMb !== undefined ? { storage: { stateFreeMb: r.stateFreeMb } } : {}),
  };
}
