import { nextPresence, type PresenceChange, type PresenceState } from '../../../lambdas/domain/presence.js';

const on = (at: number): PresenceChange => ({ eventType: 'connected', at });
const off = (at: number): PresenceChange => ({ eventType: 'disconnected', at });

describe('nextPresence (timestamp guard)', () => {
  it.each<[string, PresenceState | undefined, PresenceChange, 'online' | 'offline' | 'no-op']>([
    ['first event (connected)', undefined, on(10), 'online'],
    ['first event (disconnected)', undefined, off(10), 'offline'],
    ['newer disconnect', { presence: 'online', at: 10 }, off(11), 'offline'],
    ['newer connect', { presence: 'offline', at: 10 }, on(11), 'online'],
    ['duplicate (same time)', { presence: 'online', at: 10 }, on(10), 'no-op'],
    ['same time, other type', { presence: 'online', at: 10 }, off(10), 'no-op'],
    ['older disconnect after a reconnect', { presence: 'online', at: 20 }, off(15), 'no-op'],
    ['older connect', { presence: 'offline', at: 20 }, on(5), 'no-op'],
    ['negative time', undefined, on(-1), 'no-op'],
    ['NaN time', undefined, on(Number.NaN), 'no-op'],
  ])('%s', (_name, stored, event, expected) => {
    const next = nextPresence(stored, event);
    expect(next?.presence ?? 'no-op').toBe(expected);
    if (next) expect(next.at).toBe(event.at);
  });

  it('converges: every delivery order of the same events ends in the same state', () => {
    const events = [on(1), off(2), on(3), off(4), on(5), on(5), off(3)];
    const permutations = (xs: PresenceChange[]): PresenceChange[][] =>
      xs.length <= 1 ? [xs] : xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
    const finals = new Set(permutations(events).map((order) =>
      JSON.stringify(order.reduce<PresenceState | undefined>((s, e) => nextPresence(s, e) ?? s, undefined))));
    expect([...finals]).toEqual([JSON.stringify({ presence: 'online', at: 5 })]);
  });
});
