import type { CommandRecord } from '../domain/command.js';
import { COLLECT_DIAGNOSTICS, diagnosticsIdOf, followCommand } from '../domain/diagnostics.js';
import type { DiagnosticsRepository } from '../ports/diagnostics.js';

const ATTEMPTS = 5;

/**
 * A `collect-diagnostics` command changed (a result, a timeout, a supersede): its request
 * follows (collecting, uploaded with the bundle's size and sha256, failed with the reason).
 * Conditional on the record's version; a lost race re-reads.
 */
export async function recordDiagnosticsProgress(deps: { readonly diagnostics?: Pick<DiagnosticsRepository, 'get' | 'update'> }, c: CommandRecord): Promise<void> {
  const id = c.type === COLLECT_DIAGNOSTICS ? diagnosticsIdOf(c.commandId) : undefined;
  if (!id || !deps.diagnostics) return;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const current = await deps.diagnostics.get(c.hostId, id);
    const next = current ? followCommand(current, c) : undefined;
    if (!next) return;
    if (await deps.diagnostics.update(next)) return;
  }
  throw new Error(`diagnostics request ${id} of host ${c.hostId} lost ${ATTEMPTS} update races; the result will be delivered again`);
}
