import {
  decideTurn, MAX_ADMISSION_RETRY_SECONDS, nextTurn, TURN_KEPT_SECONDS, turnEarlyMs, turnsAhead, turnSpacingMs, usableTurn,
} from '../../../lambdas/domain/admission.js';

const T0 = Date.parse('2026-12-03T12:00:00.000Z');

describe('nextTurn: the admission clock', () => {
  it.each<[string, number | undefined, number, { turnMs: number; clockMs: number }]>([
    ['never used: the turn is now', undefined, T0, { turnMs: T0, clockMs: T0 + 100 }],
    ['ahead of now: the clock\'s instant, one step on', T0 + 5000, T0, { turnMs: T0 + 5000, clockMs: T0 + 5100 }],
    ['exactly now', T0, T0, { turnMs: T0, clockMs: T0 + 100 }],
    ['fallen behind (nobody asked): now, unused turns are not saved up', T0 - 60_000, T0, { turnMs: T0, clockMs: T0 + 100 }],
  ])('%s', (_what, clock, now, expected) => {
    expect(nextTurn(clock, now, turnSpacingMs(10))).toEqual(expected);
  });

  it('a storm: n requests in the same instant get n turns one step apart, in order', () => {
    let clock: number | undefined;
    const turns = Array.from({ length: 25 }, () => {
      const t = nextTurn(clock, T0, turnSpacingMs(10));
      clock = t.clockMs;
      return t.turnMs - T0;
    });
    expect(turns).toEqual(Array.from({ length: 25 }, (_, i) => i * 100));
  });
});

describe('decideTurn', () => {
  it.each<[string, number, number, ReturnType<typeof decideTurn>]>([
    ['due now', T0, 0, { admitted: true }],
    ['past', T0 - 1, 0, { admitted: true }],
    ['1 ms ahead: back in a second (whole seconds, never early)', T0 + 1, 0, { admitted: false, retryAfterSeconds: 1, waitMs: 1 }],
    ['exactly a second ahead', T0 + 1000, 0, { admitted: false, retryAfterSeconds: 1, waitMs: 1000 }],
    ['just over a second ahead', T0 + 1001, 0, { admitted: false, retryAfterSeconds: 2, waitMs: 1001 }],
    ['within the early allowance: due', T0 + 900, 900, { admitted: true }],
    ['just past it', T0 + 901, 900, { admitted: false, retryAfterSeconds: 1, waitMs: 1 }],
    ['2.5 s ahead with 900 ms early: back in 2 s', T0 + 2500, 900, { admitted: false, retryAfterSeconds: 2, waitMs: 1600 }],
    ['an hour ahead: capped, it comes back and is told again', T0 + 3_600_000, 900, { admitted: false, retryAfterSeconds: MAX_ADMISSION_RETRY_SECONDS, waitMs: 3_599_100 }],
  ])('%s', (_what, turn, early, expected) => {
    expect(decideTurn(turn, T0, early)).toEqual(expected);
  });

  it.each([[1, 0], [2, 500], [10, 900], [100, 990]])('at %i a second, a turn may be used %i ms early: one second\'s worth at once', (perSecond, early) => {
    expect(turnEarlyMs(perSecond)).toBeCloseTo(early, 9);
    // From an idle clock, exactly perSecond requests in one instant are admitted; the next is not.
    let clock: number | undefined;
    const admitted = Array.from({ length: perSecond + 1 }, () => {
      const t = nextTurn(clock, T0, turnSpacingMs(perSecond));
      clock = t.clockMs;
      return decideTurn(t.turnMs, T0, turnEarlyMs(perSecond)).admitted;
    });
    expect(admitted.filter(Boolean)).toHaveLength(perSecond);
    expect(admitted.at(-1)).toBe(false);
  });
});

describe('usableTurn', () => {
  it.each<[string, { turnMs: number; used: boolean } | undefined, number | undefined]>([
    ['none held', undefined, undefined],
    ['held, ahead', { turnMs: T0 + 9000, used: false }, T0 + 9000],
    ['held, due', { turnMs: T0 - 1500, used: false }, T0 - 1500],
    ['used: the next registration takes a new one', { turnMs: T0 - 1500, used: true }, undefined],
    ['kept to the end of its time', { turnMs: T0 - TURN_KEPT_SECONDS * 1000, used: false }, T0 - TURN_KEPT_SECONDS * 1000],
    ['stale: takes a new one', { turnMs: T0 - TURN_KEPT_SECONDS * 1000 - 1, used: false }, undefined],
  ])('%s', (_what, held, expected) => {
    expect(usableTurn(held, T0)).toBe(expected);
  });
});

it('turnsAhead counts the hosts waiting between now and a turn', () => {
  expect(turnsAhead(2550, 100)).toBe(25);
  expect(turnsAhead(2500, 100)).toBe(24);
  expect(turnsAhead(100, 100)).toBe(0);
  expect(turnsAhead(1, 100)).toBe(0);
  expect(turnSpacingMs(3)).toBeCloseTo(333.333, 3);
});
