import type { z } from 'zod';
import type { createProfileBody, createProfileVersionBody } from '../contracts/api.js';
import { ConflictError, NotFoundError, UnprocessableError } from '../domain/errors.js';
import type { ProfileRecord, ProfileVersionRecord } from '../domain/model.js';
import { validateLayers } from '../domain/profile.js';
import { compareSemver } from '../domain/versions.js';
import type { Page, PageRequest } from '../ports/index.js';
import { mutate, read, visible, type Deps, type RequestContext } from './context.js';

const profileNotFound = (name: string) => () => new NotFoundError('profile-not-found', `profile ${name} does not exist in this project`);
const versionNotFound = (name: string, v: string) => () => new NotFoundError('profile-version-not-found', `profile ${name} has no version ${v}`);

export async function createProfile(deps: Deps, ctx: RequestContext, input: z.infer<typeof createProfileBody>): Promise<ProfileRecord> {
  return mutate(deps, ctx, {
    action: 'profiles:create', audit: 'profile.create', resource: `profile/${input.name}`,
    run: async () => {
      const now = deps.clock.now().toISOString();
      const p: ProfileRecord = { name: input.name, project: ctx.project, ...(input.description ? { description: input.description } : {}), version: 1, createdAt: now, updatedAt: now };
      if (!(await deps.profiles.create(p))) throw new ConflictError('profile-exists', `profile ${input.name} already exists; add a version to it instead`);
      return p;
    },
  });
}

export async function getProfile(deps: Deps, ctx: RequestContext, name: string): Promise<ProfileRecord> {
  read(ctx, 'profiles:read');
  return visible(ctx, await deps.profiles.get(ctx.project, name), profileNotFound(name));
}

export async function listProfiles(deps: Deps, ctx: RequestContext, page: PageRequest): Promise<Page<ProfileRecord>> {
  read(ctx, 'profiles:read');
  return deps.profiles.list(ctx.project, page);
}

const isNewest = (profile: ProfileRecord, version: string) => !profile.latestVersion || compareSemver(version, profile.latestVersion) > 0;

/** create-profile-version: layers validated against the matrix; immutable once published. */
export async function createProfileVersion(deps: Deps, ctx: RequestContext, name: string, input: z.infer<typeof createProfileVersionBody>): Promise<ProfileVersionRecord> {
  return mutate(deps, ctx, {
    action: 'profiles:create', audit: 'profile.version.create', resource: `profile/${name}@${input.version}`,
    run: async () => {
      const profile = visible(ctx, await deps.profiles.get(ctx.project, name), profileNotFound(name));
      const { errors, ordered, code } = validateLayers(input.layers, input.variables ?? []);
      if (errors.length > 0) throw new UnprocessableError(code, `profile version ${input.version} is not valid: ${errors.map((e) => e.message).join('; ')}`, { errors });
      const now = deps.clock.now().toISOString();
      const published = input.publish === true;
      const v: ProfileVersionRecord = {
        name, project: ctx.project, version: input.version, layers: ordered, ...(input.variables?.length ? { variables: input.variables } : {}), status: published ? 'published' : 'draft',
        ...(published ? { publishedAt: now } : {}), createdAt: now, createdBy: ctx.principal.subject,
      };
      if (!(await deps.profiles.createVersion(v, { setLatest: published && isNewest(profile, v.version) }))) {
        throw new ConflictError('profile-version-exists', `profile ${name} already has version ${input.version}; versions are immutable once created — use a new version number`);
      }
      return v;
    },
  });
}

export async function publishProfileVersion(deps: Deps, ctx: RequestContext, name: string, version: string): Promise<ProfileVersionRecord> {
  return mutate(deps, ctx, {
    action: 'profiles:create', audit: 'profile.version.publish', resource: `profile/${name}@${version}`,
    run: async () => {
      const profile = visible(ctx, await deps.profiles.get(ctx.project, name), profileNotFound(name));
      const draft = visible(ctx, await deps.profiles.getVersion(ctx.project, name, version), versionNotFound(name, version));
      // A draft stored before today's rules is checked again: only a valid version is published.
      const { errors, code } = validateLayers(draft.layers, draft.variables ?? []);
      if (draft.status === 'draft' && errors.length > 0) {
        throw new UnprocessableError(code, `profile ${name}@${version} cannot be published: ${errors.map((e) => e.message).join('; ')}; create a new version that fixes it`, { errors });
      }
      const out = await deps.profiles.publishVersion(ctx.project, name, version, deps.clock.now().toISOString(), { setLatest: isNewest(profile, version) });
      if (!out) throw new ConflictError('profile-version-published', `profile ${name}@${version} is already published and cannot change`);
      return out;
    },
  });
}

export async function getProfileVersion(deps: Deps, ctx: RequestContext, name: string, version: string): Promise<ProfileVersionRecord> {
  read(ctx, 'profiles:read');
  return visible(ctx, await deps.profiles.getVersion(ctx.project, name, version), versionNotFound(name, version));
}

export async function listProfileVersions(deps: Deps, ctx: RequestContext, name: string, page: PageRequest): Promise<Page<ProfileVersionRecord>> {
  read(ctx, 'profiles:read');
  visible(ctx, await deps.profiles.get(ctx.project, name), profileNotFound(name));
  return deps.profiles.listVersions(ctx.project, name, page);
}
