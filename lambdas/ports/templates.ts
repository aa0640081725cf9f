import type { TemplateRecord } from '../domain/templates.js';
import type { Page, PageRequest } from './index.js';

/** Cluster templates of a project (the id is the name, unique per project). */
export interface TemplateRepository {
  /** false: a template of that name exists. */
  create(t: TemplateRecord): Promise<boolean>;
  get(project: string, id: string): Promise<TemplateRecord | undefined>;
  list(project: string, page: PageRequest): Promise<Page<TemplateRecord>>;
  /** Every template of the project, at most `max` (the zero-touch check reads them all). */
  listAll(project: string, max: number): Promise<TemplateRecord[]>;
  /** Replaces it when still at `expectedVersion` (the stored version becomes +1); undefined when it moved or is gone. */
  replace(t: TemplateRecord, expectedVersion: number): Promise<TemplateRecord | undefined>;
  /** false: it moved from `expectedVersion` or is gone. */
  delete(project: string, id: string, expectedVersion: number): Promise<boolean>;
}

/** A site as the last zero-touch check of it saw it (GET /v1/sites). */
export interface SiteStatusRecord {
  readonly project: string;
  readonly site: string;
  readonly hosts: { readonly seen: number; readonly approved: number; readonly online: number; readonly matching: number };
  readonly template?: string;
  readonly clusterId?: string;
  readonly state: 'cluster' | 'creating' | 'waiting' | 'no-template' | 'ambiguous' | 'blocked';
  readonly reason: string;
  readonly checkedAt: string;
}

export interface SiteStatusStore {
  get(project: string, site: string): Promise<SiteStatusRecord | undefined>;
  put(s: SiteStatusRecord): Promise<void>;
  list(project: string, page: PageRequest): Promise<Page<SiteStatusRecord>>;
}
