import { ConflictError, UnavailableError } from '../domain/errors.js';
import { applyResult, expire, markSent, supersede, unsend, type CommandRecord, type CommandResult } from '../domain/command.js';
import { runEnded } from '../domain/workflow.js';
import { canonicalJson, decideStatus, FULL_REPORT_INTERVAL_MS, type StatusDecision } from '../domain/device-status.js';
import { nextPresence, type PresenceChange } from '../domain/presence.js';
import { commandChanged } from './workflows/command-changed.js';
import type { CommandEnvelope } from '../ports/device-plane.js';
import { createHash } from 'node:crypto';
import { reportSwallowed } from './swallowed-failure.js';
import type { DeviceDeps } from './device-deps.js';
import type { PackStatus } from '../domain/packs.js';
import { recordClusterPacks } from './record-cluster-packs.js';
import { refreshClusterHealth, refreshHostHealth } from './refresh-health.js';
import { withUploadForm } from './diagnostics-upload.js';
import { agentVersionReported } from './agent-update-progress.js';

/** Re-exported: importers know it from here. */
export type { DeviceDeps } from './device-deps.js';

/** A lifecycle event: written only if newer than the stored one (the store re-checks atomically). */
export async function recordPresence(deps: DeviceDeps, hostId: string, event: PresenceChange): Promise<boolean> {
  const next = nextPresence(undefined, event);
  const wrote = next ? await deps.presence.apply(hostId, next) : false;
  if (wrote) await healthAfterWrite(deps, hostId);
  if (wrote) await siteAfterPresence(deps, hostId);
  return wrote;
}

/**
 * After a presence write: the zero-touch check of the host's site (its cluster built, or new
 * hosts added). A failure is reported, not thrown: the presence is stored, and the site's next
 * connect or disconnect checks it again.
 */
async function siteAfterPresence(deps: DeviceDeps, hostId: string): Promise<void> {
  if (!deps.checkSite) return;
  try {
    await deps.checkSite(hostId);
  } catch (error) {
    reportSwallowed({
      metric: 'SiteCheckFailed', error, hostId,
      message: `the presence of host ${hostId} was stored but its site was not checked for its template's cluster`,
      action: 'look at GET /v1/sites; the next connect or disconnect of a host of the site checks it again',
    });
  }
}

/**
 * After a presence or status write: the host's (and its cluster's) derived health, stored and
 * published when it changed. A failure here is reported, not thrown: the write it follows is
 * done, and the next change derives the health again.
 */
async function healthAfterWrite(deps: DeviceDeps, hostId: string, clusterOnly?: string): Promise<void> {
  if (!deps.health) return;
  try {
    if (clusterOnly) await refreshClusterHealth(deps.health, clusterOnly);
    else await refreshHostHealth(deps.health, hostId);
  } catch (error) {
    reportSwallowed({
      metric: 'HealthRefreshFailed', error, hostId,
      message: `the report of host ${hostId} was stored but its derived health was not updated; the API may show an older health until its next change`,
      action: 'check the state table\'s availability and the function\'s permissions; the next status or presence change of the host derives it again',
    });
  }
}

export interface StatusReport {
  readonly at: string;
  readonly seq: number;
  readonly kind: 'change' | 'full';
  /** The init node's packs (stored on its cluster as well, on change). */
  readonly packs?: readonly PackStatus[];
  readonly [field: string]: unknown;
}

/**
 * Stores a status report only when it changed, or when the slow full refresh is due; the init
 * node's packs go to its cluster when they differ from the cluster's (an older report never).
 */
export async function recordStatus(deps: DeviceDeps, hostId: string, report: StatusReport): Promise<StatusDecision> {
  const { decision, previousAgentVersion } = await recordHostStatus(deps, hostId, report);
  if (decision.store) await healthAfterWrite(deps, hostId);
  // An agent update waiting for this host to report its new version ends when it does (looked
  // up only when the reported version changed: an idle fleet costs no reads here).
  if (decision.store && typeof report.agentVersion === 'string' && report.agentVersion !== previousAgentVersion) await agentVersionReported({ clock: deps.clock, operations: deps.agentUpdates }, hostId, report.agentVersion);
  // Whatever the host's own decision: a redelivered report whose cluster write failed the first
  // time still reaches the cluster (the decision there is change-only and never older over newer).
  if (report.packs) {
    const packs = await recordClusterPacks(deps, hostId, report.packs, report.at);
    if (packs.store && packs.clusterId) await healthAfterWrite(deps, hostId, packs.clusterId);
  }
  return decision;
}

async function recordHostStatus(deps: DeviceDeps, hostId: string, report: StatusReport): Promise<{ decision: StatusDecision; previousAgentVersion?: string }> {
  const { at, seq, kind, ...content } = report;
  const atMs = Date.parse(at);
  const fingerprint = createHash('sha256').update(canonicalJson(content)).digest('base64url');
  const now = deps.clock.now().getTime();
  const stored = await deps.status.get(hostId);
  const decision = decideStatus(stored, { at: atMs, seq, kind, content }, fingerprint, now, deps.fullReportIntervalMs ?? FULL_REPORT_INTERVAL_MS);
  const previous = stored?.content.agentVersion;
  const previousAgentVersion = typeof previous === 'string' ? previous : undefined;
  if (!decision.store) return { decision, previousAgentVersion };
  const wrote = await deps.status.put(hostId, { at: atMs, seq, fingerprint, storedAt: now, content });
  return { decision: wrote ? decision : { store: false, reason: 'stale' }, previousAgentVersion };
}

export type ResultHandling = ReturnType<typeof applyResult>['kind'] | 'ignored' | 'lost-race';

/** Results of one command arrive within milliseconds of each other and are applied concurrently. */
const RESULT_ATTEMPTS = 12;

/**
 * Applies a device result; idempotent, and retried on a concurrent update of the same command.
 * `read` is the command as the caller read it (saves the first read; the update is conditional
 * on its version, so a stale one only costs a retry).
 */
export async function recordResult(deps: DeviceDeps, hostId: string, commandId: string, result: CommandResult, read?: CommandRecord): Promise<ResultHandling> {
  for (let attempt = 0; attempt < RESULT_ATTEMPTS; attempt++) {
    const current = attempt === 0 && read ? read : await deps.commands.get(hostId, commandId);
    const outcome = applyResult(current, result, deps.clock.now());
    if (outcome.kind === 'ignored') return 'ignored';
    if (outcome.kind === 'redelivered') {
      await commandChanged(deps, outcome.current, { hostRow: false });
      return 'redelivered';
    }
    if (await deps.commands.update(outcome.next)) {
      await commandChanged(deps, outcome.next);
      return outcome.kind;
    }
    // Lost an optimistic-concurrency race with another result: re-read after a jittered pause.
    await new Promise((r) => setTimeout(r, Math.random() * 10 * (attempt + 1)));
  }
  // Never drop a result silently: failing the invocation makes IoT/Lambda deliver it again.
  throw new ConflictError('result-lost-race', `result ${result.phase} of command ${commandId} on ${hostId} lost ${RESULT_ATTEMPTS} update races; it will be delivered again`);
}

/** What storing and publishing a command needs. */
export type CommandDeps = Pick<DeviceDeps, 'clock' | 'commands' | 'publisher' | 'secrets' | 'bundles'>;

/**
 * What goes on the wire: the stored command with its secret placeholders filled in. The
 * secret exists only in this message (TLS to the one device allowed to read the topic).
 */
/** Kept for the diagnostics use case: the same as CommandDeps. */
export type IssueDeps = CommandDeps;

async function envelope(deps: CommandDeps, stored: CommandRecord): Promise<CommandEnvelope> {
  // Large parameters are stored in their own item (read only here, when the command goes out).
  const c = await deps.commands.withParams(stored);
  let params = c.params;
  for (const [placeholder, name] of Object.entries(c.secrets ?? {})) {
    const value = deps.secrets ? await deps.secrets.get(name) : undefined;
    if (value === undefined) {
      throw new UnavailableError('command-secret-missing', `command ${c.commandId} for ${c.hostId} needs the secret ${name}, which is missing; it stays queued`);
    }
    params = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, typeof v === 'string' ? v.split(placeholder).join(value) : v]));
  }
  return { commandId: c.commandId, type: c.type, params: await withUploadForm(deps, c, params), deadline: c.deadline };
}

/**
 * Publishes a stored command and marks it sent; a failure leaves it queued (fetched on
 * reconnect). A command stored already marked sent (`storedSent`, just created) needs no write
 * after a publish, and goes back to queued after a failed one.
 */
export async function publishStored(deps: CommandDeps, c: CommandRecord): Promise<boolean> {
  try {
    await deps.publisher.publish(c.hostId, await envelope(deps, c));
  } catch (error) {
    reportSwallowed({
      metric: 'CommandPublishFailed', error, hostId: c.hostId, commandId: c.commandId, operationId: c.operationId,
      message: `command ${c.commandId} (${c.type}) for host ${c.hostId} is stored but was not published; it stays queued and is sent when the host asks for pending commands on its next (re)connect`,
      action: 'if this repeats while the host is online, check the IoT data-plane endpoint and the publishing role (iot:Publish), or a missing command secret',
    });
    const back = unsend(c, deps.clock.now());
    // Lost race: the device already answered (it got the command after all), or the run ended it.
    if (back) await deps.commands.update(back);
    return false;
  }
  const sent = markSent(c, deps.clock.now());
  if (sent) await deps.commands.update(sent);
  return true;
}

/**
 * A new command that is published right after it is stored: stored already marked sent, so
 * storing and sending cost one write (publishStored sets it back to queued if the publish fails).
 */
export function storedSent(c: CommandRecord, now: Date): CommandRecord {
  return c.state === 'queued' ? { ...c, state: 'sent', sentAt: now.toISOString() } : c;
}

/**
 * A command is stored before it is published. If publishing fails it stays queued and goes out
 * when the device asks for pending commands on its next (re)connect.
 */
export async function issueCommand(
  deps: CommandDeps, hostId: string, command: Pick<CommandRecord, 'commandId' | 'type' | 'params' | 'deadline'> & Partial<Pick<CommandRecord, 'operationId'>>,
): Promise<{ created: boolean; published: boolean }> {
  const now = deps.clock.now();
  const record = storedSent({ ...command, hostId, state: 'queued', version: 1, createdAt: now.toISOString(), updatedAt: now.toISOString() }, now);
  if (!(await deps.commands.create(record))) return { created: false, published: false };
  return { created: true, published: await publishStored(deps, record) };
}

/**
 * The device asks again on (re)connect: commands past their deadline become timed-out, the
 * ones it has not acknowledged (queued, sent) are published again. The device runs a command
 * id at most once, so a repeat is harmless.
 */
export async function sendPendingCommands(deps: DeviceDeps, hostId: string): Promise<{ sent: string[]; timedOut: string[] }> {
  const sent: string[] = [];
  const timedOut: string[] = [];
  for (const c of await deps.commands.listUnfinished(hostId)) {
    const now = deps.clock.now();
    const expired = expire(c, now);
    if (expired) {
      if (await deps.commands.update(expired)) {
        timedOut.push(c.commandId);
        await commandChanged(deps, expired);
      }
      continue;
    }
    if (c.state !== 'queued' && c.state !== 'sent') continue;
    if (await supersededByRun(deps, c, now)) continue;
    await deps.publisher.publish(hostId, await envelope(deps, c));
    const marked = markSent(c, now);
    if (marked) await deps.commands.update(marked);
    sent.push(c.commandId);
  }
  return { sent, timedOut };
}

/**
 * A workflow's command whose run ended (the operation failed, paused, was cancelled, or a
 * resume replaced the run) is superseded instead of delivered: a host that reconnects late
 * never runs a step of a run that is over.
 */
async function supersededByRun(deps: DeviceDeps, c: CommandRecord, now: Date): Promise<boolean> {
  if (!c.operationId || !deps.operations) return false;
  const op = await deps.operations.get(c.operationId);
  const ended = op ? runEnded(op, c.execution) : `operation ${c.operationId} no longer exists`;
  if (!ended) return false;
  const next = supersede(c, now, ended);
  if (next && (await deps.commands.update(next))) await commandChanged(deps, next);
  return true;
}

/**
 * The deadline sweep: a command whose host never comes back still ends in a named state
 * (`timed-out`, reason deadline-passed). Runs on a schedule; safe to run concurrently (each
 * expiry is a conditional update, a lost race means someone else finished it).
 */
export async function expireOverdueCommands(deps: DeviceDeps, batch = 100): Promise<{ timedOut: string[] }> {
  const timedOut: string[] = [];
  for (const c of await deps.commands.listOverdue(deps.clock.now(), batch)) {
    const expired = expire(c, deps.clock.now());
    if (expired && (await deps.commands.update(expired))) {
      timedOut.push(`${c.hostId}/${c.commandId}`);
      await commandChanged(deps, expired);
    }
  }
  return { timedOut };
}
