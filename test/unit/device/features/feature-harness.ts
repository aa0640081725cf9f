import type { PackStatus } from '../../../../lambdas/contracts/packs.js';
import type { AgentState } from '../../../../device/features/feature.js';
import type { KairosExecutor, KairosState, RebootOutcome } from '../../../../device/kairos.js';

/* Shared by the feature unit tests (not a test file itself). */

/** Live timers of this process: a stopped feature leaves none behind. */
export const activeTimeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

export const agentState = (): AgentState => ({ phase: 'online', commandsRun: 0, statusSent: 0 });

export interface FakeHost extends KairosExecutor {
  readonly calls: string[];
  current: KairosState;
  /** How often state() was read. */
  reads: number;
  /** upgrade() never settles (a hung `kairos-agent upgrade`). */
  hangUpgrade: boolean;
  /** What packs() answers. */
  currentPacks: PackStatus[];
}

/** A host that records what it was asked to do and answers from `current`. */
export function fakeHost(current: KairosState = { boot: 'active', kairosVersion: 'v3.4.2' }): FakeHost {
  const host: FakeHost = {
    calls: [], current, reads: 0, hangUpgrade: false, currentPacks: [],
    async state() {
      host.reads += 1;
      return host.current;
    },
    upgrade(image) {
      host.calls.push(`upgrade ${image}`);
      return host.hangUpgrade ? new Promise<void>(() => undefined) : Promise.resolve();
    },
    async reboot(): Promise<RebootOutcome> {
      host.calls.push('reboot');
      return 'rebooted';
    },
    async reset(): Promise<RebootOutcome> {
      host.calls.push('reset');
      return 'rebooted';
    },
    async applyCloudConfig() { host.calls.push('apply-cloud-config'); },
    async bootstrap() { host.calls.push('bootstrap'); },
    async restartKubernetes() { host.calls.push('restart'); return 'k3s'; },
    async reloadKubernetes() { host.calls.push('reload'); },
    async kubeNode(action, node) { host.calls.push(`kube-node ${action} ${node}`); },
    async stateFreeMb() { return 100_000; },
    async checkImage() {},
    async packs() { return host.currentPacks; },
  };
  return host;
}
