/**
 * Registration admission: the control plane calls the AWS IoT registry (CreateThing,
 * CreateCertificateFromCsr, AttachPolicy…) at about `perSecond` registrations a second, whatever
 * the storm, and serves hosts in the order they first asked. Each registration that needs the
 * registry takes a turn: the next free instant of one admission clock that moves `1/perSecond`
 * seconds per turn (a virtual-scheduling rate limiter, as GCRA, with a second's worth of burst).
 * A turn that is due is used at once; a turn ahead is kept for the host, which is told to come
 * back when it is due (the agent adds under a second of jitter) and then uses it, without taking
 * another. So a host is refused about once (once more per 300 s its turn lies ahead), not once
 * per crowded second. Pure.
 */

/** A device told to come back later never waits longer than this (it keeps its own backoff cap too). */
export const MAX_ADMISSION_RETRY_SECONDS = 300;

export type AdmissionDecision = { readonly admitted: true } | { readonly admitted: false; readonly retryAfterSeconds: number; readonly waitMs: number };

/** The admission clock's step: one turn every `1000 / perSecond` ms. */
export const turnSpacingMs = (perSecond: number): number => 1000 / perSecond;

/**
 * The turn the next request takes and where the clock moves to: the clock's instant, or now if
 * the clock has fallen behind (nobody asked for a while: unused turns are not saved up), then
 * one step on. `clockMs` undefined: never used.
 */
export function nextTurn(clockMs: number | undefined, nowMs: number, spacingMs: number): { readonly turnMs: number; readonly clockMs: number } {
  const turnMs = clockMs === undefined || clockMs < nowMs ? nowMs : clockMs;
  return { turnMs, clockMs: turnMs + spacingMs };
}

/**
 * How early a turn may be used: up to a second's worth of turns at once (as a counter per second
 * would admit them), so hosts arriving below the rate are never refused for arriving close
 * together. Over any stretch of time the clock still hands out `perSecond` turns a second.
 */
export const turnEarlyMs = (perSecond: number): number => 1000 - turnSpacingMs(perSecond);

/** A turn that is due admits; one ahead tells the host when to come back (whole seconds, never early). */
export function decideTurn(turnMs: number, nowMs: number, earlyMs: number): AdmissionDecision {
  const wait = turnMs - earlyMs - nowMs;
  if (wait <= 0) return { admitted: true };
  return { admitted: false, retryAfterSeconds: Math.min(MAX_ADMISSION_RETRY_SECONDS, Math.ceil(wait / 1000)), waitMs: wait };
}

/** How many hosts wait ahead of a turn `waitMs` from being due (for the operator's message). */
export const turnsAhead = (waitMs: number, spacingMs: number): number => Math.max(0, Math.ceil(waitMs / spacingMs) - 1);

/** A turn is kept this long past its instant; a host that comes back later takes a new one. */
export const TURN_KEPT_SECONDS = 600;

/** The turn a host may still use: unused and not stale (else it takes a new one). */
export function usableTurn(held: { readonly turnMs: number; readonly used: boolean } | undefined, nowMs: number): number | undefined {
  return held && !held.used && held.turnMs >= nowMs - TURN_KEPT_SECONDS * 1000 ? held.turnMs : undefined;
}
