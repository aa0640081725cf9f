import { AllowListRunner, CommandFailed, type CommandRunner, type RunResult } from '../device/command-runner.js';
import type { DiagnosticsSource } from '../device/diagnostics/collect.js';
import { registryOf, type HostFacts } from '../device/diagnostics/plan.js';
import { DIAGNOSTIC_FILES } from '../device/diagnostics/host-source.js';
import type { KairosState } from '../device/kairos.js';
import { isControlPlane, LAYOUTS, NODE_INFO_PATH, type Distribution, type KubeRole } from '../device/kubernetes.js';
import type { NetworkInterfaces } from '../device/inventory.js';
import type { SimulatedKubernetes } from './simulated-kubernetes.js';

/** A line of a simulated host's journal (what its services wrote, when). */
export interface JournalEntry {
  readonly at: number;
  readonly unit: string;
  readonly message: string;
}

/** What a simulated host is, read when a collection runs (never a cached or kinder copy). */
export interface SimulatedHostView {
  readonly hostname: string;
  readonly now: () => number;
  readonly journal: () => readonly JournalEntry[];
  readonly state: () => Promise<KairosState>;
  /** The node on this host (role, distribution, name), if any. */
  readonly node: () => { role: KubeRole; distribution: Distribution; nodeName: string } | undefined;
  /** What the node configuration wrote (node.json), by path. */
  readonly files: () => Readonly<Record<string, { content: string }>>;
  readonly interfaces: () => NetworkInterfaces;
  readonly stateFreeMb: () => number;
  readonly kubernetes: SimulatedKubernetes;
  /** Why the registry cannot be reached, if it cannot (the simulated failure). */
  readonly registryUnreachable: () => string | undefined;
}

const fail = (file: string, args: readonly string[], code: number, stderr: string) => new CommandFailed(file, args, code, stderr, false);

/** `journalctl --unit=U --since=@T`: the unit's entries at or after T, or "-- No entries --". */
function journalctl(v: SimulatedHostView, args: readonly string[]): RunResult {
  const unit = args.find((a) => a.startsWith('--unit='))?.slice(7);
  const since = Number(args.find((a) => a.startsWith('--since=@'))?.slice(9) ?? 0) * 1000;
  const lines = v.journal().filter((e) => e.unit === unit && e.at >= since)
    .map((e) => `${new Date(e.at).toISOString().replace(/\.\d{3}Z$/, '+0000')} ${v.hostname} ${unit}[1]: ${e.message}`);
  return { stdout: lines.length ? `${lines.join('\n')}\n` : '-- No entries --\n', stderr: '' };
}

function ipAddr(v: SimulatedHostView): string {
  let n = 1;
  const out = ['1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN', '    inet 127.0.0.1/8 scope host lo'];
  for (const [name, addrs] of Object.entries(v.interfaces())) {
    n += 1;
    out.push(`${n}: ${name}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP`, `    link/ether ${addrs?.[0]?.mac ?? '00:00:00:00:00:00'}`);
    for (const a of addrs ?? []) out.push(`    ${a.family === 'IPv6' ? 'inet6' : 'inet'} ${a.cidr ?? a.address} scope ${a.address.startsWith('fe80') ? 'link' : 'global'} ${name}`);
  }
  return `${out.join('\n')}\n`;
}

function ipRoute(v: SimulatedHostView): string {
  const out: string[] = [];
  for (const [name, addrs] of Object.entries(v.interfaces())) {
    const v4 = (addrs ?? []).find((a) => a.family === 'IPv4');
    if (!v4) continue;
    const [a, b] = v4.address.split('.');
    out.push(`default via ${a}.${b}.0.1 dev ${name} proto dhcp`, `${v4.cidr ?? `${v4.address}/8`} dev ${name} proto kernel scope link src ${v4.address}`);
  }
  return out.length ? `${out.join('\n')}\n` : '';
}

function kubectl(v: SimulatedHostView, file: string, args: readonly string[]): RunResult {
  const node = v.node();
  if (!node || !isControlPlane(node.role)) throw fail(file, args, 1, `error: stat ${args[1] ?? 'kubeconfig'}: no such file or directory`);
  const nodes = v.kubernetes.nodes();
  if (args.includes('get')) {
    const rows = nodes.map((n) => `node/${n.name}   ${n.ready ? 'Ready' : 'NotReady'}${n.cordoned ? ',SchedulingDisabled' : ''}   ${n.role === 'worker' ? '<none>' : 'control-plane'}   ${n.kubeletVersion}`);
    return { stdout: `NAME   STATUS   ROLES   VERSION\n${rows.join('\n')}\n\nNAMESPACE   NAME   READY   STATUS\n`, stderr: '' };
  }
  const name = args[args.indexOf('node') + 1] ?? node.nodeName;
  const n = v.kubernetes.node(name);
  if (!n) throw fail(file, args, 1, `Error from server (NotFound): nodes "${name}" not found`);
  return {
    stdout: `Name:               ${n.name}\nRoles:              ${n.role === 'worker' ? '<none>' : 'control-plane'}\nUnschedulable:      ${n.cordoned}\nConditions:\n  Type    Status\n  Ready   ${n.ready ? 'True' : 'False'}\nSystem Info:\n  Kubelet Version:  ${n.kubeletVersion}\n`,
    stderr: '',
  };
}

/** The simulated host's programs, answering from what the host is (never kinder than the world). */
class SimulatedHostRunner implements CommandRunner {
  constructor(private readonly v: SimulatedHostView) {}

  async run(file: string, args: readonly string[]): Promise<RunResult> {
    const v = this.v;
    if (file === 'journalctl') return journalctl(v, args);
    if (file === 'kairos-agent' && args[0] === 'state') {
      const s = await v.state();
      return {
        stdout: `boot: ${s.boot}_boot\nkairos:\n  version: ${s.kairosVersion ?? ''}\n  flavor: ${s.flavor ?? ''}\nimage: ${s.image ?? ''}\npartitions:\n  active: ${s.partitions?.active?.image ?? ''}\n  passive: ${s.partitions?.passive?.image ?? ''}\n`,
        stderr: '',
      };
    }
    if (file === 'df') {
      const total = 40 * 1024 * 1024;
      const avail = v.stateFreeMb() * 1024;
      return { stdout: `Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/disk/by-label/COS_STATE ${total} ${Math.max(0, total - avail)} ${avail} ${Math.round(100 * (1 - avail / total))}% /run/initramfs/cos-state\n`, stderr: '' };
    }
    if (file === 'ip' && args[0] === 'addr') return { stdout: ipAddr(v), stderr: '' };
    if (file === 'ip' && args[0] === 'route') return { stdout: ipRoute(v), stderr: '' };
    if (file === 'kubectl' || file === LAYOUTS.rke2.kubectl) return kubectl(v, file, args);
    throw fail(file, args, 127, `${file}: command not found on the simulated host`);
  }
}

function releaseFile(s: KairosState): string {
  return [`KAIROS_VERSION="${s.kairosVersion ?? ''}"`, `KAIROS_FLAVOR="${s.flavor ?? ''}"`, `KAIROS_IMAGE_REPO="${s.image ?? ''}"`].join('\n') + '\n';
}

/** The diagnostics source of a simulated host: the same allow-list as a real one. */
export function simulatedDiagnostics(v: SimulatedHostView): DiagnosticsSource {
  const readFile = async (path: string): Promise<string> => {
    if (!DIAGNOSTIC_FILES.includes(path)) throw new Error(`${path} is not a file diagnostics read`);
    if (path === '/etc/kairos-release') return releaseFile(await v.state());
    if (path === '/proc/mounts') return 'overlay / overlay rw 0 0\n/dev/disk/by-label/COS_OEM /oem ext4 rw 0 0\n/dev/disk/by-label/COS_STATE /run/initramfs/cos-state ext4 ro 0 0\n';
    if (path === '/etc/resolv.conf') return 'nameserver 127.0.0.53\noptions edns0 trust-ad\n';
    const f = v.files()[path];
    if (!f) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT' });
    return f.content;
  };
  return {
    runner: new AllowListRunner(new SimulatedHostRunner(v)),
    readFile,
    async connect(host, port) {
      const s = await v.state();
      const registry = registryOf(s.image);
      if (registry && registry.host === host && registry.port === port) {
        const why = v.registryUnreachable();
        if (why) throw new Error(why);
        return;
      }
      // The control-plane address answers when a control-plane node of the shared API is up.
      const up = v.kubernetes.nodes().some((n) => n.role !== 'worker' && n.ready && !n.rebooting);
      if (port === 6443 && up) return;
      throw new Error('ECONNREFUSED');
    },
    async facts(): Promise<HostFacts> {
      const n = v.node();
      const s = await v.state();
      let controlPlaneAddress: string | undefined;
      try {
        const info = JSON.parse(v.files()[NODE_INFO_PATH]?.content ?? '{}') as { controlPlaneAddress?: unknown };
        if (typeof info.controlPlaneAddress === 'string') controlPlaneAddress = info.controlPlaneAddress;
      } catch { /* no node.json: no address */ }
      const registry = registryOf(s.image);
      return { ...(n ? { distribution: n.distribution, role: n.role, nodeName: n.nodeName } : {}), ...(controlPlaneAddress ? { controlPlaneAddress } : {}), ...(registry ? { registry } : {}) };
    },
  };
}

