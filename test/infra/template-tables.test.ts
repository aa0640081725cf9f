import { AUDIT_TABLE, STATE_TABLE } from '../../lambdas/contracts/tables.js';
import { LOCAL_STACK_NAME, synthesizeTemplate } from '../../lib/synth.js';
import { TABLE_PATH_SUFFIX, tablesFromTemplate } from '../../lib/template-tables.js';

type Ix = { name: string; partitionKey: string; sortKey: string; projection?: string };
const expected = (name: string, spec: { partitionKey: string; sortKey: string }, indexes: Ix[]) => ({
  TableName: name,
  BillingMode: 'PAY_PER_REQUEST',
  KeySchema: [
    { AttributeName: spec.partitionKey, KeyType: 'HASH' },
    { AttributeName: spec.sortKey, KeyType: 'RANGE' },
  ],
  AttributeDefinitions: [spec.partitionKey, spec.sortKey, ...indexes.flatMap((i) => [i.partitionKey, i.sortKey])]
    .map((a) => ({ AttributeName: a, AttributeType: 'S' })),
  GlobalSecondaryIndexes: indexes.map((i) => ({
    IndexName: i.name,
    KeySchema: [{ AttributeName: i.partitionKey, KeyType: 'HASH' }, { AttributeName: i.sortKey, KeyType: 'RANGE' }],
    Projection: { ProjectionType: i.projection ?? 'ALL' },
  })),
});

describe('synthesizeTemplate + tablesFromTemplate', () => {
  let template: Record<string, any>;
  beforeAll(() => {
    template = synthesizeTemplate();
  });

  // Its speed is not asserted here (a timed test flakes on a loaded machine).
  it('synthesizes in-process, with path metadata on the tables', () => {
    const paths = Object.values<any>(template.Resources).map((r) => r.Metadata?.['aws:cdk:path']);
    expect(paths).toContain(`${LOCAL_STACK_NAME}${TABLE_PATH_SUFFIX.state}`);
    expect(paths).toContain(`${LOCAL_STACK_NAME}${TABLE_PATH_SUFFIX.audit}`);
  });

  it('turns the synthesized tables into CreateTable inputs that match tables.ts', () => {
    const tables = tablesFromTemplate(template);
    expect(tables.state).toEqual(expected('edgefleet-state', STATE_TABLE, [STATE_TABLE.byProject, STATE_TABLE.bySecondary, STATE_TABLE.byCluster, STATE_TABLE.openByDeadline]));
    expect(tables.audit).toEqual(expected('edgefleet-audit', AUDIT_TABLE, [AUDIT_TABLE.byActor, AUDIT_TABLE.byDay]));
  });

  it('names local tables with a prefix', () => {
    const tables = tablesFromTemplate(template, { tableNamePrefix: 'dev1' });
    expect([tables.state.TableName, tables.audit.TableName]).toEqual(['dev1-state', 'dev1-audit']);
  });

  it('passes context through (external issuer: no user pool)', () => {
    const external = synthesizeTemplate({
      context: { 'edgefleet:jwtIssuer': 'https://idp.example.com', 'edgefleet:jwtAudience': 'cli' },
    });
    const types = Object.values<any>(external.Resources).map((r) => r.Type);
    expect(types).not.toContain('AWS::Cognito::UserPool');
    expect(types).toContain('AWS::ApiGatewayV2::Authorizer');
  });
});

describe('tablesFromTemplate on hand-written templates', () => {
  const table = (path: string, props: Record<string, unknown>, type = 'AWS::DynamoDB::Table') => ({
    Type: type, Metadata: { 'aws:cdk:path': path }, Properties: props,
  });
  const keyed = {
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
  };

  it('accepts AWS::DynamoDB::Table, literal names, INCLUDE projections and no GSIs', () => {
    const t = {
      Resources: {
        A: table('X/Data/StateTable/Resource', {
          ...keyed, TableName: 'fixed', ProvisionedThroughput: { ReadCapacityUnits: 5 },
          GlobalSecondaryIndexes: [{ IndexName: 'g', KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }], Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['a'] } }],
        }),
        B: table('X/Data/AuditTable/Resource', keyed),
      },
    };
    const out = tablesFromTemplate(t);
    expect(out.state).toEqual({
      TableName: 'fixed', BillingMode: 'PAY_PER_REQUEST', ...keyed,
      GlobalSecondaryIndexes: [{ IndexName: 'g', KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }], Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['a'] } }],
    });
    expect(out.audit).toEqual({ TableName: 'edgefleet-audit', BillingMode: 'PAY_PER_REQUEST', ...keyed });
  });

  it.each([
    ['no Resources', {}, /no Resources/],
    ['no path metadata', { Resources: { A: { Type: 'AWS::DynamoDB::GlobalTable', Properties: keyed } } }, /enable-path-metadata/],
    ['two state tables', {
      Resources: {
        A: table('X/Data/StateTable/Resource', keyed), B: table('Y/Data/StateTable/Resource', keyed),
        C: table('X/Data/AuditTable/Resource', keyed),
      },
    }, /2 tables match/],
    ['a token as table name', {
      Resources: {
        A: table('X/Data/StateTable/Resource', { ...keyed, TableName: { Ref: 'Name' } }),
        B: table('X/Data/AuditTable/Resource', keyed),
      },
    }, /TableName is not a literal/],
    ['missing key schema', {
      Resources: { A: table('X/Data/StateTable/Resource', { AttributeDefinitions: keyed.AttributeDefinitions }), B: table('X/Data/AuditTable/Resource', keyed) },
    }, /KeySchema missing/],
  ])('rejects %s', (_name, t, error) => {
    expect(() => tablesFromTemplate(t)).toThrow(error);
  });
});
