/**
 * Registration admission: the control plane calls the AWS IoT registry (CreateThing,
 * CreateCertificateFromCsr, AttachPolicy…) at most `perSecond` times a second, whatever the
 * storm. Each registration that needs the registry takes a numbered place in the current
 * second's window (one counter per second, so no item stays hot longer than a second); the
 * first `perSecond` places are admitted, the rest are told when their turn comes: a place
 * `perSecond · k` past the limit comes back about k seconds later (the agent adds under a second
 * of jitter). Pure.
 */

/** A device told to come back later never waits longer than this (it keeps its own backoff cap too). */
export const MAX_ADMISSION_RETRY_SECONDS = 300;

export type AdmissionDecision = { readonly admitted: true } | { readonly admitted: false; readonly retryAfterSeconds: number };

/**
 * `place` is this request's 1-based place in its second's window; `perSecond` undefined means
 * unlimited (the local default).
 */
export function decideAdmission(place: number, perSecond: number | undefined): AdmissionDecision {
  if (perSecond === undefined || place <= perSecond) return { admitted: true };
  const retryAfterSeconds = Math.min(MAX_ADMISSION_RETRY_SECONDS, Math.max(1, Math.ceil((place - perSecond) / perSecond)));
  return { admitted: false, retryAfterSeconds };
}

/** The window a request falls in (whole seconds since the epoch). */
export const admissionWindow = (now: Date): number => Math.floor(now.getTime() / 1000);
