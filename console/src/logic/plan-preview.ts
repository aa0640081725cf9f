/** The upgrade dry run's answer as the plan preview's sentences. Pure. */

interface Step { readonly step: string; readonly on: string }
interface NodePlan { readonly hostId: string; readonly role: string; readonly pool: string; readonly behaviour: string; readonly steps: readonly Step[] }
export interface PreviewInput {
  readonly wouldStart: boolean;
  readonly from: { readonly name: string; readonly version: string };
  readonly to: { readonly name: string; readonly version: string };
  readonly refusal?: { readonly code: string; readonly message: string };
  readonly order: readonly (readonly string[])[];
  readonly plan?: {
    readonly behaviour: string;
    readonly maxUnavailable: number;
    readonly controlPlane: readonly NodePlan[];
    readonly workers: readonly NodePlan[];
    readonly downtime: { readonly expected: boolean; readonly reason?: string; readonly estimatedSeconds?: number };
  };
}

export interface PreviewLines {
  readonly verdict: string;
  readonly summary?: string;
  readonly downtime?: string;
  /** One per node, in the order the nodes go; nodes of one worker batch share its number. */
  readonly steps: readonly { readonly hostId: string; readonly text: string }[];
}

const stepText = (s: Step) => (s.on === 'peer' ? `${s.step} (from a peer)` : s.step);

export function planLines(p: PreviewInput): PreviewLines {
  const move = `${p.from.name}@${p.from.version} → ${p.to.version}`;
  const verdict = p.wouldStart
    ? `Would start now: ${move}.`
    : `Would be refused: ${p.refusal?.message ?? 'see the reason above'}${p.refusal ? ` (${p.refusal.code})` : ''}.${p.plan ? ' Once that is lifted it runs this plan.' : ''}`;
  if (!p.plan) return { verdict, steps: [] };
  const plan = p.plan;
  const byHost = new Map([...plan.controlPlane, ...plan.workers].map((n) => [n.hostId, n]));
  const steps = p.order.flatMap((batch, i) => batch.map((hostId) => {
    const n = byHost.get(hostId);
    const who = n ? (n.role === 'control-plane' ? 'control plane' : `worker pool ${n.pool}`) : 'node';
    const what = n ? `${n.behaviour}: ${n.steps.map(stepText).join(' → ') || 'nothing to do'}` : '';
    return { hostId, text: `${i + 1}. ${hostId} (${who}) ${what}`.trim() };
  }));
  const summary = `${move}: ${plan.behaviour}; control-plane nodes one at a time, then workers ${plan.maxUnavailable} at a time (${steps.length} node${steps.length === 1 ? '' : 's'}).`;
  const d = plan.downtime;
  const downtime = d.expected ? `Downtime expected${d.estimatedSeconds ? ` (about ${Math.round(d.estimatedSeconds / 60)} min)` : ''}: ${d.reason ?? 'the cluster cannot stay available'}.` : 'No downtime: the cluster keeps serving throughout.';
  return { verdict, summary, downtime, steps };
}
