import { isControlPlane, LAYOUTS, NODE_INFO_PATH, serviceFor, type Distribution, type KubeRole } from '../kubernetes.js';

/**
 * What a diagnostics bundle holds, as a pure plan from what the host is: every item is an
 * allow-listed program with its argv (never a shell), a file read, or a TCP connect.
 */

export type DiagnosticItem =
  | { readonly kind: 'run'; readonly file: string; readonly program: string; readonly args: readonly string[]; readonly timeoutMs: number }
  | { readonly kind: 'read'; readonly file: string; readonly path: string }
  | { readonly kind: 'tcp'; readonly file: string; readonly host: string; readonly port: number };

export interface HostFacts {
  /** The Kubernetes distribution and role of this host, when it is a node. */
  readonly distribution?: Distribution;
  readonly role?: KubeRole;
  readonly nodeName?: string;
  /** From node.json: the cluster's control-plane address (API on 6443). */
  readonly controlPlaneAddress?: string;
  /** The registry of the running image (host, port 443 unless it names one). */
  readonly registry?: { readonly host: string; readonly port: number };
}

/** The agent's own systemd unit (device/build.ts writes it). */
export const AGENT_UNIT = 'edgefleet-agent';
export const KAIROS_UNIT = 'kairos-agent';
const RUN_TIMEOUT_MS = 60_000;
const JOURNAL_LINES = 20_000;
export const CONNECT_TIMEOUT_MS = 5_000;

const journal = (unit: string, sinceEpochSeconds: number): DiagnosticItem => ({
  kind: 'run', file: `journal/${unit}.log`, program: 'journalctl',
  // The newest lines of the window, bounded: the runner keeps at most 4 MiB of output.
  args: ['--no-pager', '--utc', '--output=short-iso', `--unit=${unit}`, `--since=@${sinceEpochSeconds}`, `--lines=${JOURNAL_LINES}`], timeoutMs: RUN_TIMEOUT_MS,
});

/** Every item of the bundle, in order. */
export function diagnosticItems(f: HostFacts, sinceEpochSeconds: number): DiagnosticItem[] {
  const items: DiagnosticItem[] = [journal(AGENT_UNIT, sinceEpochSeconds), journal(KAIROS_UNIT, sinceEpochSeconds)];
  if (f.distribution && f.role) items.push(journal(serviceFor(f.distribution, f.role), sinceEpochSeconds));
  items.push(
    { kind: 'run', file: 'kairos/state.txt', program: 'kairos-agent', args: ['state'], timeoutMs: RUN_TIMEOUT_MS },
    { kind: 'read', file: 'kairos/kairos-release', path: '/etc/kairos-release' },
    { kind: 'read', file: 'edgefleet/node.json', path: NODE_INFO_PATH },
    { kind: 'run', file: 'system/df.txt', program: 'df', args: ['-P', '-k'], timeoutMs: RUN_TIMEOUT_MS },
    { kind: 'read', file: 'system/mounts', path: '/proc/mounts' },
    { kind: 'run', file: 'network/ip-addr.txt', program: 'ip', args: ['addr', 'show'], timeoutMs: RUN_TIMEOUT_MS },
    { kind: 'run', file: 'network/ip-route.txt', program: 'ip', args: ['route', 'show'], timeoutMs: RUN_TIMEOUT_MS },
    { kind: 'read', file: 'network/resolv.conf', path: '/etc/resolv.conf' },
  );
  if (f.controlPlaneAddress) items.push({ kind: 'tcp', file: 'network/reach-control-plane.txt', host: f.controlPlaneAddress, port: 6443 });
  if (f.registry) items.push({ kind: 'tcp', file: 'network/reach-registry.txt', host: f.registry.host, port: f.registry.port });
  if (f.distribution && isControlPlane(f.role)) {
    const { kubectl, adminKubeconfig } = LAYOUTS[f.distribution];
    items.push({ kind: 'run', file: 'kubernetes/nodes-pods.txt', program: kubectl, args: ['--kubeconfig', adminKubeconfig, 'get', 'nodes,pods', '-A', '-o', 'wide', '--request-timeout=20s'], timeoutMs: RUN_TIMEOUT_MS });
    if (f.nodeName) items.push({ kind: 'run', file: 'kubernetes/describe-node.txt', program: kubectl, args: ['--kubeconfig', adminKubeconfig, 'describe', 'node', f.nodeName, '--request-timeout=20s'], timeoutMs: RUN_TIMEOUT_MS });
  }
  return items;
}

/** How an item is shown in the manifest: the argv, the file read, or the connect. */
export function describeItem(i: DiagnosticItem): string {
  if (i.kind === 'run') return [i.program, ...i.args].join(' ');
  if (i.kind === 'read') return `read ${i.path}`;
  return `tcp-connect ${i.host}:${i.port}`;
}

/** The registry host and port of an image reference (docker.io when it names none). */
export function registryOf(image: string | undefined): { host: string; port: number } | undefined {
  if (!image) return undefined;
  const first = image.split('/')[0]!;
  const named = image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  const hostPort = named ? first : 'registry-1.docker.io';
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(hostPort);
  if (!m) return undefined;
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: m[2] ? Number(m[2]) : 443 };
}
