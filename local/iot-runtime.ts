import * as expireCommands from '../lambdas/handlers/scheduled/expire-commands.js';
import path from 'node:path';
import type { IotRuleName } from '../lambdas/contracts/iot.js';
import { commandMessage, TOPICS } from '../lambdas/contracts/mqtt.js';
import * as pendingCommands from '../lambdas/handlers/iot/pending-commands.js';
import * as presence from '../lambdas/handlers/iot/presence.js';
import * as results from '../lambdas/handlers/iot/results.js';
import * as status from '../lambdas/handlers/iot/status.js';
import { getLogger } from '../lambdas/handlers/observability.js';
import { syntheticContext } from '../lambdas/handlers/kit.js';
import type { Context } from 'aws-lambda';
import type { CommandEnvelope, CommandPublisher } from '../lambdas/ports/device-plane.js';
import { issueCommand, type DeviceDeps } from '../lambdas/use-cases/device-messages.js';
import { loadOrCreateCa, type LocalCa } from './local-ca.js';
import type { WorkflowDeps } from '../lambdas/use-cases/workflows/deps.js';
import { startBroker, type BrokerStats, type SessionMatch } from './mqtt-broker.js';
import { createIotRouter, type RuleHandler, type RuleStats } from './iot-router.js';
import { startSchedule } from './schedule.js';

export interface IotRuntimeOptions {
  /** The CA lives in `<dataDir>/ca` unless `ca` is given (share the device registry's). */
  readonly dataDir: string;
  readonly ca?: LocalCa;
  /** The device-plane ports of the composition root (the same ones the rule handlers get). */
  readonly deps: DeviceDeps;
  /** Receives the broker's publisher once the broker listens, before any message is routed (the root's publisher forwards to it). */
  readonly bindPublisher: (publisher: CommandPublisher) => void;
  /** 0 picks a free port. @default 8883 */
  readonly port?: number;
  /** `iot:Connection.Thing.IsAttached` (the device registry); default: every issued certificate. */
  readonly isAttached?: (thingName: string, certificateId: string) => boolean | Promise<boolean>;
  /** How often commands past their deadline are timed out. @default 10000 */
  readonly sweepIntervalMs?: number;
  /** When given, the sweep also ends operations past their deadline and starts lost ones. */
  readonly workflowDeps?: () => WorkflowDeps;
  /**
   * Runs one rule or schedule handler call as an asynchronous Lambda invocation of the named
   * function (its timeout, local/lambda-invocation.ts; Lambda's retries of a failed one,
   * local/async-invoke.ts). @default - a plain call
   */
  readonly invoke?: <R>(functionName: string, call: (context: Context) => Promise<R>) => Promise<R>;
}

export interface LocalIot {
  readonly port: number;
  /** `mqtts://127.0.0.1:<port>` */
  readonly mqttUrl: string;
  readonly ca: LocalCa;
  /** The same ports the rule handlers use (commands stored before they are published). */
  readonly deps: DeviceDeps;
  /** The local CommandPublisher: QoS 1 to edgefleet/hosts/<hostId>/commands. */
  readonly publisher: CommandPublisher;
  /** Server-side publish to any topic (what IoT's data-plane Publish API does for the cloud). */
  publish(topic: string, payload: string | Buffer, qos?: 0 | 1): Promise<void>;
  /** Publishes a command as-is (no storing): the port's contract, for callers that stored it. */
  publishCommand(hostId: string, command: CommandEnvelope): Promise<void>;
  /** Stores the command, then publishes it (the issueCommand use case). */
  sendCommand(hostId: string, command: CommandEnvelope): Promise<{ created: boolean; published: boolean }>;
  readonly brokerStats: Readonly<BrokerStats>;
  /** Closes live device sessions (a revoked certificate, a retired thing), asynchronously as IoT Core does. */
  closeSessions(match: SessionMatch): void;
  readonly ruleStats: Readonly<Record<IotRuleName, RuleStats>>;
  /** Resolves when every message received so far went through its rule handler. */
  whenIdle(): Promise<void>;
  stop(): Promise<void>;
}

/** IoT Core on one machine: the TLS broker enforcing the device policy, plus the topic rules. */
export async function startIot(opts: IotRuntimeOptions): Promise<LocalIot> {
  const ca = opts.ca ?? await loadOrCreateCa(path.join(opts.dataDir, 'ca'));
  const broker = await startBroker({ ca, port: opts.port ?? 8883, ...(opts.isAttached ? { isAttached: opts.isAttached } : {}) });
  const publisher: CommandPublisher = {
    publish: async (hostId, command) => {
      const message = commandMessage.parse(command);
      await broker.publish(TOPICS.commands(hostId), JSON.stringify(message), 1);
    },
  };
  opts.bindPublisher(publisher);
  const { deps } = opts;
  const depsFn = () => deps;
  const invoke = opts.invoke ?? (<R>(_name: string, call: (context: Context) => Promise<R>) => call(syntheticContext(_name)));
  const made = {
    status: status.makeHandler(depsFn), results: results.makeHandler(depsFn),
    'pending-commands': pendingCommands.makeHandler(depsFn), presence: presence.makeHandler(depsFn),
  };
  // Each rule's Lambda action is its own function (edgefleet-iot-<rule>), invoked asynchronously.
  const handlers = Object.fromEntries((Object.entries(made) as [IotRuleName, (event: never, context?: Context) => ReturnType<RuleHandler>][])
    .map(([rule, h]) => [rule, (event: unknown) => invoke(`edgefleet-iot-${rule}`, (context) => h(event as never, context))])) as Record<IotRuleName, RuleHandler>;
  const logger = getLogger();
  const router = createIotRouter(handlers, (level, message, detail) => logger[level](message, detail));
  broker.onMessage((topic, payload) => router.route(topic, payload));
  // The deadline sweep (an EventBridge schedule on AWS): the same scheduled handler on a timer.
  const sweep = expireCommands.makeHandler(depsFn, opts.workflowDeps);
  const deadlines = startSchedule({ name: 'command deadline sweep', everyMs: opts.sweepIntervalMs ?? 10_000, run: () => invoke('edgefleet-command-sweeper', (context) => sweep({}, context)), overlap: 'allowed' });

  return {
    port: broker.port, mqttUrl: broker.url, ca, deps, publisher,
    publish: (topic, payload, qos) => broker.publish(topic, payload, qos),
    publishCommand: (hostId, command) => publisher.publish(hostId, command),
    sendCommand: (hostId, command) => issueCommand(deps, hostId, command),
    brokerStats: broker.stats, ruleStats: router.stats,
    closeSessions: (match) => broker.closeSessions(match),
    whenIdle: () => router.whenIdle(),
    stop: async () => {
      await deadlines.stop();
      await broker.stop();
      // Lifecycle events of the last disconnects are delivered asynchronously: let them land
      // (the database is stopped after this) so presence is recorded as offline.
      for (let i = 0; i < 3; i++) {
        await new Promise((r) => setTimeout(r, 50));
        await router.whenIdle();
      }
    },
  };
}
