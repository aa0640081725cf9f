import { hostStatus as hostStatusSchema } from '../../../lambdas/contracts/api.js';
import { hostId as hostIdSchema } from '../../../lambdas/contracts/common.js';
import {
  CLAIMABLE, PURGEABLE, hostIdFromUid, transition, type HostEvent, type HostStatus,
} from '../../../lambdas/domain/host-lifecycle.js';

const STATUSES: readonly HostStatus[] = ['pre-registered', 'pending', 'approved', 'rejected', 'in-cluster', 'decommissioned'];

const EVENTS = {
  'register': { type: 'register', autoApprove: false },
  'register(auto)': { type: 'register', autoApprove: true },
  'reregister': { type: 'reregister', autoApprove: false },
  'reregister(auto)': { type: 'reregister', autoApprove: true },
  'approve': { type: 'approve' },
  'reject': { type: 'reject' },
  'join-cluster': { type: 'join-cluster' },
  'leave-cluster': { type: 'leave-cluster' },
  'decommission': { type: 'decommission' },
} as const satisfies Record<string, HostEvent>;
type EventName = keyof typeof EVENTS;

/** `→ status` = allowed; `✗ code` = refused with that stable code. */
type Outcome = `→ ${HostStatus}` | `✗ ${string}`;

// The whole state machine, written out by hand: one row per status, one column per event.
const TABLE: Record<HostStatus, Record<EventName, Outcome>> = {
  'pre-registered': {
    'register': '→ approved', 'register(auto)': '→ approved',
    'reregister': '→ approved', 'reregister(auto)': '→ approved',
    'approve': '✗ host-not-registered', 'reject': '→ rejected',
    'join-cluster': '✗ host-not-approved', 'leave-cluster': '✗ host-not-in-cluster',
    'decommission': '→ decommissioned',
  },
  'pending': {
    'register': '→ pending', 'register(auto)': '→ pending',
    'reregister': '→ pending', 'reregister(auto)': '→ approved',
    'approve': '→ approved', 'reject': '→ rejected',
    'join-cluster': '✗ host-not-approved', 'leave-cluster': '✗ host-not-in-cluster',
    'decommission': '→ decommissioned',
  },
  'approved': {
    'register': '✗ host-already-registered', 'register(auto)': '✗ host-already-registered',
    'reregister': '→ approved', 'reregister(auto)': '→ approved',
    'approve': '✗ host-already-approved', 'reject': '✗ host-not-pending',
    'join-cluster': '→ in-cluster', 'leave-cluster': '✗ host-not-in-cluster',
    'decommission': '→ decommissioned',
  },
  'rejected': {
    'register': '✗ host-rejected', 'register(auto)': '✗ host-rejected',
    'reregister': '✗ host-rejected', 'reregister(auto)': '✗ host-rejected',
    'approve': '→ approved', 'reject': '✗ host-already-rejected',
    'join-cluster': '✗ host-not-approved', 'leave-cluster': '✗ host-not-in-cluster',
    'decommission': '→ decommissioned',
  },
  'in-cluster': {
    'register': '✗ host-already-registered', 'register(auto)': '✗ host-already-registered',
    'reregister': '✗ host-in-cluster', 'reregister(auto)': '✗ host-in-cluster',
    'approve': '✗ host-already-approved', 'reject': '✗ host-in-cluster',
    'join-cluster': '✗ host-not-approved', 'leave-cluster': '→ approved',
    'decommission': '✗ host-in-cluster',
  },
  'decommissioned': {
    'register': '✗ host-decommissioned', 'register(auto)': '✗ host-decommissioned',
    'reregister': '✗ host-decommissioned', 'reregister(auto)': '✗ host-decommissioned',
    'approve': '✗ host-decommissioned', 'reject': '✗ host-not-pending',
    'join-cluster': '✗ host-not-approved', 'leave-cluster': '✗ host-not-in-cluster',
    'decommission': '✗ host-decommissioned',
  },
};

const CASES = STATUSES.flatMap((from) =>
  (Object.keys(EVENTS) as EventName[]).map((event) => [from, event, TABLE[from][event]] as const));

describe('host lifecycle transition()', () => {
  it('the table covers every status of the wire contract and every event', () => {
    expect([...STATUSES].sort()).toEqual([...hostStatusSchema.options].sort());
    expect(CASES).toHaveLength(STATUSES.length * Object.keys(EVENTS).length);
  });

  it.each(CASES)('%s + %s ⇒ %s', (from, event, outcome) => {
    const result = transition(from, EVENTS[event]);
    if (outcome.startsWith('→ ')) {
      expect(result).toEqual({ ok: true, status: outcome.slice(2) });
    } else {
      expect(result).toEqual({ ok: false, code: outcome.slice(2), reason: expect.any(String) });
      if (!result.ok) expect(result.reason.length).toBeGreaterThan(10);
    }
  });

  it.each([
    ['rejected', 'register', /rejected/],
    ['decommissioned', 'register', /decommissioned/],
    ['in-cluster', 'decommission', /remove it from the cluster/],
    ['approved', 'reject', /approved/],
    ['pending', 'join-cluster', /pending/],
  ] as const)('a refusal of %s + %s explains itself (%p)', (from, event, reason) => {
    const result = transition(from, EVENTS[event]);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });

  it('purgeable and claimable statuses', () => {
    expect([...PURGEABLE].sort()).toEqual(['decommissioned', 'pending', 'pre-registered', 'rejected']);
    expect([...CLAIMABLE]).toEqual(['approved']);
    // A host that holds cluster state is never deleted outright.
    expect(PURGEABLE.has('in-cluster')).toBe(false);
    expect(PURGEABLE.has('approved')).toBe(false);
  });
});

describe('hostIdFromUid()', () => {
  it.each([
    ['lowercases', 'ABC-123', 'abc-123'],
    ['keeps a clean id', 'edge-001', 'edge-001'],
    ['MAC address', 'AA:BB:CC:DD:EE:FF', 'aa-bb-cc-dd-ee-ff'],
    ['DMI serial with dots and slashes', 'Dell/SVC.TAG_7XK', 'dell-svc-tag-7xk'],
    ['collapses punctuation runs', 'a::__--..b', 'a-b'],
    ['collapses whitespace runs', 'a \t\n b', 'a-b'],
    ['strips leading junk', '--__::abc', 'abc'],
    ['strips trailing junk', 'abc!!--', 'abc'],
    ['strips both ends', '  {abc}  ', 'abc'],
    ['keeps inner digits', '0-0', '0-0'],
    ['non-ASCII letters become separators', 'Ünïcödé-1', 'n-c-d-1'],
    ['emoji become separators', 'host🚀01', 'host-01'],
    ['full-width digits are not ASCII digits', 'ｈｏｓｔ１2', '2'],
    ['caps at 128 characters', 'a'.repeat(200), 'a'.repeat(128)],
    ['exactly 128 stays', 'b'.repeat(128), 'b'.repeat(128)],
    ['no trailing "-" after the cap', `${'a'.repeat(127)}:z`, 'a'.repeat(127)],
    ['cap counts the sanitized id, not the raw uid', `${'-'.repeat(50)}${'c'.repeat(128)}`, 'c'.repeat(128)],
  ])('%s', (_label, uid, expected) => {
    expect(hostIdFromUid(uid)).toBe(expected);
  });

  it.each([
    ['empty', ''],
    ['only punctuation', '::--__'],
    ['only spaces', '   '],
    ['only non-ASCII', 'ÄÖÜ'],
    ['only emoji', '🚀🚀'],
  ])('%s → undefined', (_label, uid) => {
    expect(hostIdFromUid(uid)).toBeUndefined();
  });

  it.each([
    ['MAC address', 'AA:BB:CC:DD:EE:FF'], ['serial', 'Dell/SVC.TAG_7XK'], ['braces and spaces', '  {abc}  '],
    ['cap on a separator', `${'a'.repeat(127)}:z`], ['500 characters', 'x'.repeat(500)], ['unicode', 'Ünïcödé-1'],
    ['one digit', '9'], ['dashes around', '-a-'], ['underscores', 'A_B_C'], ['long with dashes', 'ab-'.repeat(60)],
  ])('%s: yields a valid host id (contract schema) and is idempotent', (_label, uid) => {
    const id = hostIdFromUid(uid)!;
    expect(hostIdSchema.safeParse(id).success).toBe(true);
    expect(id.length).toBeLessThanOrEqual(128);
    expect(hostIdFromUid(id)).toBe(id);
  });
});
