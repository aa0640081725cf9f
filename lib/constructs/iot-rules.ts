import { Duration, Stack } from 'aws-cdk-lib';
import { Rule as EventsRule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { CfnTopicRule } from 'aws-cdk-lib/aws-iot';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { IOT_RULES, ruleSql, type IotRuleName } from '../../lambdas/contracts/iot.js';
import { HANDLER_ENV } from '../api-routes.js';
import { bindTable, EdgeFunction, type LogLevel } from './edge-function.js';
import { acknowledgeNag } from '../nag.js';
import { deployArn, wildcardFinding } from '../arns.js';

export interface IotRulesProps {
  /** The state table the rule handlers read and write (presence, status, commands). */
  readonly stateTable: ITable;
  /**
   * Retention of each handler's log group.
   * @default RetentionDays.ONE_MONTH
   */
  readonly functionLogRetention?: RetentionDays;
  /**
   * Retention of the log group that receives messages a rule action failed to deliver.
   * @default RetentionDays.THREE_MONTHS
   */
  readonly errorLogRetention?: RetentionDays;
  /**
   * `POWERTOOLS_LOG_LEVEL` of every handler.
   * @default 'INFO'
   */
  readonly logLevel?: LogLevel;
}

/**
 * Lets `fn` publish commands: iot:Publish on the device command topics only
 * (`edgefleet/hosts/+/commands` in MQTT terms) and iot:DescribeEndpoint to find the data endpoint.
 */
export function grantCommandPublish(fn: EdgeFunction): void {
  const topics = { service: 'iot', resource: 'topic', resourceName: 'edgefleet/hosts/*/commands' };
  fn.function.addToRolePolicy(new PolicyStatement({ actions: ['iot:Publish'], resources: [deployArn(topics)] }));
  fn.function.addToRolePolicy(new PolicyStatement({ actions: ['iot:DescribeEndpoint'], resources: ['*'] }));
  acknowledgeNag(fn.role, wildcardFinding(topics),
    'The function sends commands to whichever host a task or request is about; the wildcard is the host id segment of the command topic only.');
}

/**
 * Lets `fn` publish health changes: events:PutEvents on the account's default bus only (the
 * alert rule matches source `edgefleet` there; contracts/events.ts).
 */
export function grantHealthEvents(fn: EdgeFunction): void {
  fn.function.addToRolePolicy(new PolicyStatement({
    actions: ['events:PutEvents'], resources: [deployArn({ service: 'events', resource: 'event-bus', resourceName: 'default' })],
  }));
}

/** Timeout of one command sweep run (it runs every minute). */
export const SWEEP_TIMEOUT_SECONDS = 50;

/**
 * What the rule handlers' adapters send to the state table (device-plane stores, operations,
 * host lifecycle): no BatchGetItem, no DeleteItem.
 */
export const DEVICE_PLANE_TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'] as const;

/** The SQL version every rule uses (the one with `topic(n)` and nested-object support). */
export const IOT_SQL_VERSION = '2016-03-23';

const pascal = (s: string) => s.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase());

/**
 * IoT topic rules from IOT_RULES (the same table drives the local router): per rule one
 * handler function (state table readwrite), a CfnTopicRule selecting `ruleSql(rule)` into it,
 * a Lambda permission for iot.amazonaws.com scoped to that rule's ARN, and an error action
 * writing undeliverable messages to one log group.
 */
export class IotRules extends Construct {
  public readonly functions: Readonly<Record<IotRuleName, EdgeFunction>>;
  public readonly rules: Readonly<Record<IotRuleName, CfnTopicRule>>;
  /** Times out commands past their deadline, every minute. */
  public readonly commandSweeper: EdgeFunction;
  public readonly sweepSchedule: EventsRule;
  public readonly errorLogGroup: LogGroup;
  /** Assumed by IoT to write to the error log group (and nothing else). */
  public readonly errorRole: Role;
  /** Events the rule handlers and the sweep failed on after their retries (14 days). */
  public readonly failedEvents: Queue;

  constructor(scope: Construct, id: string, props: IotRulesProps) {
    super(scope, id);
    this.errorLogGroup = new LogGroup(this, 'ErrorLogs', { retention: props.errorLogRetention ?? RetentionDays.THREE_MONTHS });
    this.errorRole = new Role(this, 'ErrorActionRole', {
      assumedBy: new ServicePrincipal('iot.amazonaws.com'),
      description: 'Lets the EdgeFleet IoT rules log messages their action could not deliver',
    });
    // The CloudWatch Logs rule action needs DescribeLogStreams too (AWS IoT developer guide).
    this.errorRole.addToPolicy(new PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents'],
      resources: [this.errorLogGroup.logGroupArn],
    }));
    // IoT invokes the rule handlers asynchronously, and so does the sweep schedule: an event that
    // still fails after Lambda's retries (or that EventBridge cannot deliver) lands here, never dropped.
    this.failedEvents = new Queue(this, 'FailedEvents', {
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    acknowledgeNag(this.failedEvents, 'AwsSolutions-SQS3',
      'This queue is itself the dead-letter destination of the IoT rule handlers and the command sweep; a queue behind it would only move the problem.');

    const functions = {} as Record<IotRuleName, EdgeFunction>;
    const rules = {} as Record<IotRuleName, CfnTopicRule>;
    for (const rule of IOT_RULES) {
      const name = pascal(rule.name);
      const fn = new EdgeFunction(this, `${name}Handler`, {
        entry: rule.entry,
        serviceName: `edgefleet-iot-${rule.name}`,
        description: `EdgeFleet IoT rule target: ${rule.topicFilter}`,
        logRetention: props.functionLogRetention,
        logLevel: props.logLevel,
        deadLetterQueue: this.failedEvents,
      });
      bindTable(fn, props.stateTable, HANDLER_ENV.stateTable, 'readwrite', {
        actions: rule.derivesHealth ? [...DEVICE_PLANE_TABLE_ACTIONS, 'dynamodb:BatchGetItem'] : DEVICE_PLANE_TABLE_ACTIONS,
      });
      if (rule.derivesHealth) grantHealthEvents(fn);
      fn.function.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.hours(1) });
      if (rule.publishesCommands) {
        // Re-sends stored commands to the host that asked.
        grantCommandPublish(fn);
      }
      const topicRule = new CfnTopicRule(this, `${name}Rule`, {
        topicRulePayload: {
          description: `EdgeFleet: ${rule.topicFilter} → ${rule.entry}`,
          sql: ruleSql(rule),
          awsIotSqlVersion: IOT_SQL_VERSION,
          ruleDisabled: false,
          actions: [{ lambda: { functionArn: fn.function.functionArn } }],
          errorAction: { cloudwatchLogs: { logGroupName: this.errorLogGroup.logGroupName, roleArn: this.errorRole.roleArn } },
        },
      });
      fn.function.addPermission(`${name}RuleInvoke`, {
        principal: new ServicePrincipal('iot.amazonaws.com'),
        action: 'lambda:InvokeFunction',
        sourceArn: topicRule.attrArn,
        sourceAccount: Stack.of(this).account,
      });
      functions[rule.name] = fn;
      rules[rule.name] = topicRule;
    }
    this.functions = functions;
    this.rules = rules;

    // The deadline sweep: commands whose host never came back end as timed out. One run handles
    // up to 100 open operations (each: a few DynamoDB writes, a StopExecution, reset commands to
    // its hosts) plus the overdue commands, at tens of milliseconds per call with SDK retries:
    // 50 s leaves room for that and ends before the next run starts a minute later.
    this.commandSweeper = new EdgeFunction(this, 'CommandSweeper', {
      entry: 'lambdas/handlers/scheduled/expire-commands.ts',
      serviceName: 'edgefleet-command-sweeper',
      description: 'EdgeFleet: times out commands past their deadline',
      timeoutSeconds: SWEEP_TIMEOUT_SECONDS,
      logRetention: props.functionLogRetention,
      logLevel: props.logLevel,
      deadLetterQueue: this.failedEvents,
    });
    bindTable(this.commandSweeper, props.stateTable, HANDLER_ENV.stateTable, 'readwrite');
    // Failing an expired create or scale-out sends its hosts reset commands.
    grantCommandPublish(this.commandSweeper);
    // A failed run is not retried (the next one a minute later does the same work) but recorded.
    this.commandSweeper.function.configureAsyncInvoke({ retryAttempts: 0 });
    this.sweepSchedule = new EventsRule(this, 'CommandSweepSchedule', {
      description: 'EdgeFleet: time out commands past their deadline',
      schedule: Schedule.rate(Duration.minutes(1)),
      targets: [new LambdaFunction(this.commandSweeper.function, { retryAttempts: 0, deadLetterQueue: this.failedEvents })],
    });
  }
}
