import { parseOperation } from '../../contracts/operations.js';
import type { HostProgress, OperationRecord, OperationStatus } from '../../domain/model.js';
import type { OperationChanges, OperationFilter, OperationRepository, Page, PageRequest } from '../../ports/index.js';
import { fingerprint, pageOf } from './page.js';
import { copy, withoutUndefined, type MemoryState } from './state.js';

const OPEN: readonly OperationStatus[] = ['queued', 'running', 'paused'];

/** Operations in memory: status-conditional updates, per-host progress, the open list oldest first. */
export class MemoryOperationRepository implements OperationRepository {
  constructor(private readonly state: MemoryState) {}

  /** Records a new operation (the cluster repository does it inside its transactions). */
  put(op: OperationRecord): void {
    this.state.operations.set(op.id, withoutUndefined(op));
  }

  async get(id: string): Promise<OperationRecord | undefined> {
    const op = this.state.operations.get(id);
    return op ? copy(op) : undefined;
  }

  async list(project: string, target: { type: string; id: string } | undefined, page: PageRequest, filter: OperationFilter = {}): Promise<Page<OperationRecord>> {
    const matches = [...this.state.operations.values()].filter((o) => o.project === project
      && (target === undefined || (o.target.type === target.type && o.target.id === target.id))
      && (filter.status === undefined || o.status === filter.status) && (filter.type === undefined || o.type === filter.type));
    const found = pageOf(matches, (o) => `${o.startedAt}#${o.id}`, page, fingerprint(['operations', project, target, filter.status, filter.type]), 'desc');
    return { ...found, items: found.items.map(copy) };
  }

  async update(id: string, changes: OperationChanges, ifStatusIn: readonly OperationStatus[], now: string): Promise<OperationRecord | undefined> {
    const current = this.state.operations.get(id);
    if (!current || !ifStatusIn.includes(current.status)) return undefined;
    const ends = changes.status !== undefined && !OPEN.includes(changes.status);
    const defined = withoutUndefined(changes);
    // Checked like a stored item read back: an input of another kind is refused here too.
    const next: OperationRecord = parseOperation({ ...current, ...defined, updatedAt: now, ...(ends && changes.endedAt === undefined ? { endedAt: now } : {}) });
    this.state.operations.set(id, next);
    return copy(next);
  }

  /** Every progress is written (in memory a write costs nothing); `commandHostId` is not needed. */
  async setHost(id: string, hostId: string, progress: HostProgress, _commandHostId?: string): Promise<void> {
    const current = this.state.operations.get(id);
    if (!current) return; // the operation is gone: nothing to record against
    this.state.operations.set(id, { ...current, hosts: { ...current.hosts, [hostId]: withoutUndefined(progress) } });
  }

  async create(op: OperationRecord): Promise<boolean> {
    if (this.state.operations.has(op.id)) return false;
    this.put(parseOperation(op));
    return true;
  }

  async listForTarget(target: { type: string; id: string }, limit: number): Promise<OperationRecord[]> {
    return [...this.state.operations.values()]
      .filter((o) => o.target.type === target.type && o.target.id === target.id)
      .sort((a, b) => `${b.startedAt}#${b.id}`.localeCompare(`${a.startedAt}#${a.id}`))
      .slice(0, Math.max(0, limit))
      .map(copy);
  }

  async listOpen(limit: number): Promise<OperationRecord[]> {
    if (limit <= 0) return [];
    return [...this.state.operations.values()]
      .filter((o) => OPEN.includes(o.status))
      .sort((a, b) => `${a.startedAt}#${a.id}`.localeCompare(`${b.startedAt}#${b.id}`))
      .slice(0, limit)
      .map(copy);
  }
}
