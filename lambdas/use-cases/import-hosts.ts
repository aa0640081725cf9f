import type { z } from 'zod';
import type { batchHostsBody } from '../contracts/api.js';
import { EdgeFleetError } from '../domain/errors.js';
import type { HostRecord } from '../domain/model.js';
import { mutate, type Deps, type RequestContext } from './context.js';
import { newHostRecord } from './hosts.js';

/** Writes in flight at once: enough to finish 10,000 hosts inside the API timeout, spread over shards. */
const CONCURRENCY = 32;

export interface ImportResult {
  created: number;
  existing: number;
  failed: { uid: string; code: string; detail: string }[];
}

/**
 * import-hosts: batch pre-registration. Idempotent per host: a host already pre-registered in
 * this project with the same uid counts as `existing`, so a retried batch is safe.
 */
export async function importHosts(deps: Deps, ctx: RequestContext, input: z.infer<typeof batchHostsBody>): Promise<ImportResult> {
  return mutate(deps, ctx, {
    action: 'hosts:create', audit: 'host.batch-create', resource: 'host/*',
    run: async () => {
      const now = deps.clock.now().toISOString();
      const result: ImportResult = { created: 0, existing: 0, failed: [] };
      const records: HostRecord[] = [];
      const seen = new Set<string>();
      for (const h of input.hosts) {
        try {
          const r = newHostRecord(ctx, h, now);
          if (seen.has(r.id)) {
            result.failed.push({ uid: h.uid, code: 'duplicate-in-batch', detail: `uid maps to host id ${r.id}, which appears earlier in this batch` });
            continue;
          }
          seen.add(r.id);
          records.push(r);
        } catch (e) {
          result.failed.push({ uid: h.uid, code: e instanceof EdgeFleetError ? e.code : 'invalid', detail: (e as Error).message });
        }
      }
      let next = 0;
      const worker = async () => {
        while (next < records.length) {
          const r = records[next++]!;
          if (await deps.hosts.create(r)) { result.created++; continue; }
          const existing = await deps.hosts.get(r.id);
          if (existing && existing.project === ctx.project && existing.uid === r.uid) result.existing++;
          else result.failed.push({ uid: r.uid, code: 'host-exists', detail: `host id ${r.id} is already taken by another host` });
        }
      };
      await Promise.all(Array.from({ length: Math.min(CONCURRENCY, records.length) }, worker));
      return result;
    },
    describe: (r) => ({ detail: `created ${r.created}, existing ${r.existing}, failed ${r.failed.length}` }),
  });
}
