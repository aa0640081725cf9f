import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Capture, Match, Template } from 'aws-cdk-lib/assertions';
import { AUDIT_TABLE, STATE_TABLE } from '../../lambdas/contracts/tables.js';
import { DataTables } from '../../lib/constructs/data-tables.js';
import { expectResource, testApp } from './helpers.js';

const keys = (pk: string, sk: string) => [
  { AttributeName: pk, KeyType: 'HASH' },
  { AttributeName: sk, KeyType: 'RANGE' },
];
const gsi = (ix: { name: string; partitionKey: string; sortKey: string; projection?: string }) => ({
  IndexName: ix.name,
  KeySchema: keys(ix.partitionKey, ix.sortKey),
  Projection: { ProjectionType: ix.projection ?? 'ALL' },
});
const stringAttrs = (names: string[]) => names.map((n) => ({ AttributeName: n, AttributeType: 'S' }));

const TABLES = [
  {
    name: 'state',
    spec: STATE_TABLE,
    indexes: [STATE_TABLE.byProject, STATE_TABLE.bySecondary, STATE_TABLE.byCluster, STATE_TABLE.openByDeadline],
  },
  {
    name: 'audit',
    spec: AUDIT_TABLE,
    indexes: [AUDIT_TABLE.byActor, AUDIT_TABLE.byDay],
  },
] as const;

describe('DataTables', () => {
  const stack = new Stack(testApp(), 'Tables');
  const data = new DataTables(stack, 'Data');
  const template = Template.fromStack(stack);
  const tableIds = {
    state: stack.getLogicalId(data.stateTable.node.defaultChild as never),
    audit: stack.getLogicalId(data.auditTable.node.defaultChild as never),
  };

  it('creates exactly two on-demand global tables', () => {
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 2);
    template.resourceCountIs('AWS::DynamoDB::Table', 0);
    template.allResourcesProperties('AWS::DynamoDB::GlobalTable', { BillingMode: 'PAY_PER_REQUEST' });
  });

  it.each(TABLES)('$name table: String keys, GSIs (projection ALL unless said) and TTL from tables.ts', ({ name, spec, indexes }) => {
    const attrs = [spec.partitionKey, spec.sortKey, ...indexes.flatMap((i) => [i.partitionKey, i.sortKey])];
    const definitions = new Capture(Match.arrayWith(stringAttrs(attrs)));
    expectResource(template, 'AWS::DynamoDB::GlobalTable', tableIds[name], {
      KeySchema: Match.exact(keys(spec.partitionKey, spec.sortKey)),
      GlobalSecondaryIndexes: Match.exact(indexes.map(gsi)),
      AttributeDefinitions: definitions,
      TimeToLiveSpecification: Match.objectEquals({ AttributeName: spec.ttlAttribute, Enabled: true }),
    });
    expect(definitions.asArray()).toHaveLength(attrs.length);
  });

  it('state table: the open-by-deadline index projects keys only (a command\'s writes between entering and leaving it cost nothing there)', () => {
    expectResource(template, 'AWS::DynamoDB::GlobalTable', tableIds.state, {
      GlobalSecondaryIndexes: Match.arrayWith([{
        IndexName: 'gsi4', KeySchema: keys('gsi4pk', 'gsi4sk'), Projection: Match.objectEquals({ ProjectionType: 'KEYS_ONLY' }),
      }]),
    });
    // The other indexes keep ALL: their readers use the projected items as they are.
    for (const ix of [STATE_TABLE.byProject, STATE_TABLE.bySecondary, STATE_TABLE.byCluster]) {
      expectResource(template, 'AWS::DynamoDB::GlobalTable', tableIds.state, {
        GlobalSecondaryIndexes: Match.arrayWith([Match.objectLike({ IndexName: ix.name, Projection: { ProjectionType: 'ALL' } })]),
      });
    }
  });

  it.each(TABLES)('$name table: PITR (35 days), deletion protection, retained', ({ name }) => {
    const retained = template.findResources('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        Replicas: [Match.objectLike({
          DeletionProtectionEnabled: true,
          PointInTimeRecoverySpecification: Match.objectEquals({ PointInTimeRecoveryEnabled: true, RecoveryPeriodInDays: 35 }),
        })],
      },
    });
    expect(retained).toHaveProperty(tableIds[name]);
  });

  it('honours removal policy, deletion protection and PITR window props', () => {
    const s = new Stack(testApp(), 'Custom');
    new DataTables(s, 'Data', { removalPolicy: RemovalPolicy.DESTROY, deletionProtection: false, pointInTimeRecoveryDays: 7 });
    const t = Template.fromStack(s);
    t.resourceCountIs('AWS::DynamoDB::GlobalTable', 2);
    // Both tables, with their first replica as asked.
    const custom = t.findResources('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Delete',
      Properties: {
        Replicas: Match.arrayWith([Match.objectLike({
          DeletionProtectionEnabled: false,
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true, RecoveryPeriodInDays: 7 },
        })]),
      },
    });
    expect(Object.keys(custom)).toHaveLength(2);
  });

  it.each([0, 36, 1.5, Number.NaN])('rejects pointInTimeRecoveryDays=%p at construct time', (days) => {
    const s = new Stack(testApp(), 'Bad');
    expect(() => new DataTables(s, 'Data', { pointInTimeRecoveryDays: days })).toThrow(/pointInTimeRecoveryDays/);
  });
});
