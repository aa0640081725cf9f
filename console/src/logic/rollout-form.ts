/**
 * The rollout form's fields → the body of POST /v1/rollouts (pure): which clusters (cluster
 * ids, a template's, or a site/tag selector), the version or channel, waves and abort
 * thresholds. Only what the operator filled in is sent (the API's defaults apply to the rest);
 * what the form can tell is wrong it says here, the rest the API's problem detail says.
 */
import type { paths } from '../api/schema.js';

export type CreateRollout = paths['/v1/rollouts']['post']['requestBody']['content']['application/json'];
type Waves = NonNullable<NonNullable<CreateRollout['policy']>['waves']>;
type Abort = NonNullable<NonNullable<CreateRollout['policy']>['abort']>;

export type TargetKind = 'clusters' | 'template' | 'selector';

export interface RolloutFields {
  readonly name?: string;
  readonly targetKind: TargetKind;
  readonly clusterIds?: string;
  readonly template?: string;
  readonly site?: string;
  readonly tags?: string;
  readonly profile?: string;
  readonly version: string;
  readonly canary?: string;
  readonly growth?: string;
  readonly maxConcurrent?: string;
  readonly soakMinutes?: string;
  readonly promotion?: string;
  readonly failurePercent?: string;
  readonly failureCount?: string;
  readonly acknowledgeDowntime?: boolean;
}

const num = (label: string, raw: string | undefined): number | undefined | { error: string } => {
  const s = raw?.trim();
  if (!s) return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : { error: `${label} must be a number (got "${s}")` };
};

export function rolloutBody(f: RolloutFields): { body: CreateRollout } | { error: string } {
  let targets: CreateRollout['targets'];
  if (f.targetKind === 'clusters') {
    const ids = (f.clusterIds ?? '').split(/[\s,]+/).filter(Boolean);
    if (ids.length === 0) return { error: 'Name at least one cluster id (separated by commas or spaces).' };
    targets = { clusterIds: [...new Set(ids)] };
  } else if (f.targetKind === 'template') {
    if (!f.template?.trim()) return { error: 'Name the cluster template whose clusters to roll out to.' };
    targets = { template: f.template.trim() };
  } else {
    const tags: Record<string, string> = {};
    for (const pair of (f.tags ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
      const i = pair.indexOf('=');
      if (i < 1) return { error: `Tags are key=value pairs separated by commas ("${pair}" is not).` };
      tags[pair.slice(0, i).trim()] = pair.slice(i + 1).trim();
    }
    const site = f.site?.trim();
    if (!site && Object.keys(tags).length === 0) return { error: 'A selector needs a site (or prefix such as shop-*) or tags.' };
    targets = { ...(site ? { site } : {}), ...(Object.keys(tags).length ? { tags } : {}) };
  }
  const version = f.version.trim();
  if (!version) return { error: 'Give the profile version (1.2.0) or a channel (1.x, 1.4.x) to roll out.' };
  const waves: { -readonly [K in keyof Waves]: Waves[K] } = {};
  const canary = f.canary?.trim();
  if (canary) {
    const pct = /^(\d+(?:\.\d+)?)\s*%$/.exec(canary);
    if (pct) waves.canary = { percent: Number(pct[1]) };
    else if (/^\d+$/.test(canary)) waves.canary = { clusters: Number(canary) };
    else return { error: `The canary wave is a number of clusters (1) or a percentage (10%), not "${canary}".` };
  }
  const abort: { -readonly [K in keyof Abort]: Abort[K] } = {};
  const numbers: Record<'growth' | 'maxConcurrent' | 'soakMinutes' | 'failurePercent' | 'failureCount', number | undefined> = {
    growth: undefined, maxConcurrent: undefined, soakMinutes: undefined, failurePercent: undefined, failureCount: undefined,
  };
  const labels = { growth: 'Growth', maxConcurrent: 'Max concurrent', soakMinutes: 'Soak minutes', failurePercent: 'Abort above failure %', failureCount: 'Abort after failures' } as const;
  for (const key of Object.keys(labels) as (keyof typeof labels)[]) {
    const v = num(labels[key], f[key]);
    if (typeof v === 'object') return v;
    numbers[key] = v;
  }
  if (numbers.growth !== undefined) waves.growth = numbers.growth;
  if (numbers.maxConcurrent !== undefined) waves.maxConcurrent = numbers.maxConcurrent;
  if (numbers.soakMinutes !== undefined) waves.soakMinutes = numbers.soakMinutes;
  if (numbers.failurePercent !== undefined) abort.failurePercent = numbers.failurePercent;
  if (numbers.failureCount !== undefined) abort.failureCount = numbers.failureCount;
  if (f.promotion === 'manual') waves.promotion = 'manual';
  const policy: NonNullable<CreateRollout['policy']> = {
    ...(Object.keys(waves).length ? { waves } : {}),
    ...(Object.keys(abort).length ? { abort } : {}),
    ...(f.acknowledgeDowntime ? { upgrade: { acknowledgeDowntime: true } } : {}),
  };
  return {
    body: {
      ...(f.name?.trim() ? { name: f.name.trim() } : {}),
      targets,
      to: { version, ...(f.profile?.trim() ? { name: f.profile.trim() } : {}) },
      ...(Object.keys(policy).length ? { policy } : {}),
    },
  };
}
