import type { Layer, LayerType } from './profile.js';

/**
 * Classifies what moving a cluster from one profile version's layers to another's does to its
 * nodes, after Palette Edge's documented upgrade behaviours ("Edge Cluster Upgrade Behavior":
 * repave, reboot, service restart, configuration reload, no-op, each applied node by node
 * starting with the control plane).
 *
 * | layer   | change                               | behaviour       | why (Palette's docs where they say it)                                                                                 |
 * |---------|--------------------------------------|-----------------|------------------------------------------------------------------------------------------------------------------------|
 * | os      | added, removed, pack, version, image | repave          | The OS is the Kairos image: Palette repaves when `options.system.uri` (the image) or anything it is built from changes. |
 * | os      | values                               | reboot          | OS values are cloud-config `stages.*`; Palette reboots for changes to `stages.boot/initramfs/fs/network...`.            |
 * | k8s     | added, removed, pack, version, image | repave          | The provider image carries the Kubernetes binaries, so a new distribution or version is a new image: repave.           |
 * | k8s     | values                               | service-restart | Palette restarts the Kubernetes service for changes under `cluster.*` (the distribution config).                       |
 * | cni/csi | added, removed, pack                 | reboot          | Palette warns against swapping the CNI/CSI pack on a live cluster; a node must come back clean without the old one.    |
 * | cni/csi | version, image, values               | reload          | Palette: network and storage layer changes "can be applied by restarting the related services", no repave or reboot.  |
 * | addon   | anything                             | reload          | Add-ons are workloads applied to the cluster; the nodes are not touched.                                               |
 * | any     | identical                            | no-op           | Nothing to do.                                                                                                         |
 *
 * Layers are matched by type for os, k8s, cni and csi (one each per profile, so a different
 * pack is a 'pack' change), and by (type, pack) for add-ons. Values are compared as trimmed text.
 * Conservative on purpose: this is about node disruption, so when in doubt it picks the more
 * disruptive behaviour (Palette's finer rules for k8s `stages.*` values need a parse of the
 * values and are not modelled: k8s values are always a service restart).
 */

export type ChangeBehaviour = 'no-op' | 'reload' | 'service-restart' | 'reboot' | 'repave';
export type ChangeKind = 'added' | 'removed' | 'version' | 'pack' | 'image' | 'values';

export interface LayerChange {
  /** e.g. "k8s:k3s" */
  readonly layer: string;
  readonly change: ChangeKind;
  readonly behaviour: ChangeBehaviour;
  readonly reason: string;
}

export interface ChangePlan {
  /** The most disruptive behaviour of all changes; 'no-op' when there are none. */
  readonly behaviour: ChangeBehaviour;
  readonly changes: readonly LayerChange[];
}

export const BEHAVIOUR_RANK: Readonly<Record<ChangeBehaviour, number>> = {
  'no-op': 0, reload: 1, 'service-restart': 2, reboot: 3, repave: 4,
};

/** Which behaviours reconfigure may apply itself; the rest go through the upgrade API. */
export const RECONFIGURE_ALLOWED: ReadonlySet<ChangeBehaviour> = new Set<ChangeBehaviour>(['no-op', 'reload', 'service-restart']);

type Rule = Readonly<Record<ChangeKind, readonly [ChangeBehaviour, string]>>;

const IMAGE = 'the node image changes, so every node is repaved with it';
export const RULES: Readonly<Record<LayerType, Rule>> = {
  os: {
    added: ['repave', IMAGE], removed: ['repave', IMAGE], pack: ['repave', 'a different OS is a different node image: every node is repaved'],
    version: ['repave', IMAGE], image: ['repave', IMAGE],
    values: ['reboot', 'OS values are Kairos stages that run at boot: every node reboots to apply them'],
  },
  k8s: {
    added: ['repave', 'the provider image carries Kubernetes: every node is repaved'], removed: ['repave', 'the provider image carries Kubernetes: every node is repaved'],
    pack: ['repave', 'a different Kubernetes distribution means a different provider image: every node is repaved'],
    version: ['repave', 'the provider image carries the Kubernetes version: every node is repaved'],
    image: ['repave', 'the provider image carries Kubernetes: every node is repaved'],
    values: ['service-restart', 'Kubernetes configuration changes: the Kubernetes service restarts on every node, control plane first'],
  },
  cni: {
    added: ['reboot', 'adding a network plugin to a running cluster needs every node rebooted'], removed: ['reboot', 'removing the network plugin needs every node rebooted to clear its state'],
    pack: ['reboot', 'swapping the network plugin needs every node rebooted (Palette advises a new cluster instead)'],
    version: ['reload', 'the network plugin is updated in place; its services restart'], image: ['reload', 'the network plugin is updated in place; its services restart'],
    values: ['reload', 'the network plugin configuration is reapplied; its services restart'],
  },
  csi: {
    added: ['reboot', 'adding a storage plugin to a running cluster needs every node rebooted'], removed: ['reboot', 'removing the storage plugin needs every node rebooted to clear its state'],
    pack: ['reboot', 'swapping the storage plugin needs every node rebooted (Palette advises a new cluster instead)'],
    version: ['reload', 'the storage plugin is updated in place; its services restart'], image: ['reload', 'the storage plugin is updated in place; its services restart'],
    values: ['reload', 'the storage plugin configuration is reapplied; its services restart'],
  },
  addon: {
    added: ['reload', 'the add-on is installed on the cluster; nodes are not touched'], removed: ['reload', 'the add-on is uninstalled from the cluster; nodes are not touched'],
    pack: ['reload', 'the add-on is replaced on the cluster; nodes are not touched'],
    version: ['reload', 'the add-on is upgraded on the cluster; nodes are not touched'], image: ['reload', 'the add-on is upgraded on the cluster; nodes are not touched'],
    values: ['reload', 'the add-on configuration is reapplied; nodes are not touched'],
  },
};

const ORDER: readonly LayerType[] = ['os', 'k8s', 'cni', 'csi', 'addon'];
const SINGLE: ReadonlySet<LayerType> = new Set(['os', 'k8s', 'cni', 'csi']);
const keyOf = (l: Layer) => (SINGLE.has(l.type) ? l.type : `${l.type}/${l.pack}`);
const text = (v: string | undefined) => (v ?? '').trim();

function change(type: LayerType, layer: string, kind: ChangeKind, detail: string): LayerChange {
  const [behaviour, why] = RULES[type][kind];
  return { layer, change: kind, behaviour, reason: `${detail}: ${why}` };
}

function compare(from: Layer, to: Layer): LayerChange[] {
  const name = `${to.type}:${to.pack}`;
  if (from.pack !== to.pack) return [change(to.type, name, 'pack', `${to.type} pack changes from ${from.pack} ${from.version} to ${to.pack} ${to.version}`)];
  const out: LayerChange[] = [];
  if (from.version !== to.version) out.push(change(to.type, name, 'version', `${name} version changes from ${from.version} to ${to.version}`));
  if ((from.image ?? '') !== (to.image ?? '')) out.push(change(to.type, name, 'image', `${name} image changes from ${from.image ?? '(none)'} to ${to.image ?? '(none)'}`));
  if (text(from.values) !== text(to.values)) out.push(change(to.type, name, 'values', `${name} values change`));
  return out;
}

/** What applying `to` over `from` does to the cluster's nodes, change by change. */
export function classifyChanges(from: readonly Layer[], to: readonly Layer[]): ChangePlan {
  const before = new Map(from.map((l) => [keyOf(l), l]));
  const after = new Map(to.map((l) => [keyOf(l), l]));
  const changes: LayerChange[] = [];
  for (const type of ORDER) {
    for (const l of to.filter((x) => x.type === type)) {
      const old = before.get(keyOf(l));
      changes.push(...(old ? compare(old, l) : [change(type, `${type}:${l.pack}`, 'added', `${type}:${l.pack} ${l.version} is added`)]));
    }
    for (const l of from.filter((x) => x.type === type && !after.has(keyOf(x)))) {
      changes.push(change(type, `${type}:${l.pack}`, 'removed', `${type}:${l.pack} ${l.version} is removed`));
    }
  }
  const behaviour = changes.reduce<ChangeBehaviour>((max, c) => (BEHAVIOUR_RANK[c.behaviour] > BEHAVIOUR_RANK[max] ? c.behaviour : max), 'no-op');
  return { behaviour, changes };
}
