import { randomBytes } from 'node:crypto';
import type { KubeRole } from '../device/kubernetes.js';

/**
 * The Kubernetes API of one simulated fleet, shared by its simulated hosts: each host
 * registers and updates its own node (join, kubelet restarts, reboots, reset), and `kube-node`
 * commands run on any control-plane host act on the named node here. Every change of a node's
 * availability is recorded on a timeline, so tests can check zero-downtime invariants over a
 * whole run: a node is available when registered, Ready, not cordoned and not rebooting.
 */

export interface SimulatedKubeNode {
  readonly name: string;
  readonly role: KubeRole;
  readonly kubeletVersion: string;
  readonly ready: boolean;
  readonly cordoned: boolean;
  readonly rebooting: boolean;
}

export interface AvailabilityEvent {
  /** Milliseconds (the registry's clock, Date.now() by default). */
  readonly at: number;
  readonly node: string;
  readonly available: boolean;
}

export interface SimulatedKubernetesOptions {
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** How long a successful drain (evictions) takes. @default 0 */
  readonly drainDelayMs?: number;
}

interface Entry {
  role: KubeRole;
  kubeletVersion: string;
  /** When the node reports Ready; undefined = never (NotReady until changed). */
  readyAt: number | undefined;
  cordoned: boolean;
  rebooting: boolean;
  registered: boolean;
}

/** base64 PEM data as a kubeconfig carries it. */
export interface ClusterCredentials {
  readonly caData: string;
  readonly clientCertData: string;
  readonly clientKeyData: string;
}

export class SimulatedKubernetes {
  private readonly entries = new Map<string, Entry>();
  private readonly events: AvailabilityEvent[] = [];
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  /** A drain of any node fails with this reason (e.g. a PodDisruptionBudget); the node stays cordoned. */
  drainFailure: string | undefined;
  drainDelayMs: number;

  constructor(o: SimulatedKubernetesOptions = {}) {
    this.now = o.now ?? Date.now;
    this.sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.drainDelayMs = o.drainDelayMs ?? 0;
  }

  private availableAt(e: Entry | undefined, t: number): boolean {
    return !!e && e.registered && !e.rebooting && !e.cordoned && e.readyAt !== undefined && e.readyAt <= t;
  }

  /** Records the node's availability from now on (replacing what was foreseen for the future). */
  private record(name: string, t = this.now()): void {
    for (let i = this.events.length - 1; i >= 0; i--) if (this.events[i]!.node === name && this.events[i]!.at > t) this.events.splice(i, 1);
    const e = this.entries.get(name);
    const push = (at: number, available: boolean) => {
      const last = this.events.filter((x) => x.node === name).at(-1);
      if (!last || last.available !== available) this.events.push({ at, node: name, available });
    };
    push(t, this.availableAt(e, t));
    // Ready later (the kubelet needs time): foreseen now, dropped if anything changes before.
    if (e && e.registered && !e.rebooting && !e.cordoned && e.readyAt !== undefined && e.readyAt > t) push(e.readyAt, true);
  }

  /** `t`: the instant of the change (one clock reading for the change and its record). */
  private update(name: string, change: Partial<Entry>, t = this.now()): boolean {
    const e = this.entries.get(name);
    if (!e) return false;
    Object.assign(e, change);
    this.record(name, t);
    return true;
  }

  /** A host's node joins (or re-joins) the cluster; Ready `readyInMs` from now (undefined = not Ready). */
  private readonly clusterCredentials = new Map<string, ClusterCredentials>();

  /**
   * A cluster's certificate authority and admin client credentials, generated the first time
   * its control plane comes up (random, per cluster: two clusters never share them).
   */
  credentials(clusterId: string): ClusterCredentials {
    let c = this.clusterCredentials.get(clusterId);
    if (!c) {
      const pem = (label: string) => Buffer.from(`-----BEGIN ${label}-----\n${randomBytes(96).toString('base64')}\n-----END ${label}-----\n`).toString('base64');
      c = { caData: pem('CERTIFICATE'), clientCertData: pem('CERTIFICATE'), clientKeyData: pem('EC PRIVATE KEY') };
      this.clusterCredentials.set(clusterId, c);
    }
    return c;
  }

  register(name: string, node: { role: KubeRole; kubeletVersion: string; readyInMs?: number | undefined }): void {
    const old = this.entries.get(name);
    const t = this.now();
    this.entries.set(name, {
      role: node.role, kubeletVersion: node.kubeletVersion, readyAt: node.readyInMs === undefined ? undefined : t + node.readyInMs,
      cordoned: old?.registered ? old.cordoned : false, rebooting: false, registered: true,
    });
    this.record(name, t);
  }

  /** The kubelet (re)started (after a boot too): NotReady, then Ready `readyInMs` later (undefined = stays NotReady). */
  kubeletStarted(name: string, readyInMs: number | undefined, kubeletVersion?: string): boolean {
    const t = this.now();
    return this.update(name, { rebooting: false, readyAt: readyInMs === undefined ? undefined : t + readyInMs, ...(kubeletVersion ? { kubeletVersion } : {}) }, t);
  }

  setRebooting(name: string, rebooting: boolean): boolean {
    return this.update(name, { rebooting });
  }

  /** The node leaves (reset; `kubectl delete node`). */
  remove(name: string): boolean {
    return this.update(name, { registered: false, cordoned: false });
  }

  cordon(name: string): boolean {
    return this.update(name, { cordoned: true });
  }

  uncordon(name: string): boolean {
    return this.update(name, { cordoned: false });
  }

  /** Cordon, then evict: fails with `drainFailure` (the node stays cordoned), else takes `drainDelayMs`. */
  async drain(name: string, timeoutSeconds: number): Promise<void> {
    this.cordon(name);
    if (this.drainFailure) throw new Error(`kubectl drain ${name} did not finish within ${timeoutSeconds}s: ${this.drainFailure}`);
    if (this.drainDelayMs > timeoutSeconds * 1000) throw new Error(`kubectl drain ${name} did not finish within ${timeoutSeconds}s: evictions still running`);
    await this.sleep(this.drainDelayMs);
  }

  node(name: string): SimulatedKubeNode | undefined {
    const e = this.entries.get(name);
    if (!e || !e.registered) return undefined;
    const t = this.now();
    return { name, role: e.role, kubeletVersion: e.kubeletVersion, ready: !e.rebooting && e.readyAt !== undefined && e.readyAt <= t, cordoned: e.cordoned, rebooting: e.rebooting };
  }

  /** The registered nodes, by name. */
  nodes(): SimulatedKubeNode[] {
    return [...this.entries.keys()].sort().map((n) => this.node(n)).filter((n): n is SimulatedKubeNode => !!n);
  }

  /** Every availability change so far (and the foreseen Ready of nodes starting up), by time. */
  get timeline(): readonly AvailabilityEvent[] {
    return [...this.events].sort((a, b) => a.at - b.at);
  }

  /** A registry whose timeline is these events (to check recorded or hand-written timelines). */
  static fromTimeline(events: readonly AvailabilityEvent[]): SimulatedKubernetes {
    const k = new SimulatedKubernetes();
    k.events.push(...events);
    return k;
  }

  /** The nodes unavailable at `t` (of `nodes`, or every node seen so far that was registered by then). */
  unavailableAt(t: number, nodes?: readonly string[]): string[] {
    const state = new Map<string, boolean>();
    for (const e of this.timeline) if (e.at <= t) state.set(e.node, e.available);
    const names = nodes ?? [...state.keys()];
    return names.filter((n) => state.get(n) !== true).sort();
  }

  /**
   * Walks the timeline once: calls `visit` with each node's availability at `from` and after
   * every instant within [from, to] at which something changed (simultaneous changes together).
   */
  private sweep(from: number, to: number, visit: (state: ReadonlyMap<string, boolean>) => void): void {
    const events = this.timeline;
    const state = new Map<string, boolean>();
    let i = 0;
    while (i < events.length && events[i]!.at <= from) state.set(events[i]!.node, events[i++]!.available);
    visit(state);
    while (i < events.length && events[i]!.at <= to) {
      const at = events[i]!.at;
      while (i < events.length && events[i]!.at === at) state.set(events[i]!.node, events[i++]!.available);
      visit(state);
    }
  }

  /**
   * The most nodes unavailable at the same instant within [from, to]. Without `nodes`, a node
   * counts from its first event (a node that has not joined yet is not "out").
   */
  maxConcurrentUnavailable(nodes?: readonly string[], from = -Infinity, to = Infinity): number {
    let max = 0;
    this.sweep(from, to, (state) => {
      let out = 0;
      for (const [node, available] of state) if (!available && (!nodes || nodes.includes(node))) out++;
      max = Math.max(max, out);
    });
    return max;
  }

  /** The fewest of `nodes` available at the same instant within [from, to] (a node not joined yet counts as unavailable). */
  minAvailable(nodes: readonly string[], from: number, to: number): number {
    let min = nodes.length;
    this.sweep(from, to, (state) => {
      min = Math.min(min, nodes.filter((n) => state.get(n) === true).length);
    });
    return min;
  }
}
