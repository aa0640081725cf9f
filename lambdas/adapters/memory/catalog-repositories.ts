import { auditWindow } from '../../domain/audit-window.js';
import { ConflictError, ValidationError } from '../../domain/errors.js';
import type { AuditRecord, ProfileRecord, ProfileVersionRecord, TokenRecord } from '../../domain/model.js';
import type { AuditFilter, AuditLog, Page, PageRequest, ProfileRepository, TokenRepository } from '../../ports/index.js';
import { fingerprint, pageOf } from './page.js';
import { copy, profileKey, versionKey, withoutUndefined, type MemoryState } from './state.js';

/** "1.2.0" → "000001.000002.000000~": pre-releases sort before the release (as the DynamoDB sort key). */
const sortableSemver = (v: string): string => {
  const [core = '', pre] = v.split('-', 2);
  const padded = core.split('.').map((n) => n.padStart(6, '0')).join('.');
  return pre === undefined ? `${padded}~` : `${padded}-${pre}`;
};

export class MemoryTokenRepository implements TokenRepository {
  constructor(private readonly state: MemoryState) {}

  async create(token: TokenRecord): Promise<void> {
    if (this.state.tokens.has(token.id)) throw new ConflictError('token-exists', `registration token ${token.id} already exists`);
    this.state.tokens.set(token.id, withoutUndefined(token));
  }

  async get(id: string): Promise<TokenRecord | undefined> {
    const t = this.state.tokens.get(id);
    return t ? copy(t) : undefined;
  }

  async list(project: string, page: PageRequest): Promise<Page<TokenRecord>> {
    const found = pageOf([...this.state.tokens.values()].filter((t) => t.project === project), (t) => `${t.createdAt}#${t.id}`, page, fingerprint(['tokens', project]), 'desc');
    return { ...found, items: found.items.map(copy) };
  }

  async revoke(id: string): Promise<TokenRecord | undefined> {
    const t = this.state.tokens.get(id);
    if (!t) return undefined;
    const next = { ...t, revoked: true };
    this.state.tokens.set(id, next);
    return copy(next);
  }
}

export class MemoryProfileRepository implements ProfileRepository {
  constructor(private readonly state: MemoryState) {}

  async create(p: ProfileRecord): Promise<boolean> {
    const key = profileKey(p.project, p.name);
    if (this.state.profiles.has(key)) return false;
    this.state.profiles.set(key, withoutUndefined(p));
    return true;
  }

  async get(project: string, name: string): Promise<ProfileRecord | undefined> {
    const p = this.state.profiles.get(profileKey(project, name));
    return p ? copy(p) : undefined;
  }

  async list(project: string, page: PageRequest): Promise<Page<ProfileRecord>> {
    const found = pageOf([...this.state.profiles.values()].filter((p) => p.project === project), (p) => p.name, page, fingerprint(['profiles', project]));
    return { ...found, items: found.items.map(copy) };
  }

  async createVersion(v: ProfileVersionRecord, opts: { setLatest: boolean }): Promise<boolean> {
    const key = versionKey(v.project, v.name, v.version);
    // One transaction: the version is new and its profile exists.
    if (this.state.profileVersions.has(key) || !this.state.profiles.has(profileKey(v.project, v.name))) return false;
    this.state.profileVersions.set(key, withoutUndefined(v));
    this.touchProfile(v.project, v.name, v.version, v.createdAt, opts.setLatest);
    return true;
  }

  async getVersion(project: string, name: string, version: string): Promise<ProfileVersionRecord | undefined> {
    const v = this.state.profileVersions.get(versionKey(project, name, version));
    return v ? copy(v) : undefined;
  }

  async listVersions(project: string, name: string, page: PageRequest): Promise<Page<ProfileVersionRecord>> {
    const mine = [...this.state.profileVersions.values()].filter((v) => v.project === project && v.name === name);
    const found = pageOf(mine, (v) => sortableSemver(v.version), page, fingerprint(['profile-versions', project, name]), 'desc');
    return { ...found, items: found.items.map(copy) };
  }

  async publishVersion(project: string, name: string, version: string, now: string, opts: { setLatest: boolean }): Promise<ProfileVersionRecord | false> {
    const key = versionKey(project, name, version);
    const v = this.state.profileVersions.get(key);
    if (!v || v.status !== 'draft' || !this.state.profiles.has(profileKey(project, name))) return false;
    const next: ProfileVersionRecord = { ...v, status: 'published', publishedAt: now };
    this.state.profileVersions.set(key, next);
    this.touchProfile(project, name, version, now, opts.setLatest);
    return copy(next);
  }

  private touchProfile(project: string, name: string, version: string, now: string, setLatest: boolean): void {
    const key = profileKey(project, name);
    const p = this.state.profiles.get(key);
    if (p) this.state.profiles.set(key, { ...p, version: p.version + 1, updatedAt: now, ...(setLatest ? { latestVersion: version } : {}) });
  }
}

/** Audit events in memory, newest first; the same `since` window rules as the DynamoDB log. */
export class MemoryAuditLog implements AuditLog {
  constructor(private readonly state: MemoryState, private readonly retentionDays = 365) {}

  async record(event: AuditRecord): Promise<void> {
    this.state.audit.push(withoutUndefined(event));
  }

  async list(project: string, filter: AuditFilter, page: PageRequest): Promise<Page<AuditRecord>> {
    const now = this.state.clock.now().getTime();
    const window = auditWindow(filter.since, now, this.retentionDays);
    if (!window.ok) throw new ValidationError(window.code, window.reason, { errors: [{ path: 'query.since', message: `on or after ${window.earliest}` }] });
    const since = filter.since ?? (filter.resource || filter.actor ? '0000' : new Date(window.oldest).toISOString().slice(0, 10));
    // Expired events are gone (the table's TTL deletes them; checked here on read).
    const retained = new Date(now - this.retentionDays * 86_400_000).toISOString();
    const matches = this.state.audit.filter((e) => e.project === project && e.time >= since && e.time >= retained
      && (filter.resource === undefined || e.resource === filter.resource)
      && (filter.actor === undefined || e.actor === filter.actor));
    const found = pageOf(matches, (e) => `${e.time}#${e.id}`, page, fingerprint(['audit', project, filter]), 'desc');
    return { ...found, items: found.items.map(copy) };
  }
}
