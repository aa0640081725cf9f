/**
 * OCI image references, validated before anything uses one: the Kairos executor (upgrade
 * source), the registry reachability check and the agent's upgrade commands. A module of
 * its own so kairos.ts and registry.ts both import it without importing each other.
 */
import { InvalidParameter } from './kubernetes.js';

/**
 * An OCI image reference: [registry[:port]/]path[:tag][@sha256:digest], lower-case path
 * components. Nothing may start with "-" (no option injection), no whitespace, ≤ 255 chars.
 */
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const REGISTRY = '(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]{1,5})?/)';
const IMAGE_REF = new RegExp(`^${REGISTRY}?${COMPONENT}(?:/${COMPONENT})*(?::[A-Za-z0-9_][A-Za-z0-9._-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`);

export function validateImage(image: unknown): string {
  if (typeof image !== 'string' || image.length === 0) throw new InvalidParameter('image: required, an OCI image reference');
  if (image.startsWith('-')) throw new InvalidParameter('image: must not start with "-"');
  if (image.length > 255 || !IMAGE_REF.test(image)) throw new InvalidParameter(`image: "${image.slice(0, 80)}" is not an OCI image reference such as quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.4.2-k3sv1.32.3-k3s1`);
  return image;
}
