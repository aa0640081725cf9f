import { createHash } from 'node:crypto';
import type { MachineKind, WorkflowInput } from '../../domain/workflow.js';
import type { Clock, IdGenerator } from '../../ports/index.js';
import type { CommandEnvelope, CommandPublisher } from '../../ports/device-plane.js';
import type { CsrInspector, DeviceRegistry, ProvisionedDevice } from '../../ports/device-registry.js';
import type { SecretStore, WorkflowEngine } from '../../ports/workflow.js';

/** A clock that moves only when told to. */
export class ManualClock implements Clock {
  private ms: number;
  constructor(start: Date | string = '2026-01-01T00:00:00Z') { this.ms = new Date(start).getTime(); }
  now(): Date { return new Date(this.ms); }
  set(at: Date | string): void { this.ms = new Date(at).getTime(); }
  advance(ms: number): void { this.ms += ms; }
}

/**
 * Predictable ids in the shape of the real ones (lowercase, 8+ characters): `<prefix>00000001`,
 * `<prefix>00000002`, …; secrets are distinct and base64url.
 */
export class SequentialIds implements IdGenerator {
  private n = 0;
  constructor(private readonly prefix = 'id') {}
  newId(): string { return `${this.prefix}${String(++this.n).padStart(8, '0')}`; }
  secret(bytes: number): string {
    const seed = `secret-${++this.n}`;
    const out = Buffer.alloc(bytes);
    for (let i = 0; i < bytes; i += 32) createHash('sha256').update(`${seed}-${i}`).digest().copy(out, i);
    return out.toString('base64url');
  }
}

export interface StartedExecution { readonly kind: MachineKind; readonly name: string; readonly input: WorkflowInput }
export interface TaskOutcome { readonly token: string; readonly output?: Readonly<Record<string, unknown>>; readonly error?: string; readonly cause?: string }

/**
 * A workflow engine that runs nothing: it records what was started, completed and stopped, and
 * keeps Step Functions' rules that matter to callers (an execution name is started once; a
 * task token completes once, later completions are ignored).
 */
export class RecordingWorkflowEngine implements WorkflowEngine {
  readonly started: StartedExecution[] = [];
  readonly stopped: { kind: MachineKind; name: string; cause: string }[] = [];
  readonly completed: TaskOutcome[] = [];

  async start(kind: MachineKind, executionName: string, input: WorkflowInput): Promise<{ started: boolean }> {
    if (this.started.some((e) => e.name === executionName)) return { started: false };
    this.started.push({ kind, name: executionName, input: structuredClone(input) });
    return { started: true };
  }

  async sendTaskSuccess(token: string, output: Readonly<Record<string, unknown>>): Promise<void> {
    if (!this.completed.some((t) => t.token === token)) this.completed.push({ token, output: structuredClone(output) });
  }

  async sendTaskFailure(token: string, error: string, cause: string): Promise<void> {
    if (!this.completed.some((t) => t.token === token)) this.completed.push({ token, error, cause });
  }

  async stop(kind: MachineKind, executionName: string, cause: string): Promise<void> {
    if (!this.stopped.some((s) => s.name === executionName)) this.stopped.push({ kind, name: executionName, cause });
  }

  isStopped(executionName: string): boolean {
    return this.stopped.some((s) => s.name === executionName);
  }
}

/** Records every command put on a host's topic, in order. */
export class RecordingCommandPublisher implements CommandPublisher {
  readonly published: { hostId: string; command: CommandEnvelope }[] = [];
  async publish(hostId: string, command: CommandEnvelope): Promise<void> {
    this.published.push({ hostId, command: structuredClone(command) });
  }
  to(hostId: string): CommandEnvelope[] {
    return this.published.filter((p) => p.hostId === hostId).map((p) => p.command);
  }
}

export class MemorySecretStore implements SecretStore {
  readonly secrets = new Map<string, string>();
  async ensure(name: string, generate: () => string): Promise<string> {
    const existing = this.secrets.get(name);
    if (existing !== undefined) return existing;
    const value = generate();
    this.secrets.set(name, value);
    return value;
  }
  async get(name: string): Promise<string | undefined> { return this.secrets.get(name); }
  async put(name: string, value: string): Promise<void> { this.secrets.set(name, value); }
  async delete(name: string): Promise<void> { this.secrets.delete(name); }
}

/**
 * A device registry without a CA: each provisioning issues a new placeholder certificate (as
 * CreateCertificateFromCsr does) attached to the thing; every call is idempotent where the
 * port requires it (a thing is created once, a revoke or deprovision repeats harmlessly).
 */
export class MemoryDeviceRegistry implements DeviceRegistry {
  readonly things = new Map<string, { certificates: Set<string>; attributes: Readonly<Record<string, string>> }>();
  readonly revoked = new Set<string>();
  readonly disconnected: string[] = [];
  private issued = 0;
  private readonly where = { caPem: '', endpoint: 'localhost', port: 8883 };

  async provision(thingName: string, _csrPem: string, attributes: Readonly<Record<string, string>>): Promise<ProvisionedDevice> {
    const certificateId = `cert-${thingName}-${++this.issued}`;
    const thing = this.things.get(thingName) ?? { certificates: new Set<string>(), attributes: { ...attributes } };
    thing.certificates.add(certificateId);
    this.things.set(thingName, { ...thing, attributes: { ...attributes } });
    return { ...this.where, certificateId, certificatePem: `-----BEGIN CERTIFICATE-----\n${certificateId}\n-----END CERTIFICATE-----\n` };
  }
  async connection() { return { ...this.where }; }
  async revoke(certificateId: string): Promise<void> { this.revoked.add(certificateId); }
  async retireOtherCertificates(thingName: string, keep: string): Promise<string[]> {
    const certs = this.things.get(thingName)?.certificates;
    const retired = [...(certs ?? [])].filter((id) => id !== keep);
    for (const id of retired) {
      this.revoked.add(id);
      certs!.delete(id);
    }
    return retired;
  }
  async deprovision(thingName: string): Promise<void> { this.things.delete(thingName); }
  async disconnect(thingName: string): Promise<void> { this.disconnected.push(thingName); }
}

/** Accepts any CSR; its "public key" is derived from the CSR text (same CSR, same key). */
export class MemoryCsrInspector implements CsrInspector {
  async inspect(csrPem: string): Promise<{ publicKeyPem: string }> {
    return { publicKeyPem: `-----BEGIN PUBLIC KEY-----\n${Buffer.from(csrPem).toString('base64').slice(0, 64)}\n-----END PUBLIC KEY-----\n` };
  }
}
