import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import * as x509 from '@peculiar/x509';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { WORKFLOW_FUNCTIONS, WORKFLOWS } from '../../lambdas/contracts/workflows.js';
import { createApiGateway, type GroupHandler } from '../../local/api-gateway.js';
import { GATEWAY_RECEIVED_HEADER } from '../../local/api-front-messages.js';
import { certificateIdOf } from '../../local/local-ca.js';
import { InvocationSlots, invokeLocal } from '../../local/lambda-invocation.js';
import { FunctionTimeouts } from '../../local/function-timeouts.js';
import { API_GROUPS } from '../../lambdas/contracts/routes.js';
import { LAMBDA_TIMEOUT_ERROR, LocalWorkflowEngine, type ExecutionOutcome } from '../../local/step-functions.js';
import { cachedTemplate, CHECKOUT_TEMPLATE_CACHE } from '../../local/template-cache.js';
import { startHarness, type Harness } from './harness.js';

/*
 * Lambda's timeout on the local runtime, as AWS documents it: the caller gets the timeout
 * (HTTP API: 500 {"message":"Internal Server Error"}; Step Functions: Lambda.Unknown), and the
 * timed-out invocation does nothing more (Lambda stops it): its later DynamoDB writes, registry
 * calls... are refused. Short timeouts come from `functionTimeoutSeconds` (this runtime only).
 */
x509.cryptoProvider.set(webcrypto as never);
const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const INVENTORY = { arch: 'amd64', cpus: 4, memoryMb: 8192, disks: [], nics: [], os: { name: 'ubuntu', version: '24.04' }, agentVersion: '0.1.0' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ functionTimeoutSeconds: { 'edgefleet-api-tokens': 2, 'edgefleet-api-device': 3, 'edgefleet-api-hosts': 6 } });
});
afterAll(async () => { await h?.stop(); });

/** Holds the first DynamoDB request whose command and input match for `ms` before it goes on (to the freeze check). */
function delayOnce(command: string, match: (input: string) => boolean, ms: number): { readonly hit: () => boolean } {
  let hit = false;
  h.rt.dynamo.middlewareStack.add((next, context) => async (args) => {
    if (!hit && (command === '*' || context.commandName === command) && match(JSON.stringify(args.input))) {
      hit = true;
      await sleep(ms);
    }
    return next(args);
  }, { step: 'initialize', name: `testDelay${Math.random().toString(36).slice(2)}` });
  return { hit: () => hit };
}

describe('local Lambda timeouts', () => {
  it('the gateway answers a function that runs past its timeout as the HTTP API does: 500 {"message":"Internal Server Error"}', async () => {
    let finished = false;
    const slow: GroupHandler = async () => { await sleep(400); finished = true; return { statusCode: 200, body: 'late' }; };
    const server = createApiGateway({ meta: slow } as unknown as Parameters<typeof createApiGateway>[0], h.rt.issuer, undefined,
      (_group, requestId, call) => invokeLocal({ name: 'edgefleet-api-meta', timeoutMs: 100 }, call, requestId));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/healthz`);
      expect(res.status).toBe(500);
      expect(await res.json()).toEqual({ message: 'Internal Server Error' });
      expect(finished).toBe(false);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('a request whose caller hung up while it waited for a local concurrency slot is not invoked', async () => {
    const ran: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    const meta: GroupHandler = async (event) => { ran.push(event.rawPath); if (event.rawPath === '/healthz') await held; return { statusCode: 200, body: 'ok' }; };
    const fn = { name: 'edgefleet-api-meta', timeoutMs: 10_000, slots: new InvocationSlots(1) };
    const server = createApiGateway({ meta } as unknown as Parameters<typeof createApiGateway>[0], h.rt.issuer, undefined,
      (_group, requestId, call, callerGone) => invokeLocal(fn, call, requestId, callerGone));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const first = fetch(`${base}/healthz`);
      await sleep(50);
      const hangUp = new AbortController();
      const second = fetch(`${base}/healthz?second`, { signal: hangUp.signal });
      await sleep(50);
      expect(fn.slots.load).toEqual({ running: 1, waiting: 1 });
      hangUp.abort();
      await expect(second).rejects.toThrow();
      await sleep(50);
      release();
      expect((await first).status).toBe(200);
      await sleep(50);
      // Only the first ran; the slot is free again for the next caller.
      expect(ran).toEqual(['/healthz']);
      expect(fn.slots.load).toEqual({ running: 0, waiting: 0 });
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('the gateway answers a function that has not answered within its integration timeout as the HTTP API does: 503 {"message":"Service Unavailable"}, and the invocation goes on', async () => {
    let finished = false;
    const slow: GroupHandler = async () => { await sleep(600); finished = true; return { statusCode: 200, body: 'late' }; };
    const server = createApiGateway({ meta: slow } as unknown as Parameters<typeof createApiGateway>[0], h.rt.issuer, undefined,
      (_group, requestId, call) => invokeLocal({ name: 'edgefleet-api-meta', timeoutMs: 5_000 }, call, requestId), () => 200);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const started = Date.now();
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/healthz`);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ message: 'Service Unavailable' });
      expect(Date.now() - started).toBeLessThan(550);
      // Lambda does not stop an invocation because API Gateway stopped waiting for it.
      expect(finished).toBe(false);
      await sleep(600);
      expect(finished).toBe(true);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('a request still waiting for a local concurrency slot at its integration timeout gets 503 and is never invoked; the slot goes to the next caller', async () => {
    const ran: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    const meta: GroupHandler = async (event) => { ran.push(event.rawQueryString); if (event.rawQueryString === 'first') await held; return { statusCode: 200, body: 'ok' }; };
    const fn = { name: 'edgefleet-api-meta', timeoutMs: 10_000, slots: new InvocationSlots(1) };
    const server = createApiGateway({ meta } as unknown as Parameters<typeof createApiGateway>[0], h.rt.issuer, undefined,
      (_group, requestId, call, callerGone) => invokeLocal(fn, call, requestId, callerGone), () => 300);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const first = fetch(`${base}/healthz?first`);
      await sleep(50);
      const second = await fetch(`${base}/healthz?second`);
      expect(second.status).toBe(503);
      expect(await second.json()).toEqual({ message: 'Service Unavailable' });
      // The first still holds the slot past its own 300 ms: its answer was a 503 too, and it runs on.
      expect((await first).status).toBe(503);
      expect(fn.slots.load).toEqual({ running: 1, waiting: 1 });
      release();
      await sleep(50);
      expect(ran).toEqual(['first']);
      expect(fn.slots.load).toEqual({ running: 0, waiting: 0 });
      const third = await fetch(`${base}/healthz?third`);
      expect(third.status).toBe(200);
      expect(ran).toEqual(['first', 'third']);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('the integration timeout counts from the front door\'s receipt: a request that waited there its whole timeout is answered 503 unrun, one that waited part of it gets the rest', async () => {
    const ran: string[] = [];
    const meta: GroupHandler = async (event) => { ran.push(`${event.rawQueryString} ${event.headers[GATEWAY_RECEIVED_HEADER] ?? 'unstamped'}`); await sleep(1_000); return { statusCode: 200, body: 'late' }; };
    const server = createApiGateway({ meta } as unknown as Parameters<typeof createApiGateway>[0], h.rt.issuer, undefined,
      (_group, requestId, call) => invokeLocal({ name: 'edgefleet-api-meta', timeoutMs: 5_000 }, call, requestId), () => 600);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const spent = await fetch(`${base}/healthz?spent`, { headers: { [GATEWAY_RECEIVED_HEADER]: String(Date.now() - 600) } });
      expect(spent.status).toBe(503);
      expect(await spent.json()).toEqual({ message: 'Service Unavailable' });
      expect(ran).toEqual([]);
      const started = Date.now();
      const half = await fetch(`${base}/healthz?half`, { headers: { [GATEWAY_RECEIVED_HEADER]: String(started - 400) } });
      expect(half.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(550); // 200 ms left of 600, not a fresh 600
      expect(ran).toEqual(['half unstamped']); // the stamp is the gateway's, not the function's to see
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('the local runtime waits for each route group as the synthesized integrations say: their TimeoutInMillis, else the HTTP API default, within its limits', () => {
    const timeouts = new FunctionTimeouts(cachedTemplate(CHECKOUT_TEMPLATE_CACHE));
    for (const group of Object.keys(API_GROUPS)) {
      const ms = timeouts.named(`edgefleet-api-${group}`).integrationTimeoutMs;
      expect([group, typeof ms]).toEqual([group, 'number']);
      expect(ms).toBeGreaterThanOrEqual(50);
      expect(ms).toBeLessThanOrEqual(30_000);
    }
  });

  it('a route that times out answers 500, and its DynamoDB write after the timeout never happens', async () => {
    // The token's own write (whichever command writes it) is held past the tokens function's timeout.
    const delay = delayOnce('*', (i) => i.includes('"slow-token"'), 3_000);
    const res = await h.call('POST', '/v1/registration-tokens', { body: { name: 'slow-token' } });
    expect(res.status).toBe(500);
    expect(delay.hit()).toBe(true);
    await sleep(1_500); // past the held write: it was refused, not late
    const list = await h.call('GET', '/v1/registration-tokens');
    expect(list.status).toBe(200);
    expect(JSON.stringify(list.body)).not.toContain('slow-token');
  });

  it('a registration that timed out after its certificate was provisioned: the retry ends with exactly one valid certificate, the recorded one', async () => {
    const keys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair;
    const uid = 'timeout-box-1';
    const csr = (await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${uid}`, keys, signingAlgorithm: EC })).toString('pem');
    const proof = async () => {
      const at = new Date().toISOString();
      const sig = await webcrypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, keys.privateKey, Buffer.from(`${uid}|${at}`));
      return { at, signature: Buffer.from(sig).toString('base64') };
    };
    const t = await h.call('POST', '/v1/registration-tokens', { body: { name: 'storm', autoApprove: true } });
    expect(t.status).toBe(201);
    // The write that records the certificate on the host is held past the device function's timeout.
    const delay = delayOnce('PutItemCommand', (i) => i.includes(uid) && i.includes('certificateId'), 4_000);
    const first = await h.call('POST', '/v1/device/register', { token: null, body: { token: t.body.token, uid, csr, inventory: INVENTORY } });
    expect(first.status).toBe(500);
    expect(delay.hit()).toBe(true);
    await sleep(1_500);
    // What the storm left: a certificate provisioned, never recorded, and (frozen) never revoked.
    const orphans = h.rt.registry.certificatesOf(uid);
    expect(orphans).toHaveLength(1);
    expect(h.rt.ca.isRevoked(orphans[0]!)).toBe(false);
    expect((await h.call('GET', `/v1/hosts/${uid}`)).body.certificateId).toBeUndefined();

    const retry = await h.call('POST', '/v1/device/register', { token: null, body: { token: t.body.token, uid, csr, inventory: INVENTORY, proof: await proof() } });
    expect(retry.status).toBe(200);
    const recorded = certificateIdOf(retry.body.certificatePem);
    expect((await h.call('GET', `/v1/hosts/${uid}`)).body.certificateId).toBe(recorded);
    expect(recorded).not.toBe(orphans[0]);
    expect(h.rt.registry.certificatesOf(uid)).toEqual([recorded]);
    expect(h.rt.ca.isRevoked(orphans[0]!)).toBe(true);
    expect(h.rt.ca.isRevoked(recorded)).toBe(false);
    const audit = await h.call('GET', `/v1/audit-events?actor=${encodeURIComponent(`device:${uid}`)}`);
    expect(audit.body.items.map((e: { action: string }) => e.action)).toContain('device.certificate-retired');
  });

  it('a workflow task whose function times out fails with Lambda.Unknown (caught, not retried as a service error), and its later write never happens', async () => {
    const template = structuredClone(cachedTemplate(CHECKOUT_TEMPLATE_CACHE)) as { Resources: Record<string, { Type?: string; Metadata?: Record<string, unknown>; Properties?: Record<string, unknown> }> };
    const find = (type: string, part: string) => Object.entries(template.Resources).find(([, r]) => r.Type === type && String(r.Metadata?.['aws:cdk:path'] ?? '').includes(part))![0];
    const stepArn = `arn:aws:lambda:local-1:000000000000:function:${find('AWS::Lambda::Function', `/Workflows/${WORKFLOW_FUNCTIONS.step.constructId}/`)}`;
    const machine = find('AWS::StepFunctions::StateMachine', `/Workflows/${WORKFLOWS['scale-out'].constructId}/Resource`);
    template.Resources[machine]!.Properties!.DefinitionString = JSON.stringify({
      StartAt: 'Slow',
      States: {
        Slow: {
          Type: 'Task', Resource: stepArn, Parameters: { name: 'slow' },
          // What CDK's LambdaInvoke adds (retryOnServiceExceptions): a timeout is not one of them.
          Retry: [{ ErrorEquals: ['Lambda.ClientExecutionTimeoutException', 'Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException'], MaxAttempts: 2, IntervalSeconds: 0 }],
          Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Caught' }],
          End: true,
        },
        Caught: { Type: 'Pass', End: true },
      },
    });
    let calls = 0;
    const ends: ExecutionOutcome[] = [];
    const key = { pk: 'TEST#workflow-timeout', sk: 'late-write' };
    const engine = new LocalWorkflowEngine({
      template,
      functionTimeoutSeconds: { 'edgefleet-workflow-step': 1 },
      handlers: {
        step: async () => {
          calls++;
          await sleep(1_500);
          await h.rt.dynamo.send(new PutCommand({ TableName: h.rt.deps.config.stateTable, Item: { ...key, kind: 'test' } }));
          return { ok: true };
        },
        hostCommand: async () => ({}),
      },
      onEnd: (_k, _n, outcome) => ends.push(outcome),
    });
    await engine.start('scale-out', 'timeout-1', { operationId: 'timeout-1' } as never);
    await engine.whenQuiet();
    expect(ends).toEqual([{ status: 'SUCCEEDED' }]);
    expect(calls).toBe(1);
    await sleep(1_000); // past the handler's write
    const item = await h.rt.dynamo.send(new GetCommand({ TableName: h.rt.deps.config.stateTable, Key: key, ConsistentRead: true }));
    expect(item.Item).toBeUndefined();
    expect(LAMBDA_TIMEOUT_ERROR).toBe('Lambda.Unknown');
  });
});

describe('POST /v1/hosts/batch: bounded by the function\'s time, never a 5xx', () => {
  it('1,200 hosts on a 6 s function: each answer is 200, what did not fit comes back as unprocessed (not written), and sending those again finishes the import', async () => {
    const hosts = Array.from({ length: 1_200 }, (_, i) => ({ uid: `batch-${String(i).padStart(4, '0')}`, site: `shop-${i % 40}`, tags: { env: 'prod' } }));
    let rows = hosts;
    let created = 0;
    for (let round = 0; rows.length > 0; round++) {
      expect(round).toBeLessThan(30);
      const res = await h.call('POST', '/v1/hosts/batch', { body: { hosts: rows } });
      expect(res.status).toBe(200);
      expect(res.body.failed).toEqual([]);
      expect(res.body.created + res.body.existing + res.body.unprocessed.length).toBe(rows.length);
      created += res.body.created;
      const left = new Set<string>(res.body.unprocessed);
      if (left.size > 0) {
        // Nothing of an unprocessed host was written.
        const sample = [...left][0]!;
        expect((await h.call('GET', `/v1/hosts/${sample}`)).status).toBe(404);
      }
      rows = rows.filter((r) => left.has(r.uid));
    }
    expect(created).toBe(1_200);
    const last = await h.call('GET', '/v1/hosts/batch-1199');
    expect(last.body).toMatchObject({ status: 'pre-registered', site: 'shop-39' });
  });
});
