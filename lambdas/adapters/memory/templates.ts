import type { TemplateRecord } from '../../domain/templates.js';
import type { Page, PageRequest } from '../../ports/index.js';
import type { SiteStatusRecord, SiteStatusStore, TemplateRepository } from '../../ports/templates.js';
import { fingerprint, pageOf } from './page.js';
import { copy, withoutUndefined } from './state.js';

const key = (project: string, id: string) => `${project}#${id}`;

/** Cluster templates in memory, with the DynamoDB adapter's conditions (name unique, version checked). */
export class MemoryTemplateRepository implements TemplateRepository {
  readonly items = new Map<string, TemplateRecord>();

  async create(t: TemplateRecord): Promise<boolean> {
    if (this.items.has(key(t.project, t.id))) return false;
    this.items.set(key(t.project, t.id), withoutUndefined(t));
    return true;
  }

  async get(project: string, id: string): Promise<TemplateRecord | undefined> {
    const t = this.items.get(key(project, id));
    return t ? copy(t) : undefined;
  }

  async list(project: string, page: PageRequest): Promise<Page<TemplateRecord>> {
    const found = pageOf([...this.items.values()].filter((t) => t.project === project), (t) => t.name, page, fingerprint(['cluster-templates', project]));
    return { ...found, items: found.items.map(copy) };
  }

  async listAll(project: string, max: number): Promise<TemplateRecord[]> {
    return [...this.items.values()].filter((t) => t.project === project).sort((a, b) => (a.name < b.name ? -1 : 1)).slice(0, max).map(copy);
  }

  async replace(t: TemplateRecord, expectedVersion: number): Promise<TemplateRecord | undefined> {
    const cur = this.items.get(key(t.project, t.id));
    if (!cur || cur.version !== expectedVersion) return undefined;
    const next = withoutUndefined({ ...t, version: expectedVersion + 1 });
    this.items.set(key(t.project, t.id), next);
    return copy(next);
  }

  async delete(project: string, id: string, expectedVersion: number): Promise<boolean> {
    const cur = this.items.get(key(project, id));
    if (!cur || cur.version !== expectedVersion) return false;
    this.items.delete(key(project, id));
    return true;
  }
}

export class MemorySiteStatusStore implements SiteStatusStore {
  readonly items = new Map<string, SiteStatusRecord>();

  async get(project: string, site: string): Promise<SiteStatusRecord | undefined> {
    const s = this.items.get(key(project, site));
    return s ? copy(s) : undefined;
  }

  async put(s: SiteStatusRecord): Promise<void> {
    this.items.set(key(s.project, s.site), withoutUndefined(s));
  }

  async list(project: string, page: PageRequest): Promise<Page<SiteStatusRecord>> {
    const found = pageOf([...this.items.values()].filter((s) => s.project === project), (s) => s.site, page, fingerprint(['sites', project]));
    return { ...found, items: found.items.map(copy) };
  }
}
