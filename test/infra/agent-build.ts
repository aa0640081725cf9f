import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { renderAgentManifest, type AgentManifest } from '../../lambdas/contracts/agent-artifacts.js';

/**
 * A small stand-in for `npm run device:build`'s output: manifest.json, two "executables", the
 * unit, and a file the manifest does not list (it must not be published).
 */
export function fakeAgentBuild(): { dir: string; manifest: AgentManifest } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-agent-build-'));
  const files: [AgentManifest['artifacts'][number]['arch'], string, string][] = [
    ['x64', 'edgefleet-agent-linux-x64', 'x64 executable'],
    ['arm64', 'edgefleet-agent-linux-arm64', 'arm64 executable'],
    ['noarch', 'edgefleet-agent.service', '[Unit]\nDescription=EdgeFleet agent\n'],
  ];
  const artifacts = files.map(([arch, file, content]) => {
    writeFileSync(path.join(dir, file), content);
    return { arch, file, sha256: createHash('sha256').update(content).digest('hex'), size: Buffer.byteLength(content) };
  });
  const manifest: AgentManifest = { version: '1.4.0', node: '22.12.0', builtAt: '2026-12-01T10:00:00.000Z', artifacts };
  writeFileSync(path.join(dir, 'manifest.json'), renderAgentManifest(manifest));
  writeFileSync(path.join(dir, 'install-snippet.sh'), 'echo not published\n');
  return { dir, manifest };
}
