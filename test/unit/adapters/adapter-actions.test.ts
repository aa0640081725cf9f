import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ADAPTER_ACTIONS } from '../../../lambdas/handlers/aws-calls.js';

/**
 * Pins ADAPTER_ACTIONS (the adapter column of every function's AWS call list, proven against
 * the roles by test/infra/iam-simulation.test.ts) to the code: the IAM actions an adapter
 * module can cause are read from the SDK command classes it constructs, so a new command in an
 * adapter fails here until the list (and with it the role) says so.
 */
const ROOT = path.resolve('lambdas/adapters');

/** SDK package → IAM service prefix. */
const SERVICE: Record<string, string> = {
  '@aws-sdk/client-dynamodb': 'dynamodb', '@aws-sdk/lib-dynamodb': 'dynamodb', '@aws-sdk/client-iot': 'iot',
  '@aws-sdk/client-iot-data-plane': 'iot', '@aws-sdk/client-sfn': 'states', '@aws-sdk/client-secrets-manager': 'secretsmanager',
  '@aws-sdk/client-eventbridge': 'events', '@aws-sdk/client-sns': 'sns',
  '@aws-sdk/client-s3': 's3', '@aws-sdk/client-kms': 'kms',
  // AWS IoT Secure Tunneling's actions are in the iot: namespace (iot:OpenTunnel…).
  '@aws-sdk/client-iotsecuretunneling': 'iot',
};
/** lib-dynamodb document commands → the DynamoDB actions IAM authorizes them as. */
const DOCUMENT: Record<string, string[]> = {
  Get: ['GetItem'], Put: ['PutItem'], Update: ['UpdateItem'], Delete: ['DeleteItem'], Query: ['Query'], Scan: ['Scan'],
  BatchGet: ['BatchGetItem'], BatchWrite: ['BatchWriteItem'], TransactGet: ['GetItem'],
};

/** The IAM actions `source` can cause, from the commands it constructs. */
function actionsOf(source: string): string[] {
  const out = new Set<string>();
  // A presigned POST is a PutObject the holder of the form sends with this role's signature.
  if (/\bcreatePresignedPost\(/.test(source)) out.add('s3:PutObject');
  for (const m of source.matchAll(/import\s*\{([^}]*)\}\s*from\s*'(@aws-sdk\/[^']+)'/g)) {
    const service = SERVICE[m[2]!];
    const names = m[1]!.split(',').map((n) => n.replace(/^\s*type\s+/, '').trim()).filter((n) => n.endsWith('Command'));
    for (const name of names) {
      if (!new RegExp(`new ${name}\\(`).test(source)) continue;
      if (!service) throw new Error(`unknown SDK package ${m[2]} (add it to SERVICE)`);
      const base = name.replace(/Command$/, '');
      if (m[2] === '@aws-sdk/lib-dynamodb') {
        if (base === 'TransactWrite') {
          // Each item is authorized as its own action.
          for (const item of source.matchAll(/\b(Put|Update|Delete|ConditionCheck):/g)) out.add(`dynamodb:${item[1] === 'ConditionCheck' ? 'ConditionCheckItem' : `${item[1]}Item`}`);
          continue;
        }
        const mapped = DOCUMENT[base];
        if (!mapped) throw new Error(`unmapped document command ${name}`);
        for (const a of mapped) out.add(`dynamodb:${a}`);
      } else {
        out.add(`${service}:${base}`);
      }
    }
  }
  return [...out].sort();
}

function adapterModules(dir = ROOT): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => e.isDirectory()
    ? adapterModules(path.join(dir, e.name))
    : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []);
}

describe('adapter command pins (ADAPTER_ACTIONS = the commands each adapter constructs)', () => {
  const sending = adapterModules()
    .map((file) => ({ name: path.relative(ROOT, file).replace(/\.ts$/, ''), actions: actionsOf(readFileSync(file, 'utf8')) }))
    .filter((m) => m.actions.length > 0);

  it('every adapter that sends AWS commands is listed, and every listed adapter exists', () => {
    expect(sending.map((m) => m.name).sort()).toEqual(Object.keys(ADAPTER_ACTIONS).sort());
  });

  it.each(Object.keys(ADAPTER_ACTIONS))('%s sends exactly its listed actions', (name) => {
    const found = sending.find((m) => m.name === name)?.actions ?? [];
    expect(found).toEqual([...ADAPTER_ACTIONS[name as keyof typeof ADAPTER_ACTIONS]].sort());
  });

  it('reads commands the way the adapters write them (the scanner can fail)', () => {
    const src = `import { GetCommand, TransactWriteCommand, type QueryCommand } from '@aws-sdk/lib-dynamodb';
      import { PublishCommand } from '@aws-sdk/client-iot-data-plane';
      await db.send(new GetCommand({})); await db.send(new TransactWriteCommand({ TransactItems: [{ Put: {} }, { ConditionCheck: {} }] }));
      await iot.send(new PublishCommand({}));`;
    expect(actionsOf(src)).toEqual(['dynamodb:ConditionCheckItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'iot:Publish']);
  });
});
