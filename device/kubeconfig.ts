import { isIP } from 'node:net';
import { isMap, isSeq, parseDocument } from 'yaml';
import { EXPORT_KUBECONFIG_PARAMS, MAX_KUBECONFIG_BYTES } from '../lambdas/contracts/mqtt.js';
import { InvalidParameter } from './kubernetes.js';

/**
 * `export-kubeconfig`: pure helpers. The agent reads the distribution's admin kubeconfig and
 * points every cluster entry's `server` at the control-plane address the cloud gave (the VIP,
 * else the init node's address): the file on the host says `https://127.0.0.1:6443` (k3s,
 * rke2) or the controlPlaneEndpoint (kubeadm), which an operator elsewhere cannot reach.
 */

const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/i;
const API_PORT = 6443;

/** `export-kubeconfig {address}` → the server URL (`https://<address>:6443`, IPv6 in brackets). */
export function parseExportKubeconfigParams(p: Readonly<Record<string, string | number | boolean>>): { server: string } {
  for (const k of Object.keys(p)) {
    if (!(EXPORT_KUBECONFIG_PARAMS as readonly string[]).includes(k)) throw new InvalidParameter(`unknown parameter ${JSON.stringify(k.slice(0, 40))} (allowed: ${EXPORT_KUBECONFIG_PARAMS.join(', ')})`);
  }
  const address = p.address;
  if (typeof address !== 'string' || !address) throw new InvalidParameter('address: required, the control-plane address (IP or DNS name)');
  const ip = isIP(address);
  if (!ip && !DNS_NAME.test(address)) throw new InvalidParameter(`address: ${JSON.stringify(address.slice(0, 64))} is not an IP address or a DNS name`);
  return { server: `https://${ip === 6 ? `[${address}]` : address}:${API_PORT}` };
}

/**
 * The kubeconfig with every `clusters[].cluster.server` set to `server`, serialized again.
 * Throws when the text is not a kubeconfig (no clusters) or is larger than the cloud accepts.
 */
export function rewriteKubeconfigServer(text: string, server: string): string {
  const doc = parseDocument(text);
  if (doc.errors.length || !isMap(doc.contents)) throw new Error(`the admin kubeconfig is not YAML: ${doc.errors[0]?.message.split('\n')[0] ?? 'not a mapping'}`);
  const clusters = doc.get('clusters');
  if (!isSeq(clusters) || clusters.items.length === 0) throw new Error('the admin kubeconfig has no clusters entry');
  clusters.items.forEach((_c, i) => {
    if (!doc.hasIn(['clusters', i, 'cluster'])) throw new Error(`the admin kubeconfig's cluster entry ${i + 1} has no "cluster" section`);
    doc.setIn(['clusters', i, 'cluster', 'server'], server);
  });
  const out = doc.toString({ lineWidth: 0 });
  if (Buffer.byteLength(out) > MAX_KUBECONFIG_BYTES) throw new Error(`the admin kubeconfig is ${Buffer.byteLength(out)} bytes, more than the ${MAX_KUBECONFIG_BYTES} the control plane accepts`);
  return out;
}
