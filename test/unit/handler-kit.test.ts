import { jest } from '@jest/globals';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import type { DocClient } from '../../lambdas/adapters/dynamodb/client.js';
import { HANDLER_ENV } from '../../lambdas/contracts/routes.js';
import { WORKFLOW_ENV } from '../../lambdas/contracts/workflows.js';
import { NotFoundError } from '../../lambdas/domain/errors.js';
import type { CommandRecord } from '../../lambdas/domain/command.js';
import { unavailablePublisher, unwiredEngine, unwiredSecrets } from '../../lambdas/handlers/aws-building-blocks.js';
import { composeRoot, type HttpDeps } from '../../lambdas/handlers/composition-root.js';
import { ConfigError, loadConfig } from '../../lambdas/handlers/config.js';
import { createHttpHandler, route, type ApiEvent } from '../../lambdas/handlers/http/framework.js';
import { createIotHandler } from '../../lambdas/handlers/iot/framework.js';
import * as statusRule from '../../lambdas/handlers/iot/status.js';
import { getLogger } from '../../lambdas/handlers/observability.js';
import * as sweeper from '../../lambdas/handlers/scheduled/expire-commands.js';
import { workflowHandler } from '../../lambdas/handlers/workflow/framework.js';
import { issueCommand, type DeviceDeps } from '../../lambdas/use-cases/device-messages.js';
import { startWorkflow } from '../../lambdas/use-cases/cluster-operations.js';
import { setFailureSink } from '../../lambdas/use-cases/swallowed-failure.js';
import type { DeviceRegistry } from '../../lambdas/ports/device-registry.js';

/**
 * The handler kit: every kind of entry point writes its lines with the invocation's correlation
 * keys (captured from the logger's real output), and the configuration fails fast naming the
 * variable.
 */
const saved = { ...process.env };
let lines: Record<string, unknown>[] = [];
let swallowed: Record<string, unknown>[] = [];
let previousSink: ReturnType<typeof setFailureSink>;

beforeAll(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  process.env.POWERTOOLS_TRACE_ENABLED = 'false';
  getLogger().setLogLevel('INFO');
  previousSink = setFailureSink((l) => swallowed.push(JSON.parse(l)));
});
afterAll(() => { process.env = saved; setFailureSink(previousSink); });

const capture = (chunk: unknown) => {
  for (const l of String(chunk).split('\n')) if (l.startsWith('{')) lines.push(JSON.parse(l));
  return true;
};
let spies: { mockRestore(): void }[] = [];
beforeEach(() => {
  lines = [];
  swallowed = [];
  // The logger writes one JSON document per line: a Console on stdout (info) and stderr (warn, error).
  spies = [jest.spyOn(process.stdout, 'write').mockImplementation(capture), jest.spyOn(process.stderr, 'write').mockImplementation(capture)];
});
afterEach(() => { for (const s of spies) s.mockRestore(); });

const line = (message: string) => {
  const found = lines.filter((l) => l.message === message);
  expect(found).toHaveLength(1);
  return found[0]!;
};

const context = (awsRequestId: string): Context => ({
  callbackWaitsForEmptyEventLoop: false, functionName: 'fn', functionVersion: '$LATEST', invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:fn',
  memoryLimitInMB: '128', awsRequestId, logGroupName: 'g', logStreamName: 's', getRemainingTimeInMillis: () => 1000,
  done: () => undefined, fail: () => undefined, succeed: () => undefined,
});

function deviceDeps(overrides: Partial<DeviceDeps> = {}): DeviceDeps {
  return {
    clock: { now: () => new Date('2026-01-01T00:00:00Z') },
    presence: { apply: async () => true },
    status: { get: async () => undefined, put: async () => { getLogger().info('status stored'); return true; } },
    commands: { create: async () => true, get: async () => undefined, update: async () => true, listUnfinished: async () => [], listOverdue: async () => [], withParams: async (c) => c },
    publisher: { publish: async () => undefined },
    hostLifecycle: { lifecycle: async () => ({ status: 'approved' }) },
    ...overrides,
  };
}

describe('correlation keys on every line of an invocation', () => {
  it('HTTP: the request id and the path\'s ids, on the route\'s lines and on the problem+json refusal', async () => {
    const handler = createHttpHandler('hosts', {
      'GET /v1/hosts/{hostId}': route({
        run: async () => {
          getLogger().info('reading the host');
          throw new NotFoundError('host-not-found', 'no such host');
        },
      }),
    }, () => ({}) as HttpDeps);
    const event = {
      routeKey: 'GET /v1/hosts/{hostId}', rawPath: '/v1/hosts/h-42', pathParameters: { hostId: 'h-42' }, headers: {},
      requestContext: { requestId: 'req-http-1', authorizer: { jwt: { claims: { sub: 'alice', 'edgefleet:roles': 'default:viewer' }, scopes: [] } } },
    } as unknown as ApiEvent;
    const out = await handler(event, context('lambda-1'));
    expect(out.statusCode).toBe(404);
    expect(line('reading the host')).toMatchObject({ requestId: 'req-http-1', hostId: 'h-42', function_request_id: 'lambda-1' });
    expect(line('request refused')).toMatchObject({ requestId: 'req-http-1', hostId: 'h-42', code: 'host-not-found' });
  });

  it('IoT rule: the topic\'s host id (and a result\'s command id) and the Lambda request id', async () => {
    const handler = statusRule.makeHandler(() => deviceDeps());
    const out = await handler({ seq: 1, at: '2026-01-01T00:00:00Z', kind: 'change', boot: { state: 'active' }, agentVersion: '1.0.0', hostId: 'h-7', receivedAt: 1 }, context('lambda-2'));
    expect(out).toEqual({ outcome: 'accepted', detail: 'stored:first' });
    expect(line('status stored')).toMatchObject({ hostId: 'h-7', requestId: 'lambda-2' });

    const results = createIotHandler('results', z.object({ commandId: z.string() }), async () => { getLogger().info('result seen'); }, () => deviceDeps());
    await results({ commandId: 'cmd-3', hostId: 'h-7' }, context('lambda-3'));
    expect(line('result seen')).toMatchObject({ hostId: 'h-7', commandId: 'cmd-3', requestId: 'lambda-3' });
  });

  it('workflow task: the payload\'s operation and host, also on the task-failed line', async () => {
    const handler = workflowHandler('host-command', z.object({ operationId: z.string(), task: z.object({ hostId: z.string() }) }), async () => {
      getLogger().info('sending the command');
      throw new NotFoundError('operation-not-found', 'gone');
    }, () => ({}));
    await expect(handler({ operationId: 'op-5', task: { hostId: 'h-9' } }, context('lambda-4'))).rejects.toThrow('gone');
    expect(line('sending the command')).toMatchObject({ operationId: 'op-5', hostId: 'h-9', requestId: 'lambda-4' });
    expect(line('workflow task failed')).toMatchObject({ operationId: 'op-5', hostId: 'h-9', task: 'host-command' });
  });

  it('schedule: the request id, also without a Lambda context (local runtime timer)', async () => {
    const overdue: CommandRecord = {
      commandId: 'cmd-1', hostId: 'h-1', type: 'reboot', params: {}, deadline: '2025-12-31T00:00:00Z', state: 'sent', version: 1,
      createdAt: '2025-12-31T00:00:00Z', updatedAt: '2025-12-31T00:00:00Z',
    };
    const deps = deviceDeps({ commands: { create: async () => true, get: async () => undefined, update: async () => true, listUnfinished: async () => [], listOverdue: async () => [overdue], withParams: async (c) => c } });
    await sweeper.makeHandler(() => deps)({}, context('lambda-5'));
    expect(line('commands timed out: their hosts did not finish them before the deadline')).toMatchObject({ requestId: 'lambda-5', count: 1 });
    await sweeper.makeHandler(() => deps)({});
    const local = lines.filter((l) => l.message === 'commands timed out: their hosts did not finish them before the deadline')[1]!;
    expect(local.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('keys do not leak between concurrent invocations (the local runtime runs many at once)', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const handler = createIotHandler('results', z.object({ commandId: z.string() }), async (hostId) => {
      if (hostId === 'slow') await gate;
      getLogger().info(`done ${hostId}`);
    }, () => deviceDeps());
    const slow = handler({ commandId: 'c-slow', hostId: 'slow' }, context('r-slow'));
    await handler({ commandId: 'c-fast', hostId: 'fast' }, context('r-fast'));
    release();
    await slow;
    expect(line('done slow')).toMatchObject({ hostId: 'slow', commandId: 'c-slow', requestId: 'r-slow' });
    expect(line('done fast')).toMatchObject({ hostId: 'fast', commandId: 'c-fast', requestId: 'r-fast' });
  });

  it('failures swallowed inside an invocation (publishStored, startWorkflow) carry its keys and count their metric', async () => {
    const deps = deviceDeps({ publisher: { publish: async () => { throw new Error('endpoint unreachable'); } } });
    const rule = createIotHandler('results', z.object({ commandId: z.string() }), async (hostId, _m, d) => {
      await issueCommand(d, hostId, { commandId: 'cmd-8', type: 'reboot', params: {}, deadline: '2026-01-01T01:00:00Z' });
    }, () => deps);
    expect(await rule({ commandId: 'cmd-1', hostId: 'h-8' }, context('lambda-6'))).toEqual({ outcome: 'accepted' });
    expect(swallowed).toEqual([expect.objectContaining({ requestId: 'lambda-6', hostId: 'h-8', commandId: 'cmd-8', CommandPublishFailed: 1 })]);

    swallowed = [];
    const task = workflowHandler('workflow-step', z.object({ operationId: z.string() }), async (input) => {
      await startWorkflow({ workflows: unwiredEngine }, 'upgrade-cluster', input.operationId);
      return { status: 'ok' };
    }, () => ({}));
    await task({ operationId: 'op-6' }, context('lambda-7'));
    expect(swallowed).toEqual([expect.objectContaining({ requestId: 'lambda-7', operationId: 'op-6', workflow: 'upgrade-cluster', WorkflowStartFailed: 1 })]);
  });
});

describe('configuration: one schema, parsed once, failing fast with the variable\'s name', () => {
  const tables = { [HANDLER_ENV.stateTable]: 'state-table', [HANDLER_ENV.auditTable]: 'audit-table', [HANDLER_ENV.apiUrl]: 'https://api.example.com/' };

  it.each<[string, NodeJS.ProcessEnv, readonly ('stateTable' | 'auditTable' | 'apiUrl')[], RegExp]>([
    ['a required table is missing', {}, ['stateTable'], /STATE_TABLE_NAME: is missing/],
    ['an empty variable counts as missing', { [HANDLER_ENV.auditTable]: '' }, ['auditTable'], /AUDIT_TABLE_NAME: is missing/],
    ['the API URL is not a URL', { ...tables, [HANDLER_ENV.apiUrl]: 'not a url' }, [], /EDGEFLEET_API_URL/],
    ['audit retention out of range', { ...tables, [HANDLER_ENV.auditRetentionDays]: '0' }, [], /AUDIT_RETENTION_DAYS/],
    ['state machines not JSON', { ...tables, [WORKFLOW_ENV.stateMachines]: '{nope' }, [], /STATE_MACHINE_ARNS: must be a JSON object/],
    ['host timeout too short', { ...tables, [WORKFLOW_ENV.hostTimeoutSeconds]: '3' }, [], /HOST_TIMEOUT_SECONDS/],
  ])('%s', (_name, env, required, message) => {
    expect(() => loadConfig(env, required)).toThrow(ConfigError);
    expect(() => loadConfig(env, required)).toThrow(message);
  });

  it('defaults: audit retention 365 days, host timeout 1800 s; the URL loses its trailing slash', () => {
    expect(loadConfig(tables, ['stateTable', 'auditTable', 'apiUrl'])).toEqual({
      stateTable: 'state-table', auditTable: 'audit-table', apiUrl: 'https://api.example.com', auditRetentionDays: 365, workflowSettings: { hostTimeoutSeconds: 1800 },
    });
  });

  it('a Lambda entry point without its table fails at its first invocation, naming the variable', async () => {
    delete process.env[HANDLER_ENV.stateTable];
    await expect(statusRule.handler({ seq: 1, at: '2026-01-01T00:00:00Z', kind: 'change', boot: { state: 'active' }, agentVersion: '1.0.0', hostId: 'h-1' }, context('cold')))
      .rejects.toThrow(/STATE_TABLE_NAME: is missing/);
  });
});

describe('composition root: each adapter built once, shared by every kind of entry point', () => {
  const sent: Record<string, any>[] = [];
  const db = { send: async (command: { input: Record<string, any> }) => { sent.push(command.input); return {}; } } as unknown as DocClient;
  const registry = {} as DeviceRegistry;
  const compose = (env: NodeJS.ProcessEnv) => composeRoot(loadConfig(env), {
    db, publisher: unavailablePublisher, registry, workflows: unwiredEngine, secrets: unwiredSecrets,
  });

  it('HTTP, IoT, workflow and schedule share the same repositories', () => {
    const root = compose({ [HANDLER_ENV.stateTable]: 'state', [HANDLER_ENV.auditTable]: 'audit' });
    expect(root.workflow.hosts).toBe(root.http.hosts);
    expect(root.workflow.operations).toBe(root.http.operations);
    expect(root.device.operations).toBe(root.http.operations);
    expect(root.device.status).toBe(root.http.status);
    expect(root.workflow.commands).toBe(root.device.commands);
    expect(root.workflow.audit).toBe(root.http.audit);
  });

  it.each([[undefined, 365], ['30', 30]])('audit retention comes from the configuration (AUDIT_RETENTION_DAYS=%s → %d days)', async (days, expected) => {
    sent.length = 0;
    const root = compose({ [HANDLER_ENV.stateTable]: 'state', [HANDLER_ENV.auditTable]: 'audit', ...(days ? { [HANDLER_ENV.auditRetentionDays]: days } : {}) });
    const time = '2026-01-01T00:00:00.000Z';
    await root.workflow.audit.record({ id: 'a1', project: 'default', time, actor: 'x', action: 'y', resource: 'host/h', outcome: 'success', requestId: 'r' });
    expect(sent[0]!.Item.expiresAtEpoch - Date.parse(time) / 1000).toBe(expected * 86_400);
  });

  it('a function deployed without a table fails on its use, naming the variable', async () => {
    const root = compose({ [HANDLER_ENV.auditTable]: 'audit' });
    await expect(root.http.hosts.get('h-1')).rejects.toThrow(/STATE_TABLE_NAME/);
    expect(() => root.http.config.stateTable).toThrow(/STATE_TABLE_NAME/);
  });
});
