import type { AgentState } from '../../../device/features/feature.js';
import { census, placeOf, snapshotOf, type AgentSnapshot, type CensusPlace } from '../../../simulator/agent-census.js';

const agent = (s: Partial<AgentSnapshot> & Pick<AgentSnapshot, 'phase'>): AgentSnapshot => ({ uid: 'sim-1', registrationRetries: 0, mqttRetries: 0, ...s });
const cpOnline = new Set(['sim-1']);

describe('agent census: where one agent is', () => {
  it.each<[string, AgentSnapshot, CensusPlace]>([
    ['just started', agent({ phase: 'starting' }), 'not-started'],
    ['making its key (registration not begun)', agent({ phase: 'starting', step: 'identity' }), 'not-started'],
    ['registering, before its first request', agent({ phase: 'registering', step: 'identity' }), 'not-started'],
    ['a registration request in flight', agent({ phase: 'registering', step: 'register-request' }), 'registering'],
    ['backing off after a 429', agent({ phase: 'registering', step: 'register-backoff', registrationRetries: 2 }), 'register-backoff'],
    ['pending approval', agent({ phase: 'registering', step: 'awaiting-approval' }), 'awaiting-approval'],
    ['approved, first connect not begun', agent({ phase: 'connecting', hostId: 'sim-1' }), 'registered-not-connecting'],
    ['TLS handshake under way', agent({ phase: 'connecting', step: 'mqtt-connecting', hostId: 'sim-1' }), 'mqtt-connecting'],
    ['backing off after a failed connect', agent({ phase: 'connecting', step: 'mqtt-backoff', hostId: 'sim-1', mqttRetries: 1 }), 'mqtt-backoff'],
    ['lost its session, reconnecting', agent({ phase: 'offline', step: 'mqtt-connecting', hostId: 'sim-1' }), 'mqtt-connecting'],
    ['connected and online in the control plane', agent({ phase: 'online', step: 'connected', hostId: 'sim-1' }), 'online'],
    ['connected, the control plane does not say online yet', agent({ phase: 'online', step: 'connected', hostId: 'sim-2' }), 'connected-not-online'],
    ['rebooting with its session up', agent({ phase: 'rebooting', step: 'connected', hostId: 'sim-1' }), 'online'],
    ['refused', agent({ phase: 'refused' }), 'gave-up'],
    ['failed', agent({ phase: 'failed' }), 'gave-up'],
    ['stopped', agent({ phase: 'stopped' }), 'stopped'],
  ])('%s', (_name, a, place) => {
    expect(placeOf(a, cpOnline)).toBe(place);
  });

  it('counts an agent online by its own view when the control plane was not asked', () => {
    expect(placeOf(agent({ phase: 'online', step: 'connected', hostId: 'sim-9' }))).toBe('online');
  });
});

describe('agent census: the fleet by count', () => {
  it('counts every place (0 included) and the retries of the agents that retried', () => {
    const c = census([
      agent({ uid: 'a', phase: 'registering', step: 'register-backoff', registrationRetries: 3 }),
      agent({ uid: 'b', phase: 'registering', step: 'register-request', registrationRetries: 1 }),
      agent({ uid: 'c', phase: 'online', step: 'connected', hostId: 'c', mqttRetries: 2, registrationRetries: 1 }),
      agent({ uid: 'd', phase: 'online', step: 'connected', hostId: 'd' }),
      agent({ uid: 'e', phase: 'connecting', step: 'mqtt-connecting', hostId: 'e' }),
    ], new Set(['c']));
    expect(c.agents).toBe(5);
    expect(c.places).toEqual({
      'not-started': 0, registering: 1, 'register-backoff': 1, 'awaiting-approval': 0, 'registered-not-connecting': 0,
      'mqtt-connecting': 1, 'mqtt-backoff': 0, 'connected-not-online': 1, online: 1, 'gave-up': 0, stopped: 0,
    });
    expect(c.registrationRetries).toEqual({ agents: 3, total: 5, max: 3 });
    expect(c.mqttRetries).toEqual({ agents: 1, total: 2, max: 2 });
  });

  it('sums every agent\'s failed attempts by kind of reason, most frequent first', () => {
    const c = census([
      agent({ uid: 'a', phase: 'online', mqttRetries: 3, retryReasons: { 'mqtt: AWS_IO_TLS_NEGOTIATION_TIMEOUT': 2, 'mqtt: AWS_IO_SOCKET_TIMEOUT': 1 } }),
      agent({ uid: 'b', phase: 'online', mqttRetries: 2, registrationRetries: 1, retryReasons: { 'mqtt: AWS_IO_TLS_NEGOTIATION_TIMEOUT': 2, 'registration: the control plane answered #': 1 } }),
      agent({ uid: 'c', phase: 'online' }),
    ]);
    expect(c.retryReasons).toEqual({ 'mqtt: AWS_IO_TLS_NEGOTIATION_TIMEOUT': 4, 'mqtt: AWS_IO_SOCKET_TIMEOUT': 1, 'registration: the control plane answered #': 1 });
    expect(Object.keys(c.retryReasons)[0]).toBe('mqtt: AWS_IO_TLS_NEGOTIATION_TIMEOUT');
  });

  it('an empty fleet has no agent anywhere and no retries', () => {
    const c = census([]);
    expect(Object.values(c.places).every((n) => n === 0)).toBe(true);
    expect(c.registrationRetries).toEqual({ agents: 0, total: 0, max: 0 });
    expect(c.retryReasons).toEqual({});
  });

  it('snapshots an agent state without its counters as 0 retries', () => {
    const s: AgentState = { phase: 'registering', step: 'register-backoff', commandsRun: 0, statusSent: 0 };
    expect(snapshotOf('sim-3', s)).toEqual({ uid: 'sim-3', phase: 'registering', step: 'register-backoff', registrationRetries: 0, mqttRetries: 0 });
  });

  it('snapshots the retry reasons as a copy (the agent keeps counting)', () => {
    const s: AgentState = { phase: 'connecting', commandsRun: 0, statusSent: 0, mqttRetries: 1, retryReasons: { 'mqtt: AWS_IO_SOCKET_TIMEOUT': 1 } };
    const snap = snapshotOf('sim-4', s);
    s.retryReasons!['mqtt: AWS_IO_SOCKET_TIMEOUT'] = 2;
    expect(snap.retryReasons).toEqual({ 'mqtt: AWS_IO_SOCKET_TIMEOUT': 1 });
  });
});
