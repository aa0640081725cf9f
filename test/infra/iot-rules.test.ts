import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Table } from 'aws-cdk-lib/aws-dynamodb';
import { IOT_RULES, ruleSql } from '../../lambdas/contracts/iot.js';
import { IOT_SQL_VERSION, IotRules } from '../../lib/constructs/iot-rules.js';
import { expectResource, logicalIdOf, statementsOfFunction, synthStack, tableActions, testApp } from './helpers.js';

const { stack, template } = synthStack();
const stateId = logicalIdOf(stack.data.stateTable);
const auditId = logicalIdOf(stack.data.auditTable);
const fnIdOf = (name: string) => logicalIdOf(stack.iotRules.functions[name as keyof typeof stack.iotRules.functions].function);
const ruleIdOf = (name: string) => stack.getLogicalId(stack.iotRules.rules[name as keyof typeof stack.iotRules.rules]);

describe('IoT topic rules (from IOT_RULES)', () => {
  it('one rule and one handler per IOT_RULES entry, and no other topic rule', () => {
    template.resourceCountIs('AWS::IoT::TopicRule', IOT_RULES.length);
    const service = (name: unknown) => ({ Environment: { Variables: { POWERTOOLS_SERVICE_NAME: name } } });
    template.resourcePropertiesCountIs('AWS::Lambda::Function', service(Match.stringLikeRegexp('^edgefleet-iot-')), IOT_RULES.length);
    for (const r of IOT_RULES) template.resourcePropertiesCountIs('AWS::Lambda::Function', service(`edgefleet-iot-${r.name}`), 1);
  });

  it.each(IOT_RULES.map((r) => [r.name, r] as const))('%s: SQL from ruleSql, version 2016-03-23, Lambda action to its handler', (name, rule) => {
    expectResource(template, 'AWS::IoT::TopicRule', ruleIdOf(name), {
      TopicRulePayload: {
        Sql: ruleSql(rule), AwsIotSqlVersion: IOT_SQL_VERSION, RuleDisabled: false,
        Actions: Match.exact([{ Lambda: { FunctionArn: { 'Fn::GetAtt': [fnIdOf(name), 'Arn'] } } }]),
      },
    });
    expectResource(template, 'AWS::Lambda::Function', fnIdOf(name), {
      Runtime: 'nodejs22.x', Architectures: Match.exact(['arm64']), Environment: { Variables: { STATE_TABLE_NAME: Match.objectEquals({ Ref: stateId }) } },
    });
  });

  it.each(IOT_RULES.map((r) => r.name))('%s: only iot.amazonaws.com, from this rule and this account, may invoke the handler', (name) => {
    const byArn = { FunctionName: { 'Fn::GetAtt': [fnIdOf(name), 'Arn'] } };
    template.resourcePropertiesCountIs('AWS::Lambda::Permission', byArn, 1);
    template.resourcePropertiesCountIs('AWS::Lambda::Permission', { FunctionName: { Ref: fnIdOf(name) } }, 0);
    template.hasResourceProperties('AWS::Lambda::Permission', Match.objectEquals({
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [fnIdOf(name), 'Arn'] },
      Principal: 'iot.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [ruleIdOf(name), 'Arn'] },
      SourceAccount: { Ref: 'AWS::AccountId' },
    }));
  });

  it('a failed action goes to one error log group, through a role that may only write there', () => {
    const logGroupId = logicalIdOf(stack.iotRules.errorLogGroup);
    const roleId = logicalIdOf(stack.iotRules.errorRole);
    for (const rule of IOT_RULES) {
      expectResource(template, 'AWS::IoT::TopicRule', ruleIdOf(rule.name), {
        TopicRulePayload: { ErrorAction: Match.objectEquals({ CloudwatchLogs: { LogGroupName: { Ref: logGroupId }, RoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] } } }) },
      });
    }
    expectResource(template, 'AWS::Logs::LogGroup', logGroupId, { RetentionInDays: 90 });
    expectResource(template, 'AWS::IAM::Role', roleId, {
      AssumeRolePolicyDocument: { Statement: Match.exact([{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'iot.amazonaws.com' } }]) },
    });
    const policies = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: Match.arrayWith([{ Ref: roleId }]) } }));
    expect(policies.flatMap((p) => p.Properties.PolicyDocument.Statement)).toEqual([
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] } },
    ]);
  });

  it.each(IOT_RULES.map((r) => r.name))('%s: reads and writes the state table, nothing on the audit table but the presence handler\'s audit', (name) => {
    const rule = IOT_RULES.find((r) => r.name === name)!;
    const st = statementsOfFunction(template, fnIdOf(name));
    const onState = tableActions(st, stateId);
    for (const a of ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem']) expect(onState.has(a)).toBe(true);
    // The presence handler's zero-touch check audits the clusters it builds (append only).
    expect([...tableActions(st, auditId)]).toEqual(name === 'presence' ? ['dynamodb:PutItem'] : []);
    for (const s of st) {
      // Wildcards only where the service has no resource-level permissions: X-Ray, the IoT endpoint
      // lookup of publishers, and task responses (results: success and failure; pending-commands: failure).
      if ([s.Resource].flat().includes('*')) {
        const taskResponses = { results: [['states:SendTaskFailure', 'states:SendTaskSuccess']], 'pending-commands': [['states:SendTaskFailure']] } as Record<string, string[][]>;
        expect([['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], ...(rule.publishesCommands ? [['iot:DescribeEndpoint']] : []), ...(taskResponses[name] ?? [])])
          .toContainEqual([s.Action].flat().sort());
      }
    }
  });

  it('works with an imported table and custom retentions', () => {
    const s = new Stack(testApp(), 'Standalone');
    const table = Table.fromTableName(s, 'Imported', 'edgefleet-state');
    new IotRules(s, 'Iot', { stateTable: table, errorLogRetention: 7 as never });
    const t = Template.fromStack(s);
    t.resourceCountIs('AWS::IoT::TopicRule', IOT_RULES.length);
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
  });
});

describe('command publishing grants', () => {
  const publishActions = (name: string) => statementsOfFunction(template, fnIdOf(name))
    .filter((s) => [s.Action].flat().includes('iot:Publish'));

  it('lets only the pending-commands handler publish, and only on device command topics', () => {
    const stmts = publishActions('pending-commands');
    expect(stmts).toHaveLength(1);
    expect(JSON.stringify(stmts[0]!.Resource)).toContain(':topic/edgefleet/hosts/*/commands');
    for (const other of IOT_RULES.filter((r) => r.name !== 'pending-commands')) expect(publishActions(other.name)).toEqual([]);
  });
});

describe('command deadline sweep', () => {
  it('runs the sweeper every minute, with read/write on the state table and nothing on the audit table', () => {
    const sweeperId = logicalIdOf(stack.iotRules.commandSweeper.function);
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: Match.arrayWith([Match.objectLike({ Arn: { 'Fn::GetAtt': [sweeperId, 'Arn'] } })]),
    });
    const st = statementsOfFunction(template, sweeperId);
    const onState = tableActions(st, stateId);
    for (const a of ['dynamodb:Query', 'dynamodb:PutItem']) expect(onState.has(a)).toBe(true);
    expect(tableActions(st, auditId).size).toBe(0);
  });
});
