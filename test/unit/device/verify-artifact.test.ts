import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderAgentManifest, type AgentManifest } from '../../../lambdas/contracts/agent-artifacts.js';
import { ArtifactRefused, verifyArtifact, verifyArtifactFile, verifyManifest, type RefusalReason } from '../../../device/verify-artifact.js';

const pair = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
const { privateKey, publicKey } = pair();
const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const exe = Buffer.from('#!/bin/sh\necho agent\n');
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const MANIFEST: AgentManifest = {
  version: '0.1.0', node: 'v20.20.2', builtAt: '2026-12-01T12:00:00.000Z',
  artifacts: [{ arch: 'x64', file: 'edgefleet-agent-linux-x64', sha256: sha(exe), size: exe.length }],
};
const bytes = Buffer.from(renderAgentManifest(MANIFEST));
const signature = sign('sha256', bytes, privateKey);

function refusal(f: () => unknown): RefusalReason | 'accepted' {
  try {
    f();
    return 'accepted';
  } catch (e) {
    if (e instanceof ArtifactRefused) return e.reason;
    throw e;
  }
}

describe('verifyManifest()', () => {
  test('accepts the signed manifest and returns what it says', () => {
    expect(verifyManifest(bytes, signature, publicPem)).toEqual(MANIFEST);
  });

  const other = pair();
  const tampered = Buffer.from(bytes.toString().replace(MANIFEST.artifacts[0]!.sha256, 'f'.repeat(64)));
  const signedGarbage = Buffer.from('{"version":"0.1.0"}');
  test.each([
    ['one changed checksum in the manifest', tampered, signature, publicPem, 'bad-signature'],
    ['a signature by another key', bytes, sign('sha256', bytes, other.privateKey), publicPem, 'bad-signature'],
    ['a truncated signature', bytes, signature.subarray(0, 20), publicPem, 'bad-signature'],
    ['no signature', bytes, Buffer.alloc(0), publicPem, 'bad-signature'],
    ['a key that is no PEM', bytes, signature, 'not a key', 'bad-key'],
    ['an RSA key', bytes, signature, generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString(), 'bad-key'],
    ['a validly signed document that is no manifest', signedGarbage, sign('sha256', signedGarbage, privateKey), publicPem, 'bad-manifest'],
  ] as const)('refuses %s', (_label, b, s, key, reason) => {
    expect(refusal(() => verifyManifest(b, s, key))).toBe(reason);
  });

  test('says what to do', () => {
    expect(() => verifyManifest(tampered, signature, publicPem)).toThrow(/not signed by this control plane's key: refusing it and everything it lists/);
  });
});

describe('verifyArtifact() / verifyArtifactFile()', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgefleet-verify-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const flipped = Buffer.from(exe);
  flipped[3] ^= 1;

  test.each([
    ['the listed bytes', 'edgefleet-agent-linux-x64', exe, 'accepted'],
    ['one flipped bit', 'edgefleet-agent-linux-x64', flipped, 'checksum-mismatch'],
    ['one byte more', 'edgefleet-agent-linux-x64', Buffer.concat([exe, Buffer.from('x')]), 'size-mismatch'],
    ['a file the manifest does not list', 'edgefleet-agent-linux-arm64', exe, 'not-listed'],
  ] as const)('%s (%s) → %s, in memory and from a file', async (_label, file, content, expected) => {
    expect(refusal(() => verifyArtifact(MANIFEST, file, content))).toBe(expected);
    const path = join(dir, `${expected}.bin`);
    writeFileSync(path, content);
    const fromFile = await verifyArtifactFile(MANIFEST, file, path).then(() => 'accepted', (e: unknown) => (e instanceof ArtifactRefused ? e.reason : 'other'));
    expect(fromFile).toBe(expected);
  });
});

describe('renderAgentManifest()', () => {
  test('one artifact per line, so that a shell can read an entry once the signature holds; parses back to the same manifest', () => {
    const text = renderAgentManifest({ ...MANIFEST, artifacts: [...MANIFEST.artifacts, { arch: 'noarch', file: 'edgefleet-agent.service', sha256: 'a'.repeat(64), size: 1 }] });
    const lines = text.split('\n');
    expect(lines.filter((l) => l.includes('"file":"edgefleet-agent-linux-x64"'))).toHaveLength(1);
    expect(lines.find((l) => l.includes('"file":"edgefleet-agent.service"'))).toContain(`"sha256":"${'a'.repeat(64)}"`);
    expect(JSON.parse(text).artifacts).toHaveLength(2);
  });
});
