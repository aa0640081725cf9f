import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Table } from 'aws-cdk-lib/aws-dynamodb';
import { IOT_RULES, ruleSql } from '../../lambdas/contracts/iot.js';
import { IOT_SQL_VERSION, IotRules } from '../../lib/constructs/iot-rules.js';
import { logicalIdOf, statementsOfFunction, synthStack, tableActions } from './helpers.js';

const { stack, template } = synthStack();
const resources = template.toJSON().Resources as Record<string, any>;
const stateId = logicalIdOf(stack.data.stateTable);
const auditId = logicalIdOf(stack.data.auditTable);
const fnIdOf = (name: string) => logicalIdOf(stack.iotRules.functions[name as keyof typeof stack.iotRules.functions].function);
const ruleIdOf = (name: string) => stack.getLogicalId(stack.iotRules.rules[name as keyof typeof stack.iotRules.rules]);

describe('IoT topic rules (from IOT_RULES)', () => {
  it('one rule and one handler per IOT_RULES entry, and no other topic rule', () => {
    expect(Object.keys(template.findResources('AWS::IoT::TopicRule'))).toHaveLength(IOT_RULES.length);
    const services = Object.values(template.findResources('AWS::Lambda::Function'))
      .map((f: any) => f.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME as string)
      .filter((s) => s.startsWith('edgefleet-iot-'));
    expect(services.sort()).toEqual(IOT_RULES.map((r) => `edgefleet-iot-${r.name}`).sort());
  });

  it.each(IOT_RULES.map((r) => [r.name, r] as const))('%s: SQL from ruleSql, version 2016-03-23, Lambda action to its handler', (name, rule) => {
    const payload = resources[ruleIdOf(name)].Properties.TopicRulePayload;
    expect(payload.Sql).toBe(ruleSql(rule));
    expect(payload.AwsIotSqlVersion).toBe(IOT_SQL_VERSION);
    expect(payload.RuleDisabled).toBe(false);
    expect(payload.Actions).toEqual([{ Lambda: { FunctionArn: { 'Fn::GetAtt': [fnIdOf(name), 'Arn'] } } }]);
    const fn = resources[fnIdOf(name)];
    expect(fn.Properties.Runtime).toBe('nodejs22.x');
    expect(fn.Properties.Architectures).toEqual(['arm64']);
    expect(fn.Properties.Environment.Variables.STATE_TABLE_NAME).toEqual({ Ref: stateId });
  });

  it.each(IOT_RULES.map((r) => r.name))('%s: only iot.amazonaws.com, from this rule and this account, may invoke the handler', (name) => {
    const perms = Object.values(template.findResources('AWS::Lambda::Permission'))
      .filter((p: any) => JSON.stringify(p.Properties.FunctionName).includes(`"${fnIdOf(name)}"`));
    expect(perms).toHaveLength(1);
    expect(perms[0].Properties).toEqual({
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [fnIdOf(name), 'Arn'] },
      Principal: 'iot.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [ruleIdOf(name), 'Arn'] },
      SourceAccount: { Ref: 'AWS::AccountId' },
    });
  });

  it('a failed action goes to one error log group, through a role that may only write there', () => {
    const logGroupId = logicalIdOf(stack.iotRules.errorLogGroup);
    const roleId = logicalIdOf(stack.iotRules.errorRole);
    for (const rule of IOT_RULES) {
      expect(resources[ruleIdOf(rule.name)].Properties.TopicRulePayload.ErrorAction).toEqual({
        CloudwatchLogs: { LogGroupName: { Ref: logGroupId }, RoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] } },
      });
    }
    expect(resources[logGroupId].Properties.RetentionInDays).toBe(90);
    expect(resources[roleId].Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'iot.amazonaws.com' } },
    ]);
    const policies = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p: any) => (p.Properties.Roles as any[]).some((r) => r?.Ref === roleId));
    expect(policies.flatMap((p: any) => p.Properties.PolicyDocument.Statement)).toEqual([
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] } },
    ]);
  });

  it.each(IOT_RULES.map((r) => r.name))('%s: reads and writes the state table, nothing on the audit table', (name) => {
    const rule = IOT_RULES.find((r) => r.name === name)!;
    const st = statementsOfFunction(template, fnIdOf(name));
    const onState = tableActions(st, stateId);
    for (const a of ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem']) expect(onState.has(a)).toBe(true);
    expect(tableActions(st, auditId).size).toBe(0);
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
    const s = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Standalone');
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
