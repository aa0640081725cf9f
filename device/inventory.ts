import { readdir, readFile } from 'node:fs/promises';
import { arch, cpus, networkInterfaces, release, totalmem, type, type NetworkInterfaceInfo } from 'node:os';
import type { Inventory } from '../lambdas/contracts/device.js';
import type { NicAddresses } from '../lambdas/contracts/packs.js';
import type { KairosState } from './kairos.js';
import { AGENT_VERSION } from './version.js';

/** Block devices from /sys/block (whole disks only: no loop, ram or device-mapper devices). */
async function disks(): Promise<Inventory['disks']> {
  try {
    const out: Array<{ name: string; sizeGb: number }> = [];
    for (const name of (await readdir('/sys/block')).slice(0, 64)) {
      if (/^(loop|ram|dm-|zram|sr|fd)/.test(name)) continue;
      const sectors = Number((await readFile(`/sys/block/${name}/size`, 'utf8').catch(() => '0')).trim());
      if (sectors > 0) out.push({ name: name.slice(0, 64), sizeGb: Math.round((sectors * 512) / 1e9) });
    }
    return out;
  } catch {
    return [];
  }
}

/** What `os.networkInterfaces()` returns (a simulated host supplies its own). */
export type NetworkInterfaces = NodeJS.Dict<NetworkInterfaceInfo[]>;

/** Link-local addresses (169.254.0.0/16, fe80::/10) are never a way to reach the host from elsewhere. */
const linkLocal = (a: NetworkInterfaceInfo) => (a.family === 'IPv4' ? a.address.startsWith('169.254.') : /^fe[89ab]/i.test(a.address));

/**
 * The host's IP addresses per interface: loopback (internal) and link-local addresses left out,
 * no prefix length or IPv6 zone; interfaces without an address left out. At most 16 per NIC.
 */
export function nicAddresses(interfaces: NetworkInterfaces = networkInterfaces()): NicAddresses[] {
  const out: NicAddresses[] = [];
  for (const [name, addrs] of Object.entries(interfaces)) {
    const ips = [...new Set((addrs ?? []).filter((a) => !a.internal && !linkLocal(a)).map((a) => a.address.split('%')[0]!))].slice(0, 16);
    if (ips.length > 0) out.push({ name: name.slice(0, 32), ips });
  }
  return out.slice(0, 64);
}

function nics(interfaces: NetworkInterfaces): Inventory['nics'] {
  const seen = new Map<string, string>();
  for (const [name, addrs] of Object.entries(interfaces)) {
    for (const a of addrs ?? []) {
      if (a.internal || a.mac === '00:00:00:00:00:00' || seen.has(name)) continue;
      seen.set(name, a.mac);
    }
  }
  const ips = new Map(nicAddresses(interfaces).map((n) => [n.name, n.ips]));
  return [...seen].slice(0, 64).map(([name, mac]) => ({ name: name.slice(0, 32), mac, ...(ips.get(name.slice(0, 32)) ? { ips: ips.get(name.slice(0, 32))! } : {}) }));
}

/** The host's hardware, as the inventory reports it. */
export type Hardware = Pick<Inventory, 'arch' | 'cpus' | 'memoryMb' | 'disks'>;

/** This machine's hardware (CPUs, memory, whole disks from /sys/block). */
export async function machineHardware(): Promise<Hardware> {
  return {
    arch: arch() === 'arm64' ? 'arm64' : 'amd64',
    cpus: Math.max(1, cpus().length),
    memoryMb: Math.max(1, Math.round(totalmem() / 1024 / 1024)),
    disks: await disks(),
  };
}

/** What this host is, in the contract's shape: its hardware (this machine's by default), NICs, OS and agent. */
export async function collectInventory(state?: KairosState, interfaces: NetworkInterfaces = networkInterfaces(), hardware: () => Promise<Hardware> = machineHardware): Promise<Inventory> {
  return {
    ...(await hardware()),
    nics: nics(interfaces),
    os: { name: (state?.flavor ?? type()).slice(0, 64), version: (state?.osRelease ?? release()).slice(0, 64) },
    ...(state?.kairosVersion ? { kairos: { version: state.kairosVersion, flavor: state.flavor ?? 'unknown' } } : {}),
    agentVersion: AGENT_VERSION,
  };
}
