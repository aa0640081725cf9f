import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import type { CommandRunner } from '../command-runner.js';
import type { Distribution, KubeRole } from '../kubernetes.js';
import type { DiagnosticsSource } from './collect.js';
import { registryOf, type HostFacts } from './plan.js';

/** Files a diagnostics bundle may read, and nothing else (the collection's own allow-list). */
export const DIAGNOSTIC_FILES: readonly string[] = ['/etc/kairos-release', '/etc/edgefleet/node.json', '/proc/mounts', '/etc/resolv.conf'];

/** KAIROS_IMAGE_REPO (or the composed reference) of /etc/kairos-release. */
function imageOfRelease(text: string): string | undefined {
  const v = (k: string) => new RegExp(`^${k}=["']?([^"'\\n]*)["']?$`, 'm').exec(text)?.[1];
  const composed = v('KAIROS_REGISTRY_AND_ORG') && v('KAIROS_FLAVOR') && v('KAIROS_IMAGE_LABEL') ? `${v('KAIROS_REGISTRY_AND_ORG')}/${v('KAIROS_FLAVOR')}:${v('KAIROS_IMAGE_LABEL')}` : undefined;
  return v('KAIROS_IMAGE_REPO') || composed;
}

/** A TCP connect from node (no shell, no program), bounded by the timeout. */
export function tcpConnect(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`no answer within ${timeoutMs} ms`)); }, timeoutMs);
    socket.once('connect', () => { clearTimeout(timer); socket.end(); socket.destroy(); resolve(); });
    socket.once('error', (e: NodeJS.ErrnoException) => { clearTimeout(timer); socket.destroy(); reject(new Error(e.code ?? e.message)); });
  });
}

/** The diagnostics source of a real host: its allow-listed runner, the allow-listed files, node's TCP. */
export function hostDiagnostics(runner: CommandRunner, o: {
  nodeInfo: string; kairosRelease: string;
  kube: () => Promise<{ role: KubeRole; distribution: Distribution; nodeName: string } | undefined>;
}): DiagnosticsSource {
  const allowed = new Set([...DIAGNOSTIC_FILES, o.nodeInfo, o.kairosRelease]);
  const read = (path: string) => (allowed.has(path) ? readFile(path === '/etc/edgefleet/node.json' ? o.nodeInfo : path === '/etc/kairos-release' ? o.kairosRelease : path, 'utf8') : Promise.reject(new Error(`${path} is not a file diagnostics read`)));
  return {
    runner,
    readFile: read,
    connect: tcpConnect,
    async facts(): Promise<HostFacts> {
      const k = await o.kube().catch(() => undefined);
      const node = await readFile(o.nodeInfo, 'utf8').then((t) => JSON.parse(t) as { controlPlaneAddress?: unknown }, () => undefined).catch(() => undefined);
      const release = await readFile(o.kairosRelease, 'utf8').catch(() => '');
      const registry = registryOf(imageOfRelease(release));
      return {
        ...(k ? { distribution: k.distribution, role: k.role, nodeName: k.nodeName } : {}),
        ...(typeof node?.controlPlaneAddress === 'string' ? { controlPlaneAddress: node.controlPlaneAddress } : {}),
        ...(registry ? { registry } : {}),
      };
    },
  };
}
