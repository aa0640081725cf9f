/**
 * The zero-downtime invariant, enforced before each disruptive step (a drain): from what every
 * node of the cluster reports — online (presence), Ready and cordoned (its own status report,
 * read from Kubernetes) — and what this operation itself did to it, never from the plan alone.
 *
 * A node is OUT when it is offline, not Ready, cordoned (by this operation, an earlier one, or
 * anybody with kubectl), or in the middle of this operation's drain → upgrade → reboot →
 * uncordon. Pure: table-tested in test/unit/domain/availability.test.ts.
 */

export type NodeRole = 'control-plane' | 'worker';

/** What the control plane knows of one node. */
export interface NodeView {
  readonly hostId: string;
  readonly role: NodeRole;
  /** Presence from the broker's lifecycle events. */
  readonly online: boolean;
  /** The node's last status report (undefined: it never reported Kubernetes). */
  readonly report?: {
    readonly ready: boolean;
    readonly cordoned?: boolean;
    /** When the cloud stored the report (epoch ms). */
    readonly storedAt: number;
  };
  /** This operation's latest step on the node (as recorded on the operation). */
  readonly progress?: { readonly step?: string; readonly status: string; readonly at?: string };
}

/** Steps of this operation after which a node stays out until its uncordon succeeds. */
const OUT_STEPS: ReadonlySet<string> = new Set(['drain', 'cordon', 'upgrade', 'reboot', 'uncordon']);

/** Why a node is out, or undefined when it is available. */
export function whyOut(n: NodeView): string | undefined {
  if (!n.online) return 'offline';
  const p = n.progress;
  if (p?.step && OUT_STEPS.has(p.step)) {
    // The uncordon runs after the node passed its post-boot gate (booted active, target, Ready):
    // once it succeeded the node is back, even if its own next report is still on its way.
    const back = p.step === 'uncordon' && p.status === 'succeeded';
    if (!back) return `being upgraded by this operation (${p.step} ${p.status})`;
    const at = p.at ? Date.parse(p.at) : NaN;
    if (!n.report || Number.isNaN(at) || n.report.storedAt <= at) return undefined;
  }
  if (!n.report) return 'no Kubernetes status reported';
  if (!n.report.ready) return 'not Ready';
  if (n.report.cordoned) return 'cordoned';
  return undefined;
}

export type DrainVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: string; readonly out: readonly { readonly hostId: string; readonly why: string }[] };

export interface DrainCheck {
  /** Every node of the cluster (the subject included). */
  readonly nodes: readonly NodeView[];
  /** The node about to be drained. */
  readonly subject: string;
  /** Nodes that may be out at once, the subject included (the upgrade's maxUnavailable, at least 1). */
  readonly maxUnavailable: number;
}

/**
 * Whether draining `subject` keeps the cluster's availability: at most `maxUnavailable` nodes
 * out (the subject included) and, with 3 or more control-plane nodes, a quorum of them
 * available. A cluster of one node, or a single control-plane node, goes down by its nature:
 * the plan asked for acknowledgement or a window, so the guard does not refuse that.
 */
export function checkDrain(c: DrainCheck): DrainVerdict {
  const subject = c.nodes.find((n) => n.hostId === c.subject);
  if (!subject || c.nodes.length <= 1) return { ok: true };
  const out = c.nodes.filter((n) => n.hostId !== c.subject).map((n) => ({ hostId: n.hostId, role: n.role, why: whyOut(n) }))
    .filter((n): n is { hostId: string; role: NodeRole; why: string } => n.why !== undefined);
  const budget = Math.max(1, c.maxUnavailable);
  const list = out.map((o) => `${o.hostId} ${o.why}`).join(', ');
  if (out.length + 1 > budget) {
    return {
      ok: false, out: out.map(({ hostId, why }) => ({ hostId, why })),
      reason: `draining ${c.subject} would leave ${out.length + 1} of ${c.nodes.length} nodes out (at most ${budget} may be): ${list}. ` +
        'Bring those nodes back (online, Ready, uncordoned) and resume, or raise maxUnavailable',
    };
  }
  const cp = c.nodes.filter((n) => n.role === 'control-plane');
  if (subject.role === 'control-plane' && cp.length >= 3) {
    const quorum = Math.floor(cp.length / 2) + 1;
    const left = cp.length - 1 - out.filter((o) => o.role === 'control-plane').length;
    if (left < quorum) {
      return {
        ok: false, out: out.map(({ hostId, why }) => ({ hostId, why })),
        reason: `draining control-plane node ${c.subject} would leave ${left} of ${cp.length} control-plane nodes available (quorum needs ${quorum}): ${list}. ` +
          'Bring those nodes back and resume',
      };
    }
  }
  return { ok: true };
}

/**
 * The control-plane node a drain or uncordon of `subject` runs from: an online, Ready one that
 * this operation is not working on, in cluster order; undefined when there is none.
 */
export function choosePeer(nodes: readonly NodeView[], subject: string): string | undefined {
  return nodes.find((n) => n.role === 'control-plane' && n.hostId !== subject && whyOut({ ...n, report: n.report ? { ...n.report, cordoned: false } : undefined }) === undefined)?.hostId;
}
