import type { z } from 'zod';
import type { batchHostsBody } from '../contracts/api.js';
import { EdgeFleetError } from '../domain/errors.js';
import type { HostRecord } from '../domain/model.js';
import { mutate, type Deps, type RequestContext } from './context.js';
import { newHostRecord } from './hosts.js';

/** Writes in flight at once: enough to finish 10,000 hosts inside the API timeout on AWS, spread over shards. */
const CONCURRENCY = 32;
/**
 * No new host is started once less than this is left of the function's time: what is in flight,
 * the audit event and the response must still fit (a function that times out answers 500 and
 * tells nobody which hosts were written).
 */
export const IMPORT_RESERVE_MS = 5_000;

export interface ImportResult {
  created: number;
  existing: number;
  failed: { uid: string; code: string; detail: string }[];
  /** Uids not attempted because the request's time ran out: send them again (nothing of them was written). */
  unprocessed: string[];
}

export interface ImportOptions {
  /** Milliseconds left before the function's timeout; unbounded when absent. */
  readonly timeLeftMs?: () => number;
}

/**
 * import-hosts: batch pre-registration. Idempotent per host: a host already pre-registered in
 * this project with the same uid counts as `existing`, so a retried batch is safe.
 */
export async function importHosts(deps: Deps, ctx: RequestContext, input: z.infer<typeof batchHostsBody>, opts: ImportOptions = {}): Promise<ImportResult> {
  const outOfTime = () => opts.timeLeftMs !== undefined && opts.timeLeftMs() < IMPORT_RESERVE_MS;
  return mutate(deps, ctx, {
    action: 'hosts:create', audit: 'host.batch-create', resource: 'host/*',
    run: async () => {
      const now = deps.clock.now().toISOString();
      const result: ImportResult = { created: 0, existing: 0, failed: [], unprocessed: [] };
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
          if (outOfTime()) return;
          const r = records[next++]!;
          if (await deps.hosts.create(r)) { result.created++; continue; }
          const existing = await deps.hosts.get(r.id);
          if (existing && existing.project === ctx.project && existing.uid === r.uid) result.existing++;
          else result.failed.push({ uid: r.uid, code: 'host-exists', detail: `host id ${r.id} is already taken by another host` });
        }
      };
      await Promise.all(Array.from({ length: Math.min(CONCURRENCY, records.length) }, worker));
      // Bounded work per request: what did not fit in this function's time is handed back, not lost.
      result.unprocessed = records.slice(next).map((r) => r.uid);
      return result;
    },
    describe: (r) => ({ detail: `created ${r.created}, existing ${r.existing}, failed ${r.failed.length}${r.unprocessed.length ? `, unprocessed ${r.unprocessed.length} (out of time)` : ''}` }),
  });
}
