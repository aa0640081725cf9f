import { join } from 'node:path';
import { Agent } from 'undici';
import { startAgent, type AgentHandle } from '../device/agent.js';
import { agentConfig, type AgentConfig } from '../device/config.js';
import type { Log } from '../device/registration.js';
import { SimulatedAccounts } from './simulated-accounts.js';
import { SimulatedKairos, type SimulatedKairosOptions } from './simulated-kairos.js';
import { SimulatedKubernetes, type SimulatedKubernetesOptions } from './simulated-kubernetes.js';
import type { TransportFactory } from '../device/transport.js';
import { AGENT_VERSION } from '../device/version.js';
import { installedAgentVersion, restartAgentService, seedAgentInstallation, seedBakedAgent } from './simulated-agent-service.js';

export interface SimulatedFleetOptions {
  readonly apiUrl: string;
  readonly registrationToken: string;
  readonly project: string;
  readonly count: number;
  /** Each agent keeps its key, certificate and simulated disk under `<stateDir>/<uid>`. */
  readonly stateDir: string;
  readonly site?: string;
  readonly tags?: Record<string, string>;
  /** Hardware ids are `<uidPrefix>-<n>` (1-based). @default 'sim' */
  readonly uidPrefix?: string;
  /** The first `n` (a worker process of a split fleet starts past the others'). @default 1 */
  readonly firstIndex?: number;
  readonly kairos?: SimulatedKairosOptions;
  readonly log?: Log;
  readonly transportFactory?: TransportFactory;
  readonly fullReportSeconds?: number;
  readonly checkIntervalMs?: number;
  /** Per-host simulated OS settings (failures, delays), merged over `kairos`. `n` is 1-based. */
  readonly perHost?: (uid: string, n: number) => Partial<SimulatedKairosOptions> | undefined;
  /** How often a waiting agent looks at its node for Ready. @default 100 */
  readonly readyPollMs?: number;
  /** How long an agent waits for Ready (also the upgrade gate) unless the deadline is earlier. @default 10 min */
  readonly readyTimeoutMs?: number;
  /** The fleet's shared Kubernetes API (drain delay). */
  readonly kubernetes?: SimulatedKubernetesOptions;
  /** The Secure Tunneling data endpoint the agents connect to (the runtime's local relay). */
  readonly tunnelEndpoint?: string;
  /** The port a tunnel leads to on 127.0.0.1 (a stand-in for sshd). @default 22 */
  readonly sshPort?: number;
  /** The install configuration's remote-access switch, per host. @default true */
  readonly remoteAccess?: (uid: string, n: number) => boolean;
  /** The control plane's agent signing key (PEM) the install configuration carries. @default fetched once from <apiUrl>/v1/agent/public-key.pem */
  readonly agentSigningKeyPem?: string;
  /**
   * Hosts whose image carries the agent (`edgefleet images build-context`, user-data agentInstall
   * baked): it runs from `<stateDir>/<uid>/baked-agent` (read-only, /opt/edgefleet/agent on a host)
   * until an update installs one into the writable agent dir. @default none
   */
  readonly bakedAgent?: (uid: string, n: number) => boolean;
}

export interface SimulatedHost {
  readonly uid: string;
  /** The running agent (a new handle after `start()`). */
  readonly agent: AgentHandle;
  /** The host's simulated OS: inject failures (`kairos.failures.bootFallback = true`) or inspect it. */
  readonly kairos: SimulatedKairos;
  /** The host's user accounts (the remote-shell feature's useradd / userdel). */
  readonly accounts: SimulatedAccounts;
  /** True while the agent runs (false after `stop()`). */
  readonly running: boolean;
  /** Where the agent is installed on this host (versions/, current, previous: device/agent-installation.ts). */
  readonly agentDir: string;
  /** Where this host's image carries the agent (read-only), when it does. */
  readonly bakedDir?: string;
  /** Agent versions that do not come online on this host (their executable exits at start): the guard falls back. */
  readonly failAgentVersions: Set<string>;
  /** Settles when the agent service restart under way (an agent update) has an agent running again. */
  readonly serviceRestarted: Promise<void>;
  /** The host goes offline: its agent stops (the simulated disk and the agent's state stay). */
  stop(): Promise<void>;
  /** The host comes back: a new agent on the same state (no new registration). */
  start(): void;
}

export interface SimulatedFleet {
  readonly hosts: readonly SimulatedHost[];
  /** The Kubernetes API all hosts of this fleet share: nodes and the availability timeline. */
  readonly kubernetes: SimulatedKubernetes;
  /** The host with this hardware id (= host id for auto-approved hosts), or undefined. */
  host(uid: string): SimulatedHost | undefined;
  stop(): Promise<void>;
}

/**
 * A simulated host's HTTP connections: a new one for every request, never one kept open from
 * the last. Thousands of simulated hosts share a process and its two cores, so a host's callbacks
 * can run seconds late; undici would then write its next request into a kept-open connection
 * whose close (the API's 5 s idle timeout) is waiting unread, and the request fails with
 * `UND_ERR_SOCKET` although the API never saw it. A real host's agent, alone on its CPU, notices
 * the close in time. (Measured at 10,000 hosts: BENCHMARKS.md, 2026-12-03 evening.)
 */
const hostConnections = () => new Agent({ pipelining: 0 });

/**
 * Starts `count` edge agents in this process, each with a simulated Kairos host (A/B
 * partitions, reboots) and the real registration and MQTT code. Pairing codes are logged
 * rather than drawn as QR codes. Used by `npm start -- --simulate N`.
 */
export function startSimulatedAgents(o: SimulatedFleetOptions): SimulatedFleet {
  const prefix = o.uidPrefix ?? 'sim';
  const hosts: SimulatedHost[] = [];
  const kubernetes = new SimulatedKubernetes(o.kubernetes);
  const first = o.firstIndex ?? 1;
  let fleetStopped = false;
  let signingKey: Promise<string> | undefined;
  const signingKeyPem = (): Promise<string> => {
    if (o.agentSigningKeyPem) return Promise.resolve(o.agentSigningKeyPem);
    signingKey ??= fetch(`${o.apiUrl}/v1/agent/public-key.pem`).then(async (r) => {
      if (!r.ok) throw new Error(`the control plane's agent signing key is not available (HTTP ${r.status})`);
      return r.text();
    });
    signingKey.catch(() => { signingKey = undefined; });
    return signingKey;
  };
  for (let n = first; n < first + o.count; n++) {
    const uid = `${prefix}-${n}`;
    const stateDir = join(o.stateDir, uid);
    const config: AgentConfig = agentConfig.parse({
      apiUrl: o.apiUrl, registrationToken: o.registrationToken, project: o.project, site: o.site ?? 'simulated',
      tags: o.tags ?? {}, stateDir, uid, ...(o.fullReportSeconds ? { fullReportSeconds: o.fullReportSeconds } : {}),
      authorizedKeysDir: join(stateDir, 'authorized-keys'),
      ...(o.tunnelEndpoint ? { tunnelEndpoint: o.tunnelEndpoint } : {}), ...(o.sshPort ? { sshPort: o.sshPort } : {}),
      ...(o.remoteAccess && !o.remoteAccess(uid, n) ? { remoteAccess: false } : {}),
    });
    const accounts = new SimulatedAccounts();
    const extra = o.perHost?.(uid, n) ?? {};
    const self: { host?: SimulatedHost } = {};
    const kairos = new SimulatedKairos({
      rebootDelayMs: 1000, k8sReadyDelayMs: 500, nodeName: uid, ...o.kairos, ...extra,
      failures: { ...o.kairos?.failures, ...extra.failures }, stateFile: join(stateDir, 'simulated-disk.json'), kubernetes,
      // A host that goes dark: its agent stops with it (no results, no status, offline).
      onPowerOff: () => void self.host?.stop(),
    });
    const log: Log | undefined = o.log ? (level, message, fields) => o.log!(level, message, { simulated: uid, ...fields }) : undefined;
    const agentDir = join(stateDir, 'agent');
    const bakedDir = o.bakedAgent?.(uid, n) ? join(stateDir, 'baked-agent') : undefined;
    if (bakedDir) seedBakedAgent(bakedDir, AGENT_VERSION);
    else seedAgentInstallation(agentDir, AGENT_VERSION);
    const failAgentVersions = new Set<string>();
    let serviceRestarted: Promise<void> = Promise.resolve();
    // Each host its own HTTP connections, as a real host has (a shared pool would let thousands
    // of hosts ride on a few kept-open connections); they go with its agent when it stops.
    let connections = hostConnections();
    const launch = () => startAgent({
      fetch: (input, init) => fetch(input, { ...init, dispatcher: connections }),
      // The agent that runs is the one installed on the disk, and it reports that version.
      agentUpdate: {
        dir: agentDir, runningVersion: installedAgentVersion(agentDir, bakedDir), signingKeyPem, ...(bakedDir ? { bakedDir } : {}),
        restart: async () => {
          // systemctl restart --no-block: this agent is stopped after the command handler returns.
          setTimeout(() => {
            serviceRestarted = restartAgentService(agentDir, { stop: () => host.stop(), start: () => host.start(), stopped: () => fleetStopped }, failAgentVersions, 20, bakedDir)
              .catch((e: unknown) => (log ?? (() => undefined))('error', `simulated agent restart failed: ${(e as Error).message}`));
          }, 0);
        },
      },
      config, executor: kairos, tunnelRunner: accounts, networkInterfaces: () => kairos.networkInterfaces(), hardware: () => kairos.hardware(), log: log ?? (() => undefined), transportFactory: o.transportFactory, checkIntervalMs: o.checkIntervalMs, readyPollMs: o.readyPollMs ?? 100,
      ...(o.readyTimeoutMs !== undefined ? { readyTimeoutMs: o.readyTimeoutMs } : {}),
      showPairing: (p) => (log ?? ((_l, m) => process.stdout.write(`${m}\n`)))('info', `${uid}: waiting for approval of host ${p.hostId}, pairing code ${p.pairingCode}`),
    });
    let agent = launch();
    let running = true;
    const host: SimulatedHost = {
      uid, kairos, accounts, agentDir, ...(bakedDir ? { bakedDir } : {}), failAgentVersions,
      get serviceRestarted() { return serviceRestarted; },
      get agent() { return agent; },
      get running() { return running; },
      async stop() {
        running = false;
        await agent.stop();
        await connections.destroy();
      },
      start() {
        if (running) return;
        running = true;
        connections = hostConnections();
        agent = launch();
      },
    };
    self.host = host;
    hosts.push(host);
  }
  return {
    hosts, kubernetes,
    host: (uid) => hosts.find((h) => h.uid === uid),
    async stop() {
      fleetStopped = true;
      for (const h of hosts) h.kairos.stop();
      await Promise.all(hosts.map((h) => h.stop()));
    },
  };
}
