import { judgeImage, parseImageRef, type ReportedNode } from './node-identity.js';
import type { Layer } from './profile.js';
import { kairosVersionOfImage } from './upgrade-plan.js';

/**
 * Repave before join: a create or scale-out puts the profile's OS image on every host that does
 * not run it yet, through the same verified Kairos A/B path an upgrade uses (preflight: disk
 * room and image reachable; then `upgrade` with its post-boot gate: booted active into the
 * image), before the host joins. Which host runs what is judged from the identity the host
 * reports (domain/node-identity.ts `judgeImage`), never from a version string.
 */

/** What a host must run before it joins: the profile's os layer (image, flavour) and the Kairos version its tag carries. */
export interface OsTarget {
  readonly image: string;
  readonly flavor?: string;
  readonly kairosVersion?: string;
}

/** The os layer's target, or undefined when the profile names no image (hosts keep what they run). */
export function osTargetOf(layers: readonly Layer[]): OsTarget | undefined {
  const os = layers.find((l) => l.type === 'os');
  if (!os?.image) return undefined;
  const kairosVersion = kairosVersionOfImage(os.image);
  return { image: os.image, flavor: os.pack, ...(kairosVersion ? { kairosVersion } : {}) };
}

export interface RepaveDecision {
  /** Hosts that are repaved, in the order given. */
  readonly repave: readonly string[];
  /** Hosts that are not, each with the reason (recorded on the operation). */
  readonly skipped: readonly { readonly hostId: string; readonly reason: string }[];
}

/**
 * Which of `hostIds` are repaved to `target`: every host whose last report does not show it
 * booted active into the image (or that has not reported at all). A host already at the image
 * is skipped, with the reason; without a target (no os image in the profile) none is repaved.
 */
export function decideRepave(hostIds: readonly string[], target: OsTarget | undefined, reported: ReadonlyMap<string, ReportedNode | undefined>): RepaveDecision {
  if (!target) {
    return { repave: [], skipped: hostIds.map((hostId) => ({ hostId, reason: 'the profile\'s os layer names no image: the host keeps the image it runs' })) };
  }
  const repave: string[] = [];
  const skipped: { hostId: string; reason: string }[] = [];
  const want = parseImageRef(target.image);
  for (const hostId of hostIds) {
    const verdict = judgeImage(hostId, reported.get(hostId), { image: target.image, ...(target.flavor ? { flavor: target.flavor } : {}) });
    if (verdict.at) skipped.push({ hostId, reason: `already runs ${want.name}:${want.tag} (booted active): not repaved` });
    else repave.push(hostId);
  }
  return { repave, skipped };
}
