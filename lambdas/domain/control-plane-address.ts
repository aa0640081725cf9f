import type { ClusterRecord } from './model.js';

/**
 * Where the nodes of a cluster reach its Kubernetes API (`control_plane_host` in the Kairos
 * cluster stanza, kubeadm's controlPlaneEndpoint): the VIP when the cluster has one, else the
 * init node's own address as the host reports it — the first IPv4 address of the first network
 * interface that has one, from its latest status report, else from its registration inventory.
 * Once chosen it is stored on the cluster and kept: later joins (scale-out) use the same one.
 */

/** One network interface's addresses, as a status report (`addresses`) or the inventory (`nics`) has them. */
export interface NicIps {
  readonly name: string;
  readonly ips?: readonly string[];
}

export interface InitNodeAddresses {
  readonly hostId: string;
  /** `addresses` of its latest status report. */
  readonly reported?: readonly NicIps[];
  /** `nics` of its registration inventory. */
  readonly inventory?: readonly NicIps[];
}

export type AddressChoice =
  | { readonly ok: true; readonly address: string; readonly source: 'vip' | 'stored' | 'status' | 'inventory' }
  | { readonly ok: false; readonly code: 'no-control-plane-address'; readonly message: string };

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const usable = (ip: string) => IPV4.test(ip) && !ip.startsWith('127.') && !ip.startsWith('169.254.') && ip !== '0.0.0.0';

/** The first usable IPv4 address of the first interface that has one (loopback and link-local never count). */
export function firstIpv4(nics: readonly NicIps[] | undefined): string | undefined {
  for (const nic of nics ?? []) {
    const ip = (nic.ips ?? []).find(usable);
    if (ip) return ip;
  }
  return undefined;
}

/** The cluster's control-plane address, or why there is none (the create is refused before anything is sent). */
export function chooseControlPlaneAddress(cluster: Pick<ClusterRecord, 'name' | 'vip' | 'controlPlaneAddress'>, init: InitNodeAddresses | undefined): AddressChoice {
  if (cluster.vip) return { ok: true, address: cluster.vip, source: 'vip' };
  if (cluster.controlPlaneAddress) return { ok: true, address: cluster.controlPlaneAddress, source: 'stored' };
  const fromStatus = firstIpv4(init?.reported);
  if (fromStatus) return { ok: true, address: fromStatus, source: 'status' };
  const fromInventory = firstIpv4(init?.inventory);
  if (fromInventory) return { ok: true, address: fromInventory, source: 'inventory' };
  const who = init ? `its init host ${init.hostId}` : 'it has no control-plane host and';
  return {
    ok: false, code: 'no-control-plane-address',
    message: `cluster ${cluster.name} has no VIP and ${who} reports no IPv4 address, so the other nodes would have nowhere to join: ` +
      'check the host\'s network (its agent reports its addresses with every status change), or create the cluster with a vip',
  };
}
