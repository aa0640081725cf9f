import type { HostLifecycleReader } from '../domain/device-admission.js';
import type { Clock, ClusterRepository, OperationRepository } from '../ports/index.js';
import type { CommandPublisher, CommandStore, PresenceWriter, StatusStore } from '../ports/device-plane.js';
import type { SecretStore, WorkflowEngine } from '../ports/workflow.js';
import type { HealthDeps } from './refresh-health.js';
import type { BundleStore, DiagnosticsRepository } from '../ports/diagnostics.js';

/** What the MQTT-plane use cases need. */
export interface DeviceDeps {
  readonly clock: Clock;
  readonly presence: PresenceWriter;
  readonly status: StatusStore;
  readonly commands: CommandStore;
  readonly publisher: CommandPublisher;
  /** The IoT rules process messages only from hosts that are registered and active. */
  readonly hostLifecycle: HostLifecycleReader;
  /** @default FULL_REPORT_INTERVAL_MS (hourly) */
  readonly fullReportIntervalMs?: number;
  /**
   * Fills in secret placeholders of a command when it is published (commands of workflows), and
   * takes the kubeconfig an init node returns (`put`).
   */
  readonly secrets?: Pick<SecretStore, 'get' | 'put'>;
  /** Commands sent by a workflow report their progress to its operation and complete its task token. */
  readonly operations?: Pick<OperationRepository, 'setHost' | 'get'>;
  /** A host's agent-update operations follow their command and the agent version the host reports. */
  readonly agentUpdates?: Pick<OperationRepository, 'get' | 'update' | 'listForTarget'>;
  readonly workflows?: Pick<WorkflowEngine, 'sendTaskSuccess' | 'sendTaskFailure'>;
  /**
   * The init node's pack reports are stored on its cluster (on change only); the cluster records
   * when its kubeconfig was stored (updateForOperation).
   */
  readonly clusters?: Pick<ClusterRepository, 'get' | 'recordPacks' | 'updateForOperation'>;
  /** Derived health, stored on change and published (absent: health is not tracked, e.g. in unit tests of other things). */
  readonly health?: HealthDeps;
  /** A `collect-diagnostics` command's request follows the command (collecting, uploaded, failed). */
  readonly diagnostics?: Pick<DiagnosticsRepository, 'get' | 'update'>;
  /** Presigns a collect-diagnostics command's upload form when it is published (never stored). */
  readonly bundles?: Pick<BundleStore, 'presignUpload'>;
  /** Zero-touch: a site host's connect or disconnect checks its site (absent: not wired, e.g. other rules' functions). */
  readonly checkSite?: (hostId: string) => Promise<unknown>;
}
