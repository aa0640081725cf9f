import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import path from 'node:path';
import type { ApiGroup } from '../lib/api-routes.js';
import { tablesFromTemplate } from '../lib/template-tables.js';
import * as alertRules from '../lambdas/handlers/http/alert-rules.js';
import * as audit from '../lambdas/handlers/http/audit.js';
import { HttpWebhookSender } from '../lambdas/adapters/http/webhook-sender.js';
import { dispatchHealthEvent } from '../lambdas/use-cases/dispatch-alerts.js';
import * as clusters from '../lambdas/handlers/http/clusters.js';
import * as device from '../lambdas/handlers/http/device.js';
import * as hosts from '../lambdas/handlers/http/hosts.js';
import * as meta from '../lambdas/handlers/http/meta.js';
import * as operations from '../lambdas/handlers/http/operations.js';
import * as profiles from '../lambdas/handlers/http/profiles.js';
import * as tokens from '../lambdas/handlers/http/tokens.js';
import * as tunnelRoutes from '../lambdas/handlers/http/tunnels.js';
import * as tunnelSweep from '../lambdas/handlers/scheduled/sweep-tunnels.js';
import { grantIdFor } from '../lambdas/domain/troubleshoot-grant.js';
import { APPROVAL_WAIT_MINUTES } from '../lambdas/domain/tunnel.js';
import * as userData from '../lambdas/handlers/http/user-data.js';
import * as diagnostics from '../lambdas/handlers/http/diagnostics.js';
import { LocalBundleStore } from './local-bundle-store.js';
import { LocalAgentArtifacts } from './local-agent-artifacts.js';
import { LISTEN_BACKLOG } from './listen-backlog.js';
import { canListen, stablePort } from './stable-port.js';
import { startApiFront } from './api-front.js';
import { ACCOUNT_API_THROTTLE, stageThrottles } from './api-throttle.js';
import { fileURLToPath } from 'node:url';
import { composeRoot, type HttpDeps } from '../lambdas/handlers/composition-root.js';
import { loadConfig } from '../lambdas/handlers/config.js';
import { HANDLER_ENV } from '../lambdas/contracts/routes.js';
import { IDEMPOTENCY_KEY_SECRET } from '../lambdas/contracts/workflows.js';
import type { CommandPublisher } from '../lambdas/ports/device-plane.js';
import type { DocClient } from '../lambdas/adapters/dynamodb/client.js';
import { createApiGateway, type GroupHandler } from './api-gateway.js';
import { startDynamoLocal, ensureTables, type DynamoLocal } from './dynamodb-local.js';
import { cachedTemplate } from './template-cache.js';
import { loadOrCreateIssuer, type LocalIssuer } from './local-issuer.js';
import { loadOrCreateCa, type LocalCa } from './local-ca.js';
import { LocalDeviceRegistry } from './local-device-registry.js';
import { startIot, type LocalIot } from './iot-runtime.js';
import { resetPresence } from './presence-reset.js';
import { FileSecretStore } from './file-secret-store.js';
import { LocalEventBus } from './event-bus.js';
import { startAlerting } from './alert-sweep.js';
import { startSchedule } from './schedule.js';
import { localTunnelService } from './local-tunnel-service.js';
import { startTunnelRelay, type TunnelRelay } from './tunnel-relay.js';
import { consoleSite } from './console-site.js';
import { LocalWorkflowEngine } from './step-functions.js';
import { FunctionTimeouts, HTTP_API_INTEGRATION_TIMEOUT_MS } from './function-timeouts.js';
import { invokeLocal, refuseAfterTimeout, refuseSdkCallsAfterTimeout } from './lambda-invocation.js';
import { AsyncInvoker } from './async-invoke.js';
import type { Context } from 'aws-lambda';
import * as hostCommand from '../lambdas/handlers/workflow/host-command.js';
import * as workflowStep from '../lambdas/handlers/workflow/workflow-step.js';
import { getLogger } from '../lambdas/handlers/observability.js';
import { UnavailableError } from '../lambdas/domain/errors.js';
import type { WorkflowEngine } from '../lambdas/ports/workflow.js';
import { DEFAULT_WORKFLOW_SETTINGS, type WorkflowDeps } from '../lambdas/use-cases/workflows/deps.js';
import { resumeOperations } from '../lambdas/use-cases/workflows/sweep-operations.js';
import { resumeRollouts } from '../lambdas/use-cases/workflows/rollout-tick.js';

export interface LocalOptions {
  /** 0 picks a free port. @default 8080 */
  readonly port?: number;
  /** @default '.edgefleet' */
  readonly dataDir?: string;
  /** Keep DynamoDB in memory (tests that need no persistence). @default false */
  readonly inMemory?: boolean;
  /** Log level of the handlers. @default 'WARN' */
  readonly logLevel?: string;
  /** How often commands past their deadline are timed out. @default 10000 */
  readonly commandSweepMs?: number;
  /** Where the synthesized template is cached. @default '<dataDir>/template-cache.json' */
  readonly templateCache?: string;
  /** MQTT (TLS) port of the local IoT broker; 0 picks a free one. @default 8883, or 0 when `port` is 0 */
  readonly mqttPort?: number;
  /** Seconds one host may take for one workflow step (join, drain, reset). @default 1800 */
  readonly hostTimeoutSeconds?: number;
  /**
   * Registrations admitted to the (local) IoT registry per second, as the stack's
   * `registerAdmission` does on AWS; the rest get 429 with the Retry-After of the turn kept for them. @default unlimited
   */
  readonly registerAdmissionPerSecond?: number;
  /** How often the cloud refreshes an unchanged status (benchmarks shorten it with the agents' full-report cadence). @default hourly */
  readonly fullReportIntervalMs?: number;
  /**
   * A tunnel's lifetime is its `durationMinutes` times this (tests use short tunnels: e.g.
   * 1/60 closes a 1-minute tunnel after a second). @default 1
   */
  readonly tunnelTimeScale?: number;
  /** How often open alerts are notified again when due (an EventBridge schedule on AWS). @default 60000 */
  readonly alertSweepMs?: number;
  /** An alert rule's re-notify interval is its `renotifyMinutes` times this (tests). @default 1 */
  readonly alertTimeScale?: number;
  /** How often the tunnel sweep runs (EventBridge rate(1 minute) on AWS). @default 60000 */
  readonly tunnelSweepMs?: number;
  /**
   * Shorter Lambda timeouts on this machine, in seconds by function (service name, e.g.
   * `{ 'edgefleet-api-hosts': 1 }`), for tests of what a timeout does. @default - each
   * function's timeout in the synthesized template, as on AWS
   */
  readonly functionTimeoutSeconds?: Readonly<Record<string, number>>;
  /**
   * How many invocations of one function run at a time on this machine; the others wait for a
   * slot before they start (their timeout counts from the start, as Lambda's). On AWS each
   * invocation has its own execution environment; here they share two cores and one DynamoDB
   * Local, and unbounded a registration storm timed out nearly every invocation. For storms
   * (bench:fleet uses 16).
   * @default - unbounded, as on AWS below the account's concurrency
   */
  readonly functionConcurrency?: number;
  /**
   * API Gateway's stage throttles, as the synthesized stage declares them (local/api-throttle.ts:
   * each route's token bucket, 429 past it). `false` turns them off on this machine, for a
   * benchmark of the handlers behind them (bench:api drives one route faster than its 200/s);
   * on AWS the same is done by raising the stack's `throttlingRateLimit`/`throttlingBurstLimit`.
   * @default true
   */
  readonly apiThrottling?: boolean;
  /**
   * Multiplies the waits before Lambda runs a failed asynchronous invocation again (IoT rules,
   * the alert dispatcher, the sweeps: one minute, then two; local/async-invoke.ts). Tests shorten them.
   * @default 1
   */
  readonly asyncRetryScale?: number;
  /** The built web console served at `/` (tests build it elsewhere). @default console/dist of this checkout */
  readonly consoleDir?: string;
  /** Where the agent's artifacts are (`npm run device:build` output), served under /v1/agent/. @default dist/device of this checkout */
  readonly agentArtifactsDir?: string;
}

/** The bound on one function's concurrent invocations that bench:fleet uses (LocalRuntimeOptions.functionConcurrency). */
export const STORM_FUNCTION_CONCURRENCY = 16;

/** `npm run device:build`'s output in this checkout. */
export const CHECKOUT_AGENT_ARTIFACTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'device');

export interface LocalRuntime {
  readonly url: string;
  readonly adminToken: string;
  /** The web console, signed in once as the local admin by the one-time code in its fragment. */
  readonly consoleUrl: string;
  readonly dataDir: string;
  readonly deps: HttpDeps;
  /** The DynamoDB Local client the handlers use (benchmarks attach capacity accounting here). */
  readonly dynamo: DocClient;
  /** DynamoDB Local's process id (benchmarks read its CPU; undefined if the JVM has no pid). */
  readonly dynamoPid: number | undefined;
  readonly issuer: LocalIssuer;
  /** The local CA under `<dataDir>/ca` that signs device certificates (DeviceRegistry). */
  readonly ca: LocalCa;
  readonly registry: LocalDeviceRegistry;
  /** Whether this start created the data dir (first start). */
  readonly firstStart: boolean;
  /** The MQTT plane: TLS broker enforcing the device policy, topic-rule router, command channel. */
  readonly iot: LocalIot;
  /** Step Functions on one machine: the synthesized state machines, the same task handlers. */
  readonly workflows: LocalWorkflowEngine;
  readonly workflowDeps: WorkflowDeps;
  /** Health-change events (EventBridge on one machine): the alert dispatcher subscribes. */
  readonly events: LocalEventBus;
  /** Operations whose workflows were started again at this start (they were running when it stopped). */
  readonly resumed: readonly string[];
  /** The Secure Tunneling service on one machine (its `endpoint` goes into simulated agents' config). */
  readonly tunnelRelay: TunnelRelay;
  /** Serves a local-only route on the API's port (not an API route: no JWT, not on AWS), e.g. the simulator's controls. */
  addLocalRoute(route: LocalRoute): void;
  /** The functions' HTTP server, behind the API's front thread (benchmarks count its answers by status). */
  readonly server: Server;
  /** Lambda's retries of failed asynchronous invocations: how many ran, how many events were dropped, how many wait. */
  readonly asyncRetries: { readonly stats: Readonly<AsyncInvoker['stats']>; readonly pending: number };
  stop(): Promise<void>;
}

/** A local-only handler on the API's port: true when it took the request. */
export type LocalRoute = (req: IncomingMessage, res: ServerResponse) => boolean;

/** The MQTT port of this data dir: chosen once, reused on every restart (agents keep the port they registered with). */
export const MQTT_PORT_FILE = 'mqtt-port.json';

function readMqttPort(dir: string): number | undefined {
  const file = path.join(dir, MQTT_PORT_FILE);
  if (!existsSync(file)) return undefined;
  let port: unknown;
  try { port = (JSON.parse(readFileSync(file, 'utf8')) as { port?: unknown }).port; } catch { port = undefined; }
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${file} does not hold an MQTT port ({"port": 1-65535}); fix it to the port your hosts registered with, or delete it to choose a new port`);
  }
  return port;
}

const mqttPortTaken = (port: number, file: string) => new Error(`MQTT port ${port} is already in use. The hosts of this data dir were given that port when they registered (it is kept in ${file}), `
  + 'so the control plane listens on it again: stop what is using it (another EdgeFleet control plane?) and start again. '
  + 'To move to another port, delete that file: hosts registered before keep the old port until they register again.');

/** Fails in milliseconds (before DynamoDB Local starts) when the kept MQTT port is taken. */
async function ensureMqttPortFree(dir: string, explicit: number | undefined): Promise<void> {
  const kept = explicit === undefined ? readMqttPort(dir) : undefined;
  if (kept === undefined) return;
  if (!(await canListen(kept, '127.0.0.1'))) throw mqttPortTaken(kept, path.join(dir, MQTT_PORT_FILE));
}

function writeMqttPort(dir: string, port: number): void {
  writeFileSync(path.join(dir, MQTT_PORT_FILE), JSON.stringify({ port }, null, 2), { mode: 0o600 });
}

/** The file the CLI reads to find a running local control plane. */
export const LOCAL_STATE_FILE = 'local.json';
const ADMIN_TOKEN_DAYS = 365;
const CONSOLE_TOKEN_HOURS = 12;
/** The subject of the admin token `npm start` prints. */
export const LOCAL_ADMIN = 'local-admin';

function acquireLock(dir: string): () => void {
  const lock = path.join(dir, 'runtime.pid');
  if (existsSync(lock)) {
    const pid = Number(readFileSync(lock, 'utf8'));
    let alive = false;
    try { if (pid > 0) { process.kill(pid, 0); alive = pid !== process.pid; } } catch { alive = false; }
    if (alive) throw new Error(`another EdgeFleet control plane (pid ${pid}) is using ${dir}; stop it first, or start with another --data-dir`);
  }
  writeFileSync(lock, String(process.pid));
  return () => rmSync(lock, { force: true });
}

/**
 * Starts the embedded control plane: DynamoDB Local with the tables of the synthesized stack,
 * the local JWT issuer, and the API Gateway emulator calling the same handler exports.
 */
export async function startLocal(opts: LocalOptions = {}): Promise<LocalRuntime> {
  process.env.POWERTOOLS_LOG_LEVEL ??= opts.logLevel ?? 'WARN';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.POWERTOOLS_TRACE_ENABLED ??= 'false';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const dataDir = path.resolve(opts.dataDir ?? '.edgefleet');
  const firstStart = !existsSync(path.join(dataDir, 'jwt-key.json'));
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const releaseLock = acquireLock(dataDir);
  try {
    await ensureMqttPortFree(dataDir, opts.mqttPort);
  } catch (e) {
    releaseLock();
    throw e;
  }
  const cleanups: (() => Promise<void> | void)[] = [releaseLock];
  // Lambda's retries of failed asynchronous invocations (IoT rules, EventBridge targets): none runs once the runtime stops.
  const retries = new AsyncInvoker({
    delayScale: opts.asyncRetryScale ?? 1,
    log: (level, message, detail) => getLogger()[level](message, detail),
  });
  const stopAll = async () => { retries.stop(); for (const c of cleanups.reverse()) await c(); };
  try {
    const issuer = await loadOrCreateIssuer(path.join(dataDir, 'jwt-key.json'));
    // Java starts in its own process while this one synthesizes.
    const starting = startDynamoLocal(opts.inMemory ? undefined : path.join(dataDir, 'dynamodb'));
    starting.then((d) => cleanups.push(() => d.stop()), () => undefined);
    let tables: ReturnType<typeof tablesFromTemplate>;
    let template: ReturnType<typeof cachedTemplate>;
    try {
      template = cachedTemplate(opts.templateCache ?? path.join(dataDir, 'template-cache.json'));
      tables = tablesFromTemplate(template);
    } finally {
      await starting.catch(() => undefined);
    }
    const db: DynamoLocal = await starting;
    // Lambda's timeouts: every handler call below is an invocation of its function (the
    // template's timeout), and once one timed out, nothing it tries afterwards happens.
    const timeouts = new FunctionTimeouts(template, opts.functionTimeoutSeconds, opts.functionConcurrency);
    const invoke = <R>(name: string, call: (context: Context) => Promise<R>, requestId?: string, callerGone?: () => boolean) => invokeLocal(timeouts.named(name), call, requestId, callerGone);
    // An asynchronous invocation (an IoT rule's action, an EventBridge target): a failed one runs again later, as Lambda does.
    const invokeAsync = <R>(name: string, call: (context: Context) => Promise<R>) => retries.invoke(timeouts.named(name), () => invoke(name, call));
    refuseSdkCallsAfterTimeout(db.client, 'DynamoDB');
    await ensureTables(db.client, [tables.state, tables.audit]);

    let url = '';
    const ca = await loadOrCreateCa(path.join(dataDir, 'ca'));
    const registry = new LocalDeviceRegistry(ca);
    // Workflows: the engine needs the task handlers, which need the ports: bound late through this proxy.
    // So does the command publisher (the broker starts after the API).
    const bound: { engine?: LocalWorkflowEngine; publisher?: CommandPublisher; iot?: LocalIot } = {};
    const running = () => {
      if (!bound.engine) throw new UnavailableError('workflows-starting', 'the local workflow engine is still starting; retry in a moment');
      return bound.engine;
    };
    const workflows: WorkflowEngine = {
      start: (kind, name, input) => running().start(kind, name, input),
      sendTaskSuccess: (token, output) => running().sendTaskSuccess(token, output),
      sendTaskFailure: (token, error, cause) => running().sendTaskFailure(token, error, cause),
      stop: (kind, name, cause) => running().stop(kind, name, cause),
    };
    const publisher: CommandPublisher = {
      publish: (hostId, command) => {
        if (!bound.publisher) throw new UnavailableError('command-publisher-starting', 'the local IoT broker is still starting; the command stays queued');
        return bound.publisher.publish(hostId, command);
      },
    };
    // The same configuration schema and composition root as the Lambda functions, with this
    // machine's adapters; the host timeout may be shorter here than a deployment allows (tests).
    const config = {
      ...loadConfig({
        [HANDLER_ENV.stateTable]: tables.state.TableName, [HANDLER_ENV.auditTable]: tables.audit.TableName, [HANDLER_ENV.apiUrl]: 'http://127.0.0.1',
        ...(opts.registerAdmissionPerSecond !== undefined ? { [HANDLER_ENV.registerAdmissionPerSecond]: String(opts.registerAdmissionPerSecond) } : {}),
      }, ['stateTable', 'auditTable', 'apiUrl']),
      workflowSettings: { hostTimeoutSeconds: opts.hostTimeoutSeconds ?? DEFAULT_WORKFLOW_SETTINGS.hostTimeoutSeconds },
      ...(opts.fullReportIntervalMs ? { fullReportIntervalMs: opts.fullReportIntervalMs } : {}),
    };
    const secrets = new FileSecretStore(path.join(dataDir, 'secrets'));
    // What the stack creates on AWS: the Idempotency-Key fingerprint key (kept across restarts).
    await secrets.ensure(IDEMPOTENCY_KEY_SECRET, () => randomBytes(32).toString('base64url'));
    // The diagnostics bucket: presigned uploads and downloads on this server (its URL is known once it listens).
    const bundles = new LocalBundleStore(dataDir, () => url);
    // The agent's signed artifacts (S3 + a KMS key on AWS): the manifest signed with a key in the data dir.
    const agentArtifacts = new LocalAgentArtifacts(dataDir, path.resolve(opts.agentArtifactsDir ?? CHECKOUT_AGENT_ARTIFACTS));
    // Secure Tunneling: the relay on loopback; IoT Core's notify goes out through the broker (bound late, like commands).
    const relay = await startTunnelRelay();
    cleanups.push(() => relay.stop());
    const scale = opts.tunnelTimeScale ?? 1;
    const service = localTunnelService(relay, (topic, payload) => {
      if (!bound.iot) throw new UnavailableError('iot-starting', 'the local IoT broker is still starting; retry in a moment');
      return bound.iot.publish(topic, payload, 1);
    });
    const tunnelService = { ...service, open: (thing: string, services: readonly string[], minutes: number) => service.open(thing, services, minutes * scale) };
    const events = new LocalEventBus();
    cleanups.push(() => events.idle());
    // The stand-ins of the AWS services the functions call refuse the calls of a timed-out invocation.
    const root = composeRoot(config, {
      db: db.client, publisher: refuseAfterTimeout(publisher, 'IoT Publish'), registry: refuseAfterTimeout(registry, 'IoT registry'),
      workflows: refuseAfterTimeout(workflows, 'Step Functions'), secrets: refuseAfterTimeout(secrets, 'Secrets Manager'),
      tunnelService: refuseAfterTimeout(tunnelService, 'Secure Tunneling'), bundles: refuseAfterTimeout(bundles, 'S3'),
      events: refuseAfterTimeout(events, 'EventBridge PutEvents'), agentSigning: refuseAfterTimeout(agentArtifacts, 'KMS'), agentStore: refuseAfterTimeout(agentArtifacts, 'S3'),
      // Locally the runtime delivers webhooks itself, to loopback receivers too; there is no SNS.
      notify: { webhooks: refuseAfterTimeout(new HttpWebhookSender({ allowLoopback: true }), 'webhook delivery'), allowLoopbackWebhooks: true },
    });
    // EventBridge's rule on one machine: every health event goes to the same dispatcher use case;
    // the re-notify schedule is a timer (local/alert-sweep.ts).
    const alerting = startAlerting(root, { sweepMs: opts.alertSweepMs ?? 60_000, timeScale: opts.alertTimeScale ?? 1 });
    cleanups.push(() => alerting.stop());
    // The rule's target is its own function: each event is one invocation of the dispatcher.
    events.subscribe(async (e) => { await invokeAsync('edgefleet-alert-dispatcher', () => dispatchHealthEvent(alerting.dispatch, e)); });
    // The approval wait scales with the tunnels' lifetimes (tests use short ones).
    const deps: HttpDeps = { ...root.http, tunnels: { ...root.http.tunnels, approvalWaitMs: APPROVAL_WAIT_MINUTES * 60_000 * scale } };
    const getDeps = (): HttpDeps => ({ ...deps, config: { ...deps.config, apiUrl: url } });
    const handlers: Record<ApiGroup, GroupHandler> = {
      meta: meta.makeHandler(), tokens: tokens.makeHandler(getDeps), 'user-data': userData.makeHandler(getDeps),
      hosts: hosts.makeHandler(getDeps), profiles: profiles.makeHandler(getDeps), clusters: clusters.makeHandler(getDeps),
      operations: operations.makeHandler(getDeps), audit: audit.makeHandler(getDeps), device: device.makeHandler(getDeps),
      alerts: alertRules.makeHandler(getDeps),
      diagnostics: diagnostics.makeHandler(getDeps),
      tunnels: tunnelRoutes.makeHandler(getDeps),
    };
    // Other local-only services on the same port: the bundle bucket, and what `addLocalRoute` adds (the simulator's controls).
    // The web console at `/`; its one-time sign-in link hands the browser a 12-hour admin token.
    const site = consoleSite(() => issuer.sign(LOCAL_ADMIN, ['*:admin'], CONSOLE_TOKEN_HOURS * 3600), opts.consoleDir);
    const localRoutes: LocalRoute[] = [(req, res) => bundles.handle(req, res), (req, res) => agentArtifacts.handle(req, res), (req, res) => site.handle(req, res)];
    const server = createApiGateway(handlers, issuer, (req, res) => localRoutes.some((route) => route(req, res)),
      (group, requestId, call, callerGone) => invoke(`edgefleet-api-${group}`, call, requestId, callerGone),
      // Each route's integration timeout, from the synthesized template, as API Gateway applies it.
      (group) => timeouts.named(`edgefleet-api-${group}`).integrationTimeoutMs ?? HTTP_API_INTEGRATION_TIMEOUT_MS);
    // The functions' server listens on loopback for the front thread only, which keeps its
    // connections open (no idle timeout here) and accepts the callers on the API's port.
    server.keepAliveTimeout = 0;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: 0, host: '127.0.0.1', backlog: LISTEN_BACKLOG }, () => resolve());
    });
    cleanups.push(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
    // API Gateway's stage throttles, as the template says (the register route's own, lower one
    // included), under the account's default bucket, which every request takes from first.
    const front = await startApiFront({ port: opts.port ?? 8080, host: '127.0.0.1', upstreamPort: (server.address() as AddressInfo).port, throttles: opts.apiThrottling === false ? { routes: {} } : { ...stageThrottles(template), account: ACCOUNT_API_THROTTLE } });
    cleanups.push(() => front.stop());
    url = `http://127.0.0.1:${front.port}`;

    // ---- MQTT plane (IoT Core on one machine): TLS broker + topic rules, stopped before DynamoDB ----
    // Nobody is connected yet: hosts left online by the last run are offline until they reconnect.
    const offline = await resetPresence(db.client, tables.state.TableName!, Date.now());
    if (offline.length > 0) getLogger().info('hosts marked offline until they reconnect (local restart)', { hosts: offline.length });
    const keptMqttPort = readMqttPort(dataDir);
    const iot = await startIot({
      dataDir, ca, // With --port 0 the MQTT port is chosen below the ephemeral range, where no outgoing connection can take it before a restart.
      port: opts.mqttPort ?? keptMqttPort ?? (opts.port === 0 ? await stablePort() : 8883),
      deps: root.device, bindPublisher: (p) => { bound.publisher = p; },
      ...(opts.commandSweepMs ? { sweepIntervalMs: opts.commandSweepMs } : {}),
      workflowDeps: () => workflowDeps,
      invoke: invokeAsync,
      // The policy's iot:Connection.Thing.IsAttached: the certificate must be the one the host
      // record holds (a re-registered host's old certificate no longer is), and the host must
      // not be retired.
      isAttached: async (thing, certificateId) => {
        const host = await deps.hosts.get(thing);
        return !!host && host.certificateId === certificateId && host.status !== 'decommissioned' && host.status !== 'rejected';
      },
    }).catch((e: Error) => {
      if (opts.mqttPort !== undefined || keptMqttPort === undefined || !/already in use/.test(e.message)) throw e;
      throw Object.assign(mqttPortTaken(keptMqttPort, path.join(dataDir, MQTT_PORT_FILE)), { cause: e });
    });
    cleanups.push(() => iot.stop());
    bound.iot = iot;
    writeMqttPort(dataDir, iot.port);
    registry.setBroker({ endpoint: 'localhost', port: iot.port, closeSessions: (match) => iot.closeSessions(match) });
    // ---- end MQTT plane ----

    // ---- Step Functions: the synthesized state machines, Task states mapped to the same handlers ----
    const workflowDeps = root.workflow;
    const wfLogger = getLogger();
    const engine = new LocalWorkflowEngine({
      template,
      handlers: { step: workflowStep.makeHandler(() => workflowDeps), hostCommand: hostCommand.makeHandler(() => workflowDeps) },
      log: (level, message, fields) => wfLogger[level](message, fields),
      ...(opts.functionTimeoutSeconds ? { functionTimeoutSeconds: opts.functionTimeoutSeconds } : {}),
      ...(opts.functionConcurrency ? { functionConcurrency: opts.functionConcurrency } : {}),
    });
    bound.engine = engine;
    cleanups.push(() => engine.close());
    // Operations that were running when the runtime stopped: their workflows start again and
    // pick up from the stored state (every step is idempotent).
    const resumed = await resumeOperations(workflowDeps);
    const resumedRollouts = await resumeRollouts(workflowDeps);
    if (resumedRollouts.length > 0) wfLogger.info('resumed the rollouts that were running', { rollouts: resumedRollouts });
    if (resumed.length > 0) wfLogger.info('resumed the workflows of operations that were running', { operations: resumed });
    // ---- end Step Functions ----

    // The tunnel sweep (EventBridge rate(1 minute) on AWS): one run at a time, as its audits of
    // connection changes are not claimed conditionally.
    const sweepTunnels = tunnelSweep.makeHandler(() => deps.tunnels);
    const tunnelSchedule = startSchedule({ name: 'the tunnel sweep', everyMs: opts.tunnelSweepMs ?? 60_000, run: () => invokeAsync('edgefleet-tunnel-sweeper', (context) => sweepTunnels({}, context)), overlap: 'skip' });
    cleanups.push(() => tunnelSchedule.stop());

    // On first start the local admin is granted remote shell in the default project (a stored
    // troubleshoot grant, as an admin would create with POST /v1/troubleshoot-grants), so that
    // `hosts shell` works against `npm start`; on AWS no one holds one until an admin grants it.
    if (firstStart) {
      const now = new Date().toISOString();
      await deps.tunnels.grants.create({ id: grantIdFor(LOCAL_ADMIN), project: 'default', subject: LOCAL_ADMIN, createdAt: now, createdBy: LOCAL_ADMIN });
    }
    const adminToken = await issuer.sign(LOCAL_ADMIN, ['*:admin'], ADMIN_TOKEN_DAYS * 86_400);
    const stateFile = path.join(dataDir, LOCAL_STATE_FILE);
    writeFileSync(stateFile, JSON.stringify({ url, adminToken, pid: process.pid, startedAt: new Date().toISOString() }, null, 2), { mode: 0o600 });

    let stopped = false;
    return {
      url, adminToken, consoleUrl: `${url}/#/sign-in?code=${site.newSignInCode()}`, dataDir, deps: getDeps(), dynamo: db.client, dynamoPid: db.pid, issuer, ca, registry, firstStart, iot,
      workflows: engine, workflowDeps, resumed, tunnelRelay: relay, events, server, addLocalRoute: (route) => { localRoutes.push(route); },
      asyncRetries: retries,
      stop: async () => { if (stopped) return; stopped = true; await stopAll(); },
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
