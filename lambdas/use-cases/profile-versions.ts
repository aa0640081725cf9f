import { UnprocessableError, ValidationError } from '../domain/errors.js';
import type { ProfileVersionRecord } from '../domain/model.js';
import { resolveVersion } from '../domain/templates.js';
import type { Deps } from './context.js';

/** At most this many versions of a profile are read to resolve a channel. */
const MAX_VERSIONS_READ = 500;

/** Published versions of a profile (bounded read). */
export async function publishedVersions(deps: Pick<Deps, 'profiles'>, project: string, profile: string): Promise<ProfileVersionRecord[]> {
  const out: ProfileVersionRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.profiles.listVersions(project, profile, { limit: 100, ...(cursor ? { cursor } : {}) });
    out.push(...page.items.filter((v) => v.status === 'published'));
    cursor = page.nextCursor;
  } while (cursor && out.length < MAX_VERSIONS_READ);
  return out;
}

/** The published profile version a template's version or channel means now; 422 naming what is missing. */
export async function resolveTemplateProfile(deps: Pick<Deps, 'profiles'>, project: string, spec: { name: string; version: string }, path = 'profile'): Promise<ProfileVersionRecord> {
  const profile = await deps.profiles.get(project, spec.name);
  if (!profile || profile.project !== project) {
    throw new ValidationError('profile-not-found', `profile ${spec.name} does not exist in this project; create it first (edgefleet profiles create)`, { errors: [{ path: `${path}.name`, message: 'unknown profile' }] });
  }
  const published = await publishedVersions(deps, project, spec.name);
  const version = resolveVersion(spec.version, published.map((v) => v.version));
  const pv = published.find((v) => v.version === version);
  if (!pv) {
    const known = published.map((v) => v.version).slice(0, 10).join(', ') || 'none';
    throw new UnprocessableError('profile-version-unresolved', `no published version of profile ${spec.name} matches ${spec.version} (published: ${known}); publish one or name another version`,
      { errors: [{ path: `${path}.version`, message: `no published version matches ${spec.version}` }] });
  }
  return pv;
}
