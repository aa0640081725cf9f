import { ROLLOUT_ENDED, type RolloutRecord, type RolloutStatus, type RolloutTarget, type TargetState } from '../../contracts/rollouts.js';
import type { Page, PageRequest } from '../../ports/index.js';
import type { RolloutChange, RolloutStore, RolloutWaveRecord, SiteSettingsRecord, SiteSettingsStore, TargetMove } from '../../ports/rollouts.js';
import { fingerprint, pageOf } from './page.js';
import { copy, withoutUndefined } from './state.js';

const pad = (n: number) => String(n).padStart(6, '0');

/** Rollouts in memory, with the DynamoDB adapter's conditions (status, execution, a target's state, the rollout's state on a start). */
export class MemoryRolloutStore implements RolloutStore {
  readonly rollouts = new Map<string, RolloutRecord>();
  readonly waveItems = new Map<string, RolloutWaveRecord[]>();
  readonly targets = new Map<string, Map<number, RolloutTarget>>();

  readonly listedIds = new Map<string, string[]>();

  async create(r: RolloutRecord, clusterIds?: readonly string[]): Promise<boolean> {
    if (this.rollouts.has(r.id)) return false;
    if (clusterIds) this.listedIds.set(r.id, [...clusterIds]);
    this.rollouts.set(r.id, withoutUndefined(copy(r)));
    return true;
  }

  async clusterIds(id: string): Promise<string[]> {
    return [...(this.listedIds.get(id) ?? [])];
  }

  async get(id: string): Promise<RolloutRecord | undefined> {
    const r = this.rollouts.get(id);
    return r ? copy(r) : undefined;
  }

  async list(project: string, page: PageRequest, status?: RolloutStatus): Promise<Page<RolloutRecord>> {
    const all = [...this.rollouts.values()].filter((r) => r.project === project && (!status || r.status === status));
    const found = pageOf(all, (r) => `${r.createdAt}#${r.id}`, page, fingerprint(['rollouts', project, status ?? '']), 'desc');
    return { ...found, items: found.items.map(copy) };
  }

  async listOpen(limit: number): Promise<RolloutRecord[]> {
    return [...this.rollouts.values()].filter((r) => !ROLLOUT_ENDED.includes(r.status)).sort((a, b) => (`${a.createdAt}#${a.id}` < `${b.createdAt}#${b.id}` ? -1 : 1)).slice(0, limit).map(copy);
  }

  async update(id: string, change: RolloutChange, cond: { statusIn: readonly RolloutStatus[]; execution?: string }, now: string): Promise<RolloutRecord | undefined> {
    const cur = this.rollouts.get(id);
    if (!cur || !cond.statusIn.includes(cur.status) || (cond.execution !== undefined && cur.execution !== cond.execution)) return undefined;
    // An undefined field in the change leaves the stored one as it is (DynamoDB's SET skips it).
    const next = withoutUndefined({ ...cur, ...withoutUndefined(change), updatedAt: now, version: cur.version + 1 });
    this.rollouts.set(id, next);
    return copy(next);
  }

  async addTargets(id: string, targets: readonly RolloutTarget[], plan: { expectedTotal: number; planCursor?: string }, now: string): Promise<boolean> {
    const map = this.targets.get(id) ?? new Map<number, RolloutTarget>();
    this.targets.set(id, map);
    // Each position is written once (as DynamoDB's attribute_not_exists put): a retried page changes nothing.
    for (const t of targets) if (!map.has(t.position)) map.set(t.position, withoutUndefined(copy(t)));
    const cur = this.rollouts.get(id);
    if (!cur || cur.total !== plan.expectedTotal) return false;
    const { planCursor: _c, ...rest } = cur;
    this.rollouts.set(id, withoutUndefined({ ...rest, total: plan.expectedTotal + targets.length, updatedAt: now, ...(plan.planCursor ? { planCursor: plan.planCursor } : {}) }));
    return true;
  }

  async putWaves(id: string, waves: readonly RolloutWaveRecord[]): Promise<void> {
    const cur = this.waveItems.get(id) ?? [];
    for (const w of waves) if (!cur.some((c) => c.index === w.index)) cur.push(copy(w));
    this.waveItems.set(id, cur.sort((a, b) => a.index - b.index));
  }

  async waves(id: string): Promise<RolloutWaveRecord[]> {
    return copy(this.waveItems.get(id) ?? []);
  }

  async targetsBetween(id: string, from: number, to: number): Promise<RolloutTarget[]> {
    return [...(this.targets.get(id)?.values() ?? [])].filter((t) => t.position >= from && t.position < to).sort((a, b) => a.position - b.position).map(copy);
  }

  async moveTarget(id: string, target: { position: number; wave: number }, move: TargetMove): Promise<boolean> {
    const t = this.targets.get(id)?.get(target.position);
    const r = this.rollouts.get(id);
    if (!t || t.state !== move.from) return false;
    if (move.whileRollout && (!r || !move.whileRollout.includes(r.status))) return false;
    const next: Record<string, unknown> = { ...t, ...withoutUndefined(move.set ?? {}), state: move.to };
    for (const k of move.remove ?? []) if (!(k in (move.set ?? {}))) delete next[k];
    this.targets.get(id)!.set(target.position, withoutUndefined(next as RolloutTarget));
    if (move.from !== move.to) {
      const wave = this.waveItems.get(id)?.find((w) => w.index === target.wave);
      if (wave) {
        const counts = { ...wave.counts, [move.from]: wave.counts[move.from] - 1, [move.to]: wave.counts[move.to] + 1 };
        Object.assign(wave, { counts });
      }
    }
    return true;
  }

  async markWave(id: string, index: number, field: 'startedAt' | 'endedAt', at: string): Promise<void> {
    const wave = this.waveItems.get(id)?.find((w) => w.index === index);
    if (wave && wave[field] === undefined) Object.assign(wave, { [field]: at });
  }

  async listTargets(id: string, filter: { state?: TargetState; range?: { from: number; to: number } }, page: PageRequest): Promise<Page<RolloutTarget>> {
    const r = filter.range;
    const all = [...(this.targets.get(id)?.values() ?? [])].filter((t) => (!filter.state || t.state === filter.state) && (!r || (t.position >= r.from && t.position < r.to)));
    const found = pageOf(all, (t) => pad(t.position), page, fingerprint(['rollout-targets', id, filter.state ?? '', filter.range ?? '']));
    return { ...found, items: found.items.map(copy) };
  }
}

export class MemorySiteSettingsStore implements SiteSettingsStore {
  readonly items = new Map<string, SiteSettingsRecord>();
  async put(s: SiteSettingsRecord): Promise<void> { this.items.set(`${s.project}#${s.site}`, copy(s)); }
  async get(project: string, site: string): Promise<SiteSettingsRecord | undefined> {
    const s = this.items.get(`${project}#${site}`);
    return s ? copy(s) : undefined;
  }
}
