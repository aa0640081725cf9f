import { MemoryClusterRepository } from './cluster-repository.js';
import { MemoryAuditLog, MemoryProfileRepository, MemoryTokenRepository } from './catalog-repositories.js';
import {
  MemoryCommandStore, MemoryHostLifecycleReader, MemoryPresenceWriter, MemoryRegistrationStore, MemoryStatusStore,
} from './device-plane-stores.js';
import { MemoryHostRepository } from './host-repository.js';
import { MemoryHealthStore, RecordingEventPublisher } from './health-store.js';
import { MemoryIdempotencyStore } from './idempotency-store.js';
import { MemoryOperationRepository } from './operation-repository.js';
import {
  ManualClock, MemoryCsrInspector, MemoryDeviceRegistry, MemorySecretStore, RecordingCommandPublisher, RecordingWorkflowEngine, SequentialIds,
} from './services.js';
import { MemoryState } from './state.js';
import { MemoryBundleStore, MemoryDiagnosticsRepository } from './diagnostics.js';
import { MemorySiteStatusStore, MemoryTemplateRepository } from './templates.js';
import { MemoryRolloutStore, MemorySiteSettingsStore } from './rollouts.js';

export * from './alerts.js';
export * from './catalog-repositories.js';
export * from './cluster-repository.js';
export * from './device-plane-stores.js';
export * from './health-store.js';
export * from './host-repository.js';
export * from './idempotency-store.js';
export * from './operation-repository.js';
export * from './services.js';
export * from './diagnostics.js';
export * from './templates.js';
export * from './rollouts.js';
export { MemoryState } from './state.js';

/**
 * Every port, in memory, over one shared state: what a use case or a workflow step needs to run
 * in a unit test in milliseconds. The recording adapters (publisher, workflows, registry) are
 * exposed with their concrete types so tests can read what was sent, started and stopped.
 */
export function memoryAdapters(opts: { now?: Date | string; idPrefix?: string; auditRetentionDays?: number } = {}) {
  const clock = new ManualClock(opts.now);
  const state = new MemoryState(clock);
  const operations = new MemoryOperationRepository(state);
  return {
    state,
    clock,
    ids: new SequentialIds(opts.idPrefix),
    tokens: new MemoryTokenRepository(state),
    hosts: new MemoryHostRepository(state),
    profiles: new MemoryProfileRepository(state),
    clusters: new MemoryClusterRepository(state),
    operations,
    agentUpdates: operations,
    audit: new MemoryAuditLog(state, opts.auditRetentionDays),
    idempotency: new MemoryIdempotencyStore(state),
    presence: new MemoryPresenceWriter(state),
    status: new MemoryStatusStore(state),
    commands: new MemoryCommandStore(state),
    hostLifecycle: new MemoryHostLifecycleReader(state),
    registrations: new MemoryRegistrationStore(state),
    publisher: new RecordingCommandPublisher(),
    workflows: new RecordingWorkflowEngine(),
    secrets: new MemorySecretStore(),
    registry: new MemoryDeviceRegistry(),
    csr: new MemoryCsrInspector(),
    healthStore: new MemoryHealthStore(state),
    events: new RecordingEventPublisher(),
    diagnostics: new MemoryDiagnosticsRepository(),
    bundles: new MemoryBundleStore(),
    templates: new MemoryTemplateRepository(),
    sites: new MemorySiteStatusStore(),
    rollouts: new MemoryRolloutStore(),
    siteSettings: new MemorySiteSettingsStore(),
  };
}

export type MemoryAdapters = ReturnType<typeof memoryAdapters>;
