import { readdir, readFile } from 'node:fs/promises';
import { arch, cpus, networkInterfaces, release, totalmem, type } from 'node:os';
import type { Inventory } from '../lambdas/contracts/device.js';
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

function nics(): Inventory['nics'] {
  const seen = new Map<string, string>();
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.internal || a.mac === '00:00:00:00:00:00' || seen.has(name)) continue;
      seen.set(name, a.mac);
    }
  }
  return [...seen].slice(0, 64).map(([name, mac]) => ({ name: name.slice(0, 32), mac }));
}

/** What this machine is, in the contract's shape. */
export async function collectInventory(state?: KairosState): Promise<Inventory> {
  const a = arch();
  return {
    arch: a === 'arm64' ? 'arm64' : 'amd64',
    cpus: Math.max(1, cpus().length),
    memoryMb: Math.max(1, Math.round(totalmem() / 1024 / 1024)),
    disks: await disks(),
    nics: nics(),
    os: { name: (state?.flavor ?? type()).slice(0, 64), version: (state?.osRelease ?? release()).slice(0, 64) },
    ...(state?.kairosVersion ? { kairos: { version: state.kairosVersion, flavor: state.flavor ?? 'unknown' } } : {}),
    agentVersion: AGENT_VERSION,
  };
}
