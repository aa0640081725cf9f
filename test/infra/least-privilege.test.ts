import { API_GROUPS, type ApiGroup, type TableAccess } from '../../lib/api-routes.js';
import { functionIdOf, logicalIdOf, statementsOfFunction, synthStack, tableActions, type Statement } from './helpers.js';

const MUTATE = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];
const GROUPS = Object.keys(API_GROUPS) as ApiGroup[];

describe('least privilege of the API handlers', () => {
  const { stack, template } = synthStack();
  const stateId = logicalIdOf(stack.data.stateTable);
  const auditId = logicalIdOf(stack.data.auditTable);
  const statements = (group: ApiGroup): Statement[] => statementsOfFunction(template, functionIdOf(template, group));

  it('meta has no DynamoDB permission at all', () => {
    const actions = statements('meta').flatMap((s) => [s.Action].flat());
    expect(actions.filter((a) => a.startsWith('dynamodb:'))).toEqual([]);
    expect(tableActions(statements('meta'), stateId).size).toBe(0);
    expect(tableActions(statements('meta'), auditId).size).toBe(0);
  });

  it('audit may query the audit table (all its adapter sends) and cannot touch the state table', () => {
    expect(tableActions(statements('audit'), stateId).size).toBe(0);
    const onAudit = tableActions(statements('audit'), auditId);
    expect([...onAudit]).toEqual(['dynamodb:Query']);
    for (const a of MUTATE) expect(onAudit.has(a)).toBe(false);
  });

  it('no handler may update or delete audit events (append-only)', () => {
    for (const group of GROUPS) {
      const onAudit = tableActions(statements(group), auditId);
      for (const a of ['dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem']) {
        expect({ group, action: a, allowed: onAudit.has(a) }).toEqual({ group, action: a, allowed: false });
      }
    }
  });

  const expectAccess = (actions: Set<string>, access: TableAccess, label: string) => {
    const has = (a: string) => actions.has(a);
    const reads = has('dynamodb:Query');
    const writes = has('dynamodb:PutItem');
    const expected = { none: [false, false], read: [true, false], write: [false, true], readwrite: [true, true] }[access];
    expect({ label, reads, writes }).toEqual({ label, reads: expected[0], writes: expected[1] });
    if (!expected[1]) for (const a of MUTATE) expect({ label, a, granted: has(a) }).toEqual({ label, a, granted: false });
    if (!expected[0]) expect({ label, scan: has('dynamodb:Scan'), query: has('dynamodb:Query') }).toEqual({ label, scan: false, query: false });
  };

  it.each(GROUPS)('%s: state/audit table permissions match API_GROUPS', (group) => {
    const st = statements(group);
    expectAccess(tableActions(st, stateId), API_GROUPS[group].stateTable, `${group} on state`);
    expectAccess(tableActions(st, auditId), API_GROUPS[group].auditTable, `${group} on audit`);
  });

  it('write-only grants name the base table only, not its indexes', () => {
    for (const group of GROUPS.filter((g) => API_GROUPS[g].auditTable === 'write')) {
      const onAuditResources = statements(group)
        .filter((s) => JSON.stringify(s.Resource).includes(`"${auditId}"`))
        .map((s) => JSON.stringify(s.Resource));
      expect(onAuditResources.length).toBeGreaterThan(0);
      for (const r of onAuditResources) expect(r).not.toContain('/index/*');
    }
  });

  it('every wildcard resource is X-Ray only, or the device, diagnostics and hosts handlers\' resource-less IoT actions', () => {
    for (const group of GROUPS) {
      for (const s of statements(group)) {
        if ([s.Resource].flat().includes('*')) {
          const actions = [s.Action].flat().sort();
          if (group === 'device' && actions.every((a) => a.startsWith('iot:'))) {
            expect(actions).toEqual(['iot:CreateCertificateFromCsr', 'iot:DescribeEndpoint']);
          } else if ((group === 'diagnostics' || group === 'hosts') && actions.every((a) => a.startsWith('iot:'))) {
            // diagnostics sends collect-diagnostics, hosts sends agent-update: DescribeEndpoint has no resource-level permission.
            // It sends the host its collect-diagnostics command: DescribeEndpoint has no resource-level permission.
            expect(actions).toEqual(['iot:DescribeEndpoint']);
          } else if (group === 'tunnels' && actions.every((a) => a.startsWith('iot:'))) {
            // The command publisher finds the data endpoint; OpenTunnel has no resource type (SSH only, by condition).
            expect([['iot:DescribeEndpoint'], ['iot:OpenTunnel']]).toContainEqual(actions);
            if (actions[0] === 'iot:OpenTunnel') expect(JSON.stringify(s)).toMatch(/"ForAllValues:StringEquals":\{"iot:TunnelDestinationService":\[?"SSH"\]?\}/);
          } else {
            expect(actions).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
          }
        }
      }
    }
  });

  it('each role may write only to its own log group', () => {
    for (const group of GROUPS) {
      const fnId = functionIdOf(template, group);
      const logGroupId: string = template.toJSON().Resources[fnId].Properties.LoggingConfig.LogGroup.Ref;
      const logStatements = statements(group).filter((s) => [s.Action].flat().some((a) => a.startsWith('logs:')));
      expect(logStatements).toEqual([
        { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] } },
      ]);
    }
  });
});
