import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import { deployArn } from '../arns.js';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule as EventsRule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Alias } from 'aws-cdk-lib/aws-kms';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CLUSTER_EVENT, EVENT_SOURCE, HOST_EVENT } from '../../lambdas/contracts/events.js';
import { STATE_TABLE } from '../../lambdas/contracts/tables.js';
import { HANDLER_ENV } from '../api-routes.js';
import { bindTable, EdgeFunction, type LogLevel } from './edge-function.js';

export interface AlertsProps {
  readonly stateTable: ITable;
  /** Events the dispatcher failed on after its retries. */
  readonly deadLetterQueue: IQueue;
  readonly functionLogRetention?: RetentionDays;
  readonly logLevel?: LogLevel;
}

/** What the dispatcher sends to the state table: rules (Query), the notification ledger (Get, conditional Put and Delete). */
export const DISPATCHER_TABLE_ACTIONS = ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'] as const;

/** What the re-notify sweep sends to the state table: rules and ledger (Get, Put, Delete), health (BatchGet); due alerts are a Query on gsi3 only. */
export const SWEEPER_TABLE_ACTIONS = ['dynamodb:BatchGetItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem'] as const;
/** Timeout of one re-notify sweep run (it runs every minute). */
export const ALERT_SWEEP_TIMEOUT_SECONDS = 50;

/**
 * Alerting: an EventBridge rule on the default bus (source `edgefleet`, detail types
 * `edgefleet.host` / `edgefleet.cluster`, published by the status and presence handlers) that
 * invokes the dispatcher, which notifies the matching alert rules (webhooks, and this stack's
 * SNS topic, encrypted with the AWS-managed SNS key, TLS enforced).
 */
export class Alerts extends Construct {
  public readonly topic: Topic;
  public readonly dispatcher: EdgeFunction;
  public readonly rule: EventsRule;
  /** The re-notify sweep (every minute) and its schedule. */
  public readonly sweeper: EdgeFunction;
  public readonly sweepSchedule: EventsRule;
  /** The topic's ARN spelled with the pseudo parameters (the grant and the functions' environment). */
  public readonly topicArn: string;

  constructor(scope: Construct, id: string, props: AlertsProps) {
    super(scope, id);
    const topicName = `${Stack.of(this).stackName}-alerts`;
    this.topicArn = deployArn({ service: 'sns', resource: topicName, arnFormat: ArnFormat.NO_RESOURCE_NAME });
    this.topic = new Topic(this, 'AlertTopic', {
      topicName,
      displayName: 'EdgeFleet alerts',
      masterKey: Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns'),
      enforceSSL: true,
    });
    // One webhook takes at most 3 attempts of 5 s plus 3 s of pauses; up to 100 rules run in parallel.
    this.dispatcher = new EdgeFunction(this, 'Dispatcher', {
      entry: 'lambdas/handlers/events/alert-dispatcher.ts',
      serviceName: 'edgefleet-alert-dispatcher',
      description: 'EdgeFleet: notifies the alert rules that match a health change',
      timeoutSeconds: 60,
      logRetention: props.functionLogRetention,
      logLevel: props.logLevel,
      deadLetterQueue: props.deadLetterQueue,
      environment: { [HANDLER_ENV.alertTopicArn]: this.topicArn },
    });
    bindTable(this.dispatcher, props.stateTable, HANDLER_ENV.stateTable, 'readwrite', { actions: DISPATCHER_TABLE_ACTIONS });
    this.dispatcher.function.addToRolePolicy(new PolicyStatement({ actions: ['sns:Publish'], resources: [this.topicArn] }));
    this.dispatcher.function.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.hours(1) });
    // The re-notify sweep: every minute, open alerts whose interval passed are sent again while
    // their condition persists (and `resolved` once it ended); at most 50 per run, 25 at a time
    // (a webhook takes ≤ 18 s): 50 s ends a run before the next one starts.
    this.sweeper = new EdgeFunction(this, 'Sweeper', {
      entry: 'lambdas/handlers/scheduled/renotify-alerts.ts',
      serviceName: 'edgefleet-alert-sweeper',
      description: 'EdgeFleet: notifies open alerts again after their re-notify interval, and once when resolved',
      timeoutSeconds: ALERT_SWEEP_TIMEOUT_SECONDS,
      logRetention: props.functionLogRetention,
      logLevel: props.logLevel,
      deadLetterQueue: props.deadLetterQueue,
      environment: { [HANDLER_ENV.alertTopicArn]: this.topicArn },
    });
    bindTable(this.sweeper, props.stateTable, HANDLER_ENV.stateTable, 'readwrite', { actions: SWEEPER_TABLE_ACTIONS });
    this.sweeper.function.addToRolePolicy(new PolicyStatement({ actions: ['dynamodb:Query'], resources: [`${props.stateTable.tableArn}/index/${STATE_TABLE.byCluster.name}`] }));
    this.sweeper.function.addToRolePolicy(new PolicyStatement({ actions: ['sns:Publish'], resources: [this.topicArn] }));
    // A failed run is not retried (the next one a minute later finds the same due alerts) but recorded.
    this.sweeper.function.configureAsyncInvoke({ retryAttempts: 0 });
    this.sweepSchedule = new EventsRule(this, 'RenotifySchedule', {
      description: 'EdgeFleet: notify open alerts again after their re-notify interval',
      schedule: Schedule.rate(Duration.minutes(1)),
      targets: [new LambdaFunction(this.sweeper.function, { retryAttempts: 0, deadLetterQueue: props.deadLetterQueue })],
    });
    this.rule = new EventsRule(this, 'HealthChanges', {
      description: 'EdgeFleet: health changes of hosts and clusters → the alert dispatcher',
      eventPattern: { source: [EVENT_SOURCE], detailType: [HOST_EVENT, CLUSTER_EVENT] },
      targets: [new LambdaFunction(this.dispatcher.function, { retryAttempts: 2, maxEventAge: Duration.hours(1), deadLetterQueue: props.deadLetterQueue })],
    });
  }
}
