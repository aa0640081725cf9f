/** `edgefleet hosts import <file>`: pre-register many hosts in one batch request. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { z } from 'zod';
import type { batchHostsResult } from '../../lambdas/contracts/api.js';
import { IDEMPOTENCY_HELP, action, addCommonOptions, examples, type CliRuntime } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import { parseHostsFile } from '../import-hosts.js';

type BatchResult = z.infer<typeof batchHostsResult>;

export function readInputFile(path: string, shownAs: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    throw new UsageError(`cannot read ${shownAs}: ${why}`);
  }
}

export function registerHostsImport(hosts: Command, rt: CliRuntime): void {
  addCommonOptions(
    hosts
      .command('import')
      .description('pre-register hosts from a CSV or JSON file (up to 10,000 in one request)')
      .argument('<file>', 'CSV with header uid,name,site,tags (tags as k=v;k=v), or a JSON array')
      .option('--idempotency-key <key>', IDEMPOTENCY_HELP),
  )
    .addHelpText(
      'after',
      `
File formats:
  CSV   uid,name,site,tags
        hw-0001,Till 1,shop-12,env=prod;tier=pos
        hw-0002,,shop-12,
  JSON  [{"uid": "hw-0001", "name": "Till 1", "site": "shop-12", "tags": {"env": "prod"}}]

Every row is checked before anything is sent; if any row is invalid nothing is imported.
Hosts that already exist are counted as "existing" and left as they are. The command exits 6
when the API refused some rows (the others are imported).
${examples('edgefleet hosts import fleet.csv', 'edgefleet hosts import fleet.json -o json')}`,
    )
    .action(
      action<{ idempotencyKey?: string }, [string]>(rt, async (s, o, file) => {
        const hosts = parseHostsFile(file, readInputFile(s.path(file), file));
        const key = s.idempotencyKey(o.idempotencyKey);
        // The API writes what fits in one request's time and hands the rest back as `unprocessed`:
        // send those rows again (each follow-up under its own key derived from this one) while it makes progress.
        const res: BatchResult = { created: 0, existing: 0, failed: [], unprocessed: [] };
        let rows = hosts;
        for (let round = 1; rows.length > 0; round++) {
          const part = await s.client.post<BatchResult>('/v1/hosts/batch', {
            what: `import ${rows.length} hosts from ${file}`,
            body: { hosts: rows },
            idempotencyKey: round === 1 ? key : `${key.slice(0, 120)}.${round}`,
          });
          res.created += part.created;
          res.existing += part.existing;
          res.failed.push(...part.failed);
          const left = new Set(part.unprocessed ?? []);
          if (left.size === 0 || left.size === rows.length) {
            res.unprocessed = [...left];
            break;
          }
          rows = rows.filter((h) => left.has(h.uid));
        }
        if (res.unprocessed.length > 0) {
          s.out.note(`${res.unprocessed.length} host(s) were not imported: the control plane had no time left for them (it is busy). Import the same file again later; hosts already imported count as existing.`);
          s.fail(EXIT.unavailable);
        }
        if (res.failed.length > 0) s.fail(EXIT.invalid);
        if (s.out.isJson) return s.out.json(res);
        s.out.line(`Imported ${file}: ${res.created} created, ${res.existing} already existed, ${res.failed.length} failed.`);
        if (res.failed.length) {
          s.out.line('');
          s.out.table(
            res.failed,
            [
              { header: 'UID', value: (f) => f.uid },
              { header: 'CODE', value: (f) => f.code },
              { header: 'DETAIL', value: (f) => f.detail },
            ],
            '',
          );
          s.out.note(`${res.failed.length} host(s) were not imported; fix them and import just those rows again.`);
        }
      }),
    );
}
