import { nextTurn } from '../../domain/admission.js';
import { UNFINISHED, type CommandRecord } from '../../domain/command.js';
import type { HostLifecycleReader } from '../../domain/device-admission.js';
import type { StoredStatus } from '../../domain/device-status.js';
import type { HostStatus } from '../../domain/host-lifecycle.js';
import type { HostRecord } from '../../domain/model.js';
import type { PresenceState } from '../../domain/presence.js';
import type { CommandStore, PresenceWriter, StatusStore } from '../../ports/device-plane.js';
import type { RegistrationStore, RegistrationTurn, RegistrationTurns, RegistrationWriteResult } from '../../ports/device-registry.js';
import { commandKey, copy, withoutUndefined, type MemoryState } from './state.js';

/** Presence guarded by the broker time `at`: out-of-order and duplicate events converge. */
export class MemoryPresenceWriter implements PresenceWriter {
  constructor(private readonly state: MemoryState) {}

  async apply(hostId: string, presence: PresenceState): Promise<boolean> {
    const stored = this.state.presence.get(hostId);
    if (stored && stored.at >= presence.at) return false;
    this.state.presence.set(hostId, withoutUndefined(presence));
    return true;
  }
}

export class MemoryStatusStore implements StatusStore {
  constructor(private readonly state: MemoryState) {}

  async get(hostId: string): Promise<StoredStatus | undefined> {
    const s = this.state.status.get(hostId);
    return s ? copy(s) : undefined;
  }

  async put(hostId: string, status: StoredStatus): Promise<boolean> {
    const stored = this.state.status.get(hostId);
    if (stored && !(stored.at < status.at || (stored.at === status.at && stored.seq < status.seq))) return false;
    this.state.status.set(hostId, copy(status));
    return true;
  }
}

const unfinished = (c: CommandRecord) => UNFINISHED.includes(c.state);

export class MemoryCommandStore implements CommandStore {
  constructor(private readonly state: MemoryState) {}

  async create(command: CommandRecord): Promise<boolean> {
    const key = commandKey(command.hostId, command.commandId);
    if (this.state.commands.has(key)) return false;
    this.state.commands.set(key, withoutUndefined(command));
    return true;
  }

  async get(hostId: string, commandId: string): Promise<CommandRecord | undefined> {
    const c = this.state.commands.get(commandKey(hostId, commandId));
    return c ? copy(c) : undefined;
  }

  async update(next: CommandRecord): Promise<boolean> {
    const key = commandKey(next.hostId, next.commandId);
    const stored = this.state.commands.get(key);
    if (!stored || stored.version !== next.version - 1) return false;
    this.state.commands.set(key, withoutUndefined(next));
    return true;
  }

  /** Parameters are never stored apart here. */
  async withParams(c: CommandRecord): Promise<CommandRecord> {
    return c;
  }

  async listUnfinished(hostId: string): Promise<CommandRecord[]> {
    return [...this.state.commands.values()]
      .filter((c) => c.hostId === hostId && unfinished(c))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
      .map(copy);
  }

  async listOverdue(now: Date, limit: number): Promise<CommandRecord[]> {
    const at = now.toISOString();
    return [...this.state.commands.values()]
      .filter((c) => unfinished(c) && c.deadline < at)
      .sort((a, b) => `${a.deadline}#${a.hostId}#${a.commandId}`.localeCompare(`${b.deadline}#${b.hostId}#${b.commandId}`))
      .slice(0, limit)
      .map(copy);
  }
}

/** The host's lifecycle status, read for every device message. */
export class MemoryHostLifecycleReader implements HostLifecycleReader {
  constructor(private readonly state: MemoryState) {}

  async lifecycle(hostId: string): Promise<{ status: HostStatus; clusterId?: string } | undefined> {
    const h = this.state.hosts.get(hostId);
    return h ? { status: h.status, ...(h.clusterId ? { clusterId: h.clusterId } : {}) } : undefined;
  }
}

/** Token use and host write, both or neither. */
export class MemoryRegistrationStore implements RegistrationStore {
  constructor(private readonly state: MemoryState) {}

  async consumeTokenAndPutHost(tokenId: string, now: string, host: HostRecord, expectedVersion: number | undefined): Promise<RegistrationWriteResult> {
    const token = this.state.tokens.get(tokenId);
    const usable = token !== undefined && !token.revoked && token.expiresAt > now && (token.maxUses === undefined || token.uses < token.maxUses);
    if (!usable) return { ok: false, reason: 'token' };
    const stored = this.state.hosts.get(host.id);
    if (expectedVersion === undefined ? stored !== undefined : stored?.version !== expectedVersion) return { ok: false, reason: 'host' };
    this.state.tokens.set(tokenId, { ...token, uses: token.uses + 1 });
    this.state.hosts.set(host.id, withoutUndefined(host));
    return { ok: true };
  }

  async putHost(host: HostRecord, expectedVersion: number | undefined): Promise<RegistrationWriteResult> {
    const stored = this.state.hosts.get(host.id);
    if (expectedVersion === undefined ? stored !== undefined : stored?.version !== expectedVersion) return { ok: false, reason: 'host' };
    this.state.hosts.set(host.id, withoutUndefined(host));
    return { ok: true };
  }

  async countUse(tokenId: string): Promise<void> {
    const token = this.state.tokens.get(tokenId);
    if (token) this.state.tokens.set(tokenId, { ...token, uses: token.uses + 1 });
  }

}

/** The admission clock and the turns it handed out (domain/admission.ts), as the DynamoDB adapter keeps them. */
export class MemoryRegistrationTurns implements RegistrationTurns {
  private clockMs: number | undefined;
  /** Turns taken, as the clock item counts them. */
  taken = 0;
  readonly turns = new Map<string, RegistrationTurn>();

  async heldBy(hostId: string): Promise<RegistrationTurn | undefined> {
    return this.turns.get(hostId);
  }

  async take(nowMs: number, spacingMs: number): Promise<number> {
    const next = nextTurn(this.clockMs, nowMs, spacingMs);
    this.clockMs = next.clockMs;
    this.taken++;
    return next.turnMs;
  }

  async keep(hostId: string, turnMs: number): Promise<void> {
    this.turns.set(hostId, { turnMs, used: false });
  }

  async use(hostId: string): Promise<boolean> {
    const t = this.turns.get(hostId);
    if (!t || t.used) return false;
    this.turns.set(hostId, { ...t, used: true });
    return true;
  }
}
