import { NotFoundError, VersionMismatchError } from '../../domain/errors.js';
import type { HostRecord, HostWithPresence } from '../../domain/model.js';
import type { HostChanges, HostFilter, HostRepository, Page, PageRequest } from '../../ports/index.js';
import { fingerprint, pageOf } from './page.js';
import { copy, withoutUndefined, type MemoryState } from './state.js';

/** Hosts in memory: conditional create, versioned update/delete, presence joined on read. */
export class MemoryHostRepository implements HostRepository {
  constructor(private readonly state: MemoryState) {}

  async create(host: HostRecord): Promise<boolean> {
    if (this.state.hosts.has(host.id)) return false;
    this.state.hosts.set(host.id, withoutUndefined(host));
    return true;
  }

  async get(id: string): Promise<HostWithPresence | undefined> {
    const host = this.state.hosts.get(id);
    return host ? this.withPresence(host) : undefined;
  }

  async list(project: string, filter: HostFilter, page: PageRequest): Promise<Page<HostWithPresence>> {
    const matches = [...this.state.hosts.values()].filter((h) => h.project === project
      && (filter.status === undefined || h.status === filter.status)
      && (filter.health === undefined || this.state.health.get(h.id)?.state === filter.health)
      && (filter.site === undefined || h.site === filter.site)
      && (filter.clusterId === undefined || h.clusterId === filter.clusterId)
      && (filter.tag === undefined || h.tags[filter.tag.key] === filter.tag.value));
    // The DynamoDB listing's order: by id on the cluster and site indexes, else by status then id.
    const byId = filter.clusterId !== undefined || filter.site !== undefined;
    const found = pageOf(matches, (h) => (byId ? h.id : `${h.status}#${h.id}`), page, fingerprint(['hosts', project, filter]));
    return { ...found, items: found.items.map((h) => this.withPresence(h)) };
  }

  async update(id: string, expectedVersion: number, changes: HostChanges, now: string): Promise<HostWithPresence> {
    const current = this.state.hosts.get(id);
    if (!current) throw new NotFoundError('host-not-found', `host ${id} does not exist`);
    if (current.version !== expectedVersion) throw new VersionMismatchError(`host ${id}`, expectedVersion);
    const next = withoutUndefined({ ...current, ...changes, version: expectedVersion + 1, updatedAt: now });
    this.state.hosts.set(id, next);
    return this.withPresence(next);
  }

  async delete(id: string, expectedVersion: number): Promise<void> {
    const current = this.state.hosts.get(id);
    // DynamoDB's `version = :v` fails on an absent item too.
    if (!current || current.version !== expectedVersion) throw new VersionMismatchError(`host ${id}`, expectedVersion);
    this.state.hosts.delete(id);
    this.state.presence.delete(id);
    this.state.health.delete(id);
    this.state.status.delete(id);
  }

  private withPresence(host: HostRecord): HostWithPresence {
    const health = this.state.health.get(host.id);
    const status = this.state.status.get(host.id);
    return {
      ...copy(host), presence: this.state.presence.get(host.id)?.presence ?? 'offline',
      ...(health ? { health: copy(health) } : {}), ...(status ? { reported: { at: status.at, content: copy(status.content) } } : {}),
    };
  }
}
