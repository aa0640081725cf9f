/**
 * Agent-update rollouts (issue 16 Build 5): the pure decisions that let the fleet rollout
 * machinery (rollout.ts, rollout-rules.ts) update hosts' agents instead of upgrading clusters:
 * which hosts a selector takes, whether a host target starts now, and how its per-host
 * `agent-update` operation settles the target. Table-tested in test/unit/domain/agent-rollout.test.ts.
 */
import type { HostStatus } from './host-lifecycle.js';
import type { OperationStatus } from './model.js';
import { settle, type Settlement, type StartVerdict, type TargetWords } from './rollout.js';

/** Hosts that run commands, so can update their agent ("approved hosts": approved, or approved and in a cluster). */
export const UPDATABLE_HOST_STATUSES: readonly HostStatus[] = ['approved', 'in-cluster'];

/** The `to.name` of an agent-update rollout (the agent is not a profile; the version is the agent's). */
export const AGENT_PROFILE_NAME = 'edgefleet-agent';

export const HOST_WORDS: TargetWords = { targets: 'hosts', done: 'updated', verified: 'updated and reporting the new agent version' };

/** A host selector of an agent-update rollout: a site (or a prefix ending in `*`) and/or tags; `all` takes every updatable host. */
export interface HostSelector {
  readonly site?: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly all?: boolean;
}

export interface SelectableHost {
  readonly status: HostStatus;
  readonly site?: string;
  readonly tags?: Readonly<Record<string, string>>;
}

/** Whether a host is a target of a selector: updatable, at the site (prefix), with every tag. */
export function selectsHost(sel: HostSelector, h: SelectableHost): boolean {
  if (!UPDATABLE_HOST_STATUSES.includes(h.status)) return false;
  if (sel.all) return true;
  if (sel.site !== undefined) {
    if (h.site === undefined) return false;
    if (sel.site.endsWith('*') ? !h.site.startsWith(sel.site.slice(0, -1)) : h.site !== sel.site) return false;
  }
  return Object.entries(sel.tags ?? {}).every(([k, v]) => h.tags?.[k] === v);
}

/** What a target host is like when the rollout wants to start its agent update. */
export interface HostFacts {
  /** false: deleted, or not of the rollout's project. */
  readonly exists: boolean;
  readonly status?: HostStatus;
  readonly presence?: 'online' | 'offline';
  /** The agent version the host last reported. */
  readonly reportedVersion?: string;
  /** An agent update of this host that is still open (another rollout's, or one started by hand). */
  readonly openAgentUpdateId?: string;
  /** Outside its maintenance window: when it opens. */
  readonly windowOpensAt?: Date;
}

/**
 * Whether to start a host's agent update now: a deleted or no longer approved host is skipped;
 * one already reporting the version is done (succeeded, "skipped: already at"); one offline or
 * already updating is deferred (never blocks a wave); one outside its window waits; else start.
 */
export function hostStartVerdict(h: HostFacts, version: string): StartVerdict {
  if (!h.exists) return { kind: 'skipped', reason: 'the host was deleted' };
  if (h.status === undefined || !UPDATABLE_HOST_STATUSES.includes(h.status)) {
    return { kind: 'skipped', reason: `the host is ${h.status ?? 'unknown'}: only an approved host runs commands` };
  }
  if (h.reportedVersion === version && !h.openAgentUpdateId) return { kind: 'succeeded', reason: `skipped: already at agent ${version}` };
  if (h.openAgentUpdateId) return { kind: 'deferred', reason: `busy: agent update ${h.openAgentUpdateId} is running on it` };
  if (h.presence !== 'online') return { kind: 'deferred', reason: 'offline: the host must be online to update its agent and report the new version' };
  if (h.windowOpensAt) return { kind: 'waiting', reason: `outside its maintenance window (opens ${h.windowOpensAt.toISOString()})`, until: h.windowOpensAt };
  return { kind: 'start' };
}

/** A running host target's agent-update operation as last read (undefined: it is gone). */
export interface AgentUpdateOpFacts {
  readonly status: OperationStatus;
  readonly reason?: string;
  readonly updatedAt: string;
}

/**
 * Whether a running host target is done: succeeded only when its operation succeeded (the host
 * reported the new version); failed with the operation's reason (e.g. the new agent did not come
 * back and the host fell back); running otherwise.
 */
export function settleHostTarget(op: AgentUpdateOpFacts | undefined, now: Date): Settlement {
  return settle(op, now, 'agent update');
}

/** What an agent-update error (a race the verdict did not see) makes of a claimed target. */
export type RefusalOutcome = 'deferred' | 'succeeded' | 'skipped' | 'failed';

/** The refusal codes of decideAgentUpdate (agent-update.ts) mapped onto target states. */
export function hostRefusalOutcome(code: string): RefusalOutcome {
  if (code === 'host-offline' || code === 'agent-update-running') return 'deferred';
  if (code === 'agent-already-at-version') return 'succeeded';
  if (code === 'host-not-approved' || code === 'host-not-found') return 'skipped';
  return 'failed';
}
