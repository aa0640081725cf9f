/**
 * Host lifecycle as a pure transition function. Presence (online/offline) is deliberately not
 * part of it: a host can be approved and offline, or pending and online.
 */
export type HostStatus = 'pre-registered' | 'pending' | 'approved' | 'rejected' | 'in-cluster' | 'decommissioned';

export type HostEvent =
  /** The device presented a valid token; `autoApprove` comes from the token policy. */
  | { type: 'register'; autoApprove: boolean }
  | { type: 'approve' }
  | { type: 'reject' }
  | { type: 'join-cluster' }
  | { type: 'leave-cluster' }
  | { type: 'decommission' }
  /** A re-installed host with the same UID, allowed by policy. */
  | { type: 'reregister'; autoApprove: boolean };

export type TransitionResult =
  | { ok: true; status: HostStatus }
  | { ok: false; code: string; reason: string };

const refuse = (code: string, reason: string): TransitionResult => ({ ok: false, code, reason });
const to = (status: HostStatus): TransitionResult => ({ ok: true, status });

export function transition(from: HostStatus, event: HostEvent): TransitionResult {
  switch (event.type) {
    case 'register':
      if (from === 'pre-registered') return to('approved');
      if (from === 'pending') return to('pending');
      if (from === 'rejected') return refuse('host-rejected', 'this host was rejected by an operator; delete it before it can register again');
      if (from === 'decommissioned') return refuse('host-decommissioned', 'this host was decommissioned; an operator must delete it before it can register again');
      return refuse('host-already-registered', `this host is already ${from}; re-registration needs a token that allows it`);
    case 'reregister':
      if (from === 'approved' || from === 'pending' || from === 'pre-registered') return to(event.autoApprove || from !== 'pending' ? 'approved' : 'pending');
      if (from === 'in-cluster') return refuse('host-in-cluster', 'the host is a member of a cluster; remove it from the cluster first');
      return transition(from, { type: 'register', autoApprove: event.autoApprove });
    case 'approve':
      if (from === 'pending' || from === 'rejected') return to('approved');
      if (from === 'approved' || from === 'in-cluster') return refuse('host-already-approved', `the host is already ${from}`);
      if (from === 'pre-registered') return refuse('host-not-registered', 'the host has not registered yet; it is approved automatically when it does');
      return refuse('host-decommissioned', 'the host is decommissioned');
    case 'reject':
      if (from === 'pending' || from === 'pre-registered') return to('rejected');
      if (from === 'rejected') return refuse('host-already-rejected', 'the host is already rejected');
      if (from === 'in-cluster') return refuse('host-in-cluster', 'the host is a member of a cluster; remove it from the cluster first');
      return refuse('host-not-pending', `only pending or pre-registered hosts can be rejected; this one is ${from}`);
    case 'join-cluster':
      if (from === 'approved') return to('in-cluster');
      return refuse('host-not-approved', `only approved hosts can join a cluster; this one is ${from}`);
    case 'leave-cluster':
      if (from === 'in-cluster') return to('approved');
      return refuse('host-not-in-cluster', `the host is ${from}, not in a cluster`);
    case 'decommission':
      if (from === 'in-cluster') return refuse('host-in-cluster', 'the host is a member of a cluster; remove it from the cluster first');
      if (from === 'decommissioned') return refuse('host-decommissioned', 'the host is already decommissioned');
      return to('decommissioned');
  }
}

/** Statuses in which DELETE removes the record outright (nothing on the host to clean up). */
export const PURGEABLE: ReadonlySet<HostStatus> = new Set(['pre-registered', 'pending', 'rejected', 'decommissioned']);

/** Statuses in which a host can be claimed by a cluster. */
export const CLAIMABLE: ReadonlySet<HostStatus> = new Set(['approved']);

/**
 * Host id = the UID made safe to be an IoT thing name, a DNS label and a DynamoDB key:
 * lowercase, runs of anything but [a-z0-9] become one "-", no leading or trailing "-".
 */
export function hostIdFromUid(uid: string): string | undefined {
  const id = uid
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 128)
    .replace(/-+$/g, '');
  return id.length > 0 ? id : undefined;
}
