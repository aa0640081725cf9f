import type { PageRequest } from '../../ports/index.js';

export const DEFAULT_PAGE_SIZE = 50;

export function pageOf(q: { limit?: number; cursor?: string }): PageRequest {
  return { limit: q.limit ?? DEFAULT_PAGE_SIZE, ...(q.cursor ? { cursor: q.cursor } : {}) };
}
