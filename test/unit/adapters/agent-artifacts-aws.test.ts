import { spawnSync } from 'node:child_process';
import { createHash, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { GetObjectCommand, NoSuchKey, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { sdkStreamMixin } from '@smithy/util-stream';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { KmsAgentSigningKey } from '../../../lambdas/adapters/kms/agent-signing-key.js';
import { ARTIFACT_URL_SECONDS, S3AgentArtifactStore } from '../../../lambdas/adapters/s3/agent-artifact-store.js';
import { renderAgentManifest, type AgentManifest } from '../../../lambdas/contracts/agent-artifacts.js';
import { awsAgentAdapters } from '../../../lambdas/handlers/composition-root.js';
import { ConfigError, loadConfig } from '../../../lambdas/handlers/config.js';
import { makeHandler } from '../../../lambdas/handlers/http/agent.js';

const kms = mockClient(KMSClient);
const s3 = mockClient(S3Client);
const KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const BUCKET = 'edgefleet-agentartifactsbucket-abc123';
// What KMS holds: the test makes the key pair; GetPublicKey answers its public half as DER SPKI.
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const SPKI_DER = publicKey.export({ type: 'spki', format: 'der' });

const MANIFEST: AgentManifest = {
  version: '1.4.0', node: '22.12.0', builtAt: '2026-12-01T10:00:00.000Z',
  artifacts: [
    { arch: 'x64', file: 'edgefleet-agent-linux-x64', sha256: 'a'.repeat(64), size: 104_857_600 },
    { arch: 'noarch', file: 'edgefleet-agent.service', sha256: 'b'.repeat(64), size: 300 },
  ],
};
const BYTES = Buffer.from(renderAgentManifest(MANIFEST));

/** KMS Sign as the service does it for ECDSA_SHA_256 / DIGEST: ECDSA over the given SHA-256 digest, DER-encoded. */
function kmsSigns(signedMessage: Buffer) {
  kms.on(SignCommand).callsFake((input: { Message: Uint8Array; MessageType: string; SigningAlgorithm: string }) => {
    expect(input.MessageType).toBe('DIGEST');
    expect(input.SigningAlgorithm).toBe('ECDSA_SHA_256');
    expect(Buffer.from(input.Message)).toEqual(createHash('sha256').update(signedMessage).digest());
    // ECDSA over SHA-256(message) is ECDSA over that digest: the same signature KMS computes.
    return { Signature: sign('sha256', signedMessage, privateKey), SigningAlgorithm: 'ECDSA_SHA_256', KeyId: KEY_ARN };
  });
}
const publicKeyAnswer = { KeyId: KEY_ARN, PublicKey: new Uint8Array(SPKI_DER), KeySpec: 'ECC_NIST_P256' as const, KeyUsage: 'SIGN_VERIFY' as const, SigningAlgorithms: ['ECDSA_SHA_256' as const] };
const signingKey = () => new KmsAgentSigningKey(new KMSClient({ region: 'eu-west-1' }), KEY_ARN);
const store = () => new S3AgentArtifactStore(new S3Client({ region: 'eu-west-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } }), BUCKET, 'agent/');
const body = (b: Buffer) => sdkStreamMixin(Readable.from([b]));

beforeEach(() => { kms.reset(); s3.reset(); });

describe('KmsAgentSigningKey', () => {
  it('signs so that a host verifies with the PEM built from GetPublicKey (node:crypto and openssl dgst -sha256 -verify)', async () => {
    kms.on(GetPublicKeyCommand).resolves(publicKeyAnswer);
    kmsSigns(BYTES);
    const key = signingKey();
    const pem = await key.publicKeyPem();
    expect(pem).toMatch(/^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+-----END PUBLIC KEY-----\n$/);
    expect(createPublicKey(pem).export({ type: 'spki', format: 'der' })).toEqual(SPKI_DER);
    const sig = Buffer.from(await key.sign(BYTES));
    expect(sig[0]).toBe(0x30); // a DER SEQUENCE (r, s), not a raw 64-byte r||s
    expect(verify('sha256', BYTES, pem, sig)).toBe(true);
    expect(verify('sha256', Buffer.concat([BYTES, Buffer.from(' ')]), pem, sig)).toBe(false);
    expect(kms.commandCalls(SignCommand)[0]!.args[0].input.KeyId).toBe(KEY_ARN);

    const openssl = spawnSync('openssl', ['version']);
    if (openssl.status !== 0) return; // node:crypto above checked the same bytes
    const dir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-kms-verify-'));
    try {
      writeFileSync(path.join(dir, 'key.pem'), pem);
      writeFileSync(path.join(dir, 'manifest.json'), BYTES);
      writeFileSync(path.join(dir, 'manifest.sig'), sig);
      const ok = spawnSync('openssl', ['dgst', '-sha256', '-verify', 'key.pem', '-signature', 'manifest.sig', 'manifest.json'], { cwd: dir, encoding: 'utf8' });
      expect(ok.stdout.trim()).toBe('Verified OK');
      writeFileSync(path.join(dir, 'manifest.json'), Buffer.from(BYTES.toString().replace('1.4.0', '1.4.1')));
      const bad = spawnSync('openssl', ['dgst', '-sha256', '-verify', 'key.pem', '-signature', 'manifest.sig', 'manifest.json'], { cwd: dir, encoding: 'utf8' });
      expect(bad.status).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('calls GetPublicKey once and Sign once per manifest; a failed call is not remembered', async () => {
    kms.on(GetPublicKeyCommand).rejectsOnce(Object.assign(new Error('throttled'), { name: 'ThrottlingException' })).resolves(publicKeyAnswer);
    kmsSigns(BYTES);
    const key = signingKey();
    await expect(key.publicKeyPem()).rejects.toThrow('throttled');
    await key.publicKeyPem();
    await key.publicKeyPem();
    expect(kms.commandCalls(GetPublicKeyCommand)).toHaveLength(2);
    await key.sign(BYTES);
    await key.sign(Buffer.from(BYTES));
    expect(kms.commandCalls(SignCommand)).toHaveLength(1);
  });

  it('refuses a key that is not ECC_NIST_P256 / SIGN_VERIFY, naming what hosts need', async () => {
    kms.on(GetPublicKeyCommand).resolves({ ...publicKeyAnswer, KeySpec: 'RSA_2048', SigningAlgorithms: ['RSASSA_PSS_SHA_256'] });
    await expect(signingKey().publicKeyPem()).rejects.toThrow(/is RSA_2048 .* not an ECC_NIST_P256 SIGN_VERIFY key/);
  });
});

describe('S3AgentArtifactStore', () => {
  it('reads agent/manifest.json byte for byte', async () => {
    s3.on(GetObjectCommand, { Bucket: BUCKET, Key: 'agent/manifest.json' }).resolves({ Body: body(BYTES) });
    expect(Buffer.from((await store().manifest())!)).toEqual(BYTES);
  });

  it('reads a missing manifest (NoSuchKey, or AccessDenied without s3:ListBucket) as nothing published; other errors propagate', async () => {
    s3.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'gone', $metadata: {} }));
    expect(await store().manifest()).toBeUndefined();
    s3.on(GetObjectCommand).rejects(new S3ServiceException({ name: 'AccessDenied', $fault: 'client', message: 'denied', $metadata: {} }));
    expect(await store().manifest()).toBeUndefined();
    s3.on(GetObjectCommand).rejects(new S3ServiceException({ name: 'SlowDown', $fault: 'server', message: 'slow down', $metadata: {} }));
    await expect(store().manifest()).rejects.toThrow('slow down');
  });

  it('answers an artifact with a presigned GET of agent/<file>, valid 5 minutes, without calling S3', async () => {
    const at = await store().artifact('edgefleet-agent-linux-x64');
    expect(at.kind).toBe('redirect');
    const url = new URL(at.kind === 'redirect' ? at.url : '');
    expect(url.hostname).toBe(`${BUCKET}.s3.eu-west-1.amazonaws.com`);
    expect(url.pathname).toBe('/agent/edgefleet-agent-linux-x64');
    expect(url.searchParams.get('X-Amz-Expires')).toBe(String(ARTIFACT_URL_SECONDS));
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    expect(s3.calls()).toHaveLength(0);
  });
});

describe('the agent function (GET /v1/agent/… on AWS)', () => {
  const event = (p: string): APIGatewayProxyEventV2 => ({
    version: '2.0', routeKey: `GET ${p}`, rawPath: p, rawQueryString: '', headers: {}, isBase64Encoded: false,
    requestContext: { requestId: 'req-1', http: { method: 'GET', path: p, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'curl' } } as APIGatewayProxyEventV2['requestContext'],
  });
  const published = makeHandler(() => ({ signing: signingKey(), store: store() }));
  const call = async (h: typeof published, p: string) => (await h(event(p))) as APIGatewayProxyStructuredResultV2;
  const bytes = (r: APIGatewayProxyStructuredResultV2) => Buffer.from(r.body ?? '', r.isBase64Encoded ? 'base64' : 'utf8');

  it('serves the manifest exactly, a signature over it that verifies with the served key, and redirects artifacts to S3', async () => {
    kms.on(GetPublicKeyCommand).resolves(publicKeyAnswer);
    kmsSigns(BYTES);
    s3.on(GetObjectCommand).callsFake(() => ({ Body: body(BYTES) }));
    const manifest = await call(published, '/v1/agent/manifest');
    expect(manifest.statusCode).toBe(200);
    expect(bytes(manifest)).toEqual(BYTES);
    const sig = await call(published, '/v1/agent/manifest.sig');
    const pem = bytes(await call(published, '/v1/agent/public-key.pem')).toString();
    expect(verify('sha256', bytes(manifest), pem, bytes(sig))).toBe(true);
    const artifact = await call(published, '/v1/agent/artifacts/edgefleet-agent-linux-x64');
    expect(artifact.statusCode).toBe(302);
    expect(String(artifact.headers?.location)).toMatch(new RegExp(`^https://${BUCKET}\\.s3\\.eu-west-1\\.amazonaws\\.com/agent/edgefleet-agent-linux-x64\\?`));
  });

  it('refuses a file the manifest does not list (404) and answers 503 naming the fix where nothing is published', async () => {
    s3.on(GetObjectCommand).callsFake(() => ({ Body: body(BYTES) }));
    const unlisted = await call(published, '/v1/agent/artifacts/install-snippet.sh');
    expect(unlisted.statusCode).toBe(404);
    expect(JSON.parse(unlisted.body!).detail).toMatch(/lists no artifact "install-snippet\.sh": ask for one of edgefleet-agent-linux-x64, edgefleet-agent\.service/);
    const none = await call(makeHandler(() => ({})), '/v1/agent/manifest');
    expect(none.statusCode).toBe(503);
    expect(JSON.parse(none.body!)).toMatchObject({ code: 'agent-artifacts-not-configured', detail: expect.stringMatching(/-c edgefleet:agentArtifacts=dist\/device/) });
  });
});

describe('awsAgentAdapters (the AWS composition root): download is the user-data default only where the stack published the agent', () => {
  const env = { AGENT_SIGNING_KEY_ARN: KEY_ARN, AGENT_ARTIFACTS_BUCKET: BUCKET };
  it.each([
    ['published', { ...env, AGENT_PUBLISHED: 'true' }, ['agentSigning', 'agentStore']],
    ['not published (the key and bucket exist, no build)', env, []],
    ['no agent settings at all', {}, []],
  ])('%s', (_label, vars, wired) => {
    expect(Object.keys(awsAgentAdapters(loadConfig(vars), { kms: new KMSClient({}), s3: new S3Client({}) })).sort()).toEqual(wired);
  });

  it.each([
    ['published, and the manifest bucket (the hosts function)', { ...env, AGENT_PUBLISHED: 'true', AGENT_MANIFEST_BUCKET: BUCKET }, ['agentManifest', 'agentSigning', 'agentStore']],
    ['only the manifest bucket (the hosts function)', { AGENT_MANIFEST_BUCKET: BUCKET }, ['agentManifest']],
  ])('%s', (_label, vars, wired) => {
    expect(Object.keys(awsAgentAdapters(loadConfig(vars), { kms: new KMSClient({}), s3: new S3Client({}) })).sort()).toEqual(wired);
  });

  it('the hosts function reads the published version from agent/manifest.json of its bucket, and nothing else', async () => {
    s3.on(GetObjectCommand, { Bucket: BUCKET, Key: 'agent/manifest.json' }).callsFake(() => ({ Body: body(BYTES) }));
    const client = new S3Client({ region: 'eu-west-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } });
    const { agentManifest } = awsAgentAdapters(loadConfig({ AGENT_MANIFEST_BUCKET: BUCKET }), { s3: client });
    expect(await agentManifest!.publishedVersion()).toBe('1.4.0');
    expect(s3.calls().map((c) => c.args[0].input)).toEqual([{ Bucket: BUCKET, Key: 'agent/manifest.json' }]);
    expect(kms.calls()).toHaveLength(0);
  });

  it('reads no manifest (AccessDenied: nothing published, or no grant) as no version, so agent-update answers 503; a throttle propagates', async () => {
    const client = new S3Client({ region: 'eu-west-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } });
    const { agentManifest } = awsAgentAdapters(loadConfig({ AGENT_MANIFEST_BUCKET: BUCKET }), { s3: client });
    s3.on(GetObjectCommand).rejects(new S3ServiceException({ name: 'AccessDenied', $fault: 'client', message: 'denied', $metadata: {} }));
    expect(await agentManifest!.publishedVersion()).toBeUndefined();
    s3.on(GetObjectCommand).callsFake(() => ({ Body: body(Buffer.from('{"version": "not a manifest"}')) }));
    expect(await agentManifest!.publishedVersion()).toBeUndefined();
    s3.on(GetObjectCommand).rejects(new S3ServiceException({ name: 'SlowDown', $fault: 'server', message: 'slow down', $metadata: {} }));
    await expect(agentManifest!.publishedVersion()).rejects.toThrow('slow down');
  });

  it('refuses a malformed AGENT_MANIFEST_BUCKET, naming the variable', () => {
    expect(() => loadConfig({ AGENT_MANIFEST_BUCKET: 'Not_A_Bucket' })).toThrow(/AGENT_MANIFEST_BUCKET: an S3 bucket name/);
  });

  it('refuses AGENT_PUBLISHED without the key, and a malformed key ARN', () => {
    expect(() => loadConfig({ AGENT_PUBLISHED: 'true', AGENT_ARTIFACTS_BUCKET: BUCKET })).toThrow(ConfigError);
    expect(() => loadConfig({ AGENT_SIGNING_KEY_ARN: 'alias/edgefleet' })).toThrow(/AGENT_SIGNING_KEY_ARN: a KMS key ARN/);
  });
});
