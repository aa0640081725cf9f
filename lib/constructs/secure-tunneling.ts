import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule as EventsRule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { HANDLER_ENV } from '../api-routes.js';
import { grantCommandPublish, SWEEP_TIMEOUT_SECONDS } from './iot-rules.js';
import { TUNNEL_SERVICE } from '../../lambdas/contracts/tunnels.js';
import { deployArn, wildcardFinding } from '../arns.js';
import { acknowledgeNag } from '../nag.js';
import { bindTable, EdgeFunction } from './edge-function.js';

/**
 * Lets `fn` open, close and describe AWS IoT Secure Tunneling tunnels (service authorization
 * reference, "Actions defined by AWS IoT": OpenTunnel has no resource type, only condition keys,
 * among them `iot:TunnelDestinationService`; CloseTunnel and DescribeTunnel act on `tunnel`).
 * Opening is allowed only for tunnels whose destination services are the SSH service.
 */
export function grantSecureTunneling(fn: EdgeFunction): void {
  const tunnels = { service: 'iot', resource: 'tunnel', resourceName: '*' };
  fn.function.addToRolePolicy(new PolicyStatement({
    actions: ['iot:OpenTunnel'], resources: ['*'],
    conditions: { 'ForAllValues:StringEquals': { 'iot:TunnelDestinationService': [TUNNEL_SERVICE] } },
  }));
  fn.function.addToRolePolicy(new PolicyStatement({ actions: ['iot:CloseTunnel', 'iot:DescribeTunnel'], resources: [deployArn(tunnels)] }));
  acknowledgeNag(fn.role, wildcardFinding(tunnels),
    'Tunnel ids are chosen by AWS IoT Secure Tunneling when OpenTunnel runs, so the tunnel resource cannot be named in advance.');
  acknowledgeNag(fn.role, 'AwsSolutions-IAM5[Resource::*]',
    'iot:OpenTunnel supports no resource-level permissions (IAM requires "*"); it is limited to the SSH destination service by the iot:TunnelDestinationService condition. The other "*" is iot:DescribeEndpoint and X-Ray, which have no resources either.');
}

export interface TunnelSweepProps {
  readonly stateTable: ITable;
  readonly auditTable: ITable;
  /** Where a run that failed (or that EventBridge could not deliver) is kept. */
  readonly deadLetterQueue: IQueue;
}

/**
 * The tunnel sweep: every minute (EventBridge rate(1 minute)) a function closes the tunnels whose
 * opener's troubleshoot grant lapsed, that expired, or whose host's side left, and audits each
 * side's connect and disconnect from DescribeTunnel. Its role: the state table without deletes,
 * the audit table append-only, CloseTunnel/DescribeTunnel, the command topic.
 */
export class TunnelSweep extends Construct {
  public readonly sweeper: EdgeFunction;
  public readonly schedule: EventsRule;

  constructor(scope: Construct, id: string, props: TunnelSweepProps) {
    super(scope, id);
    // One run: a few reads and one DescribeTunnel per open tunnel (at most one per host), up to 500.
    this.sweeper = new EdgeFunction(this, 'TunnelSweeper', {
      entry: 'lambdas/handlers/scheduled/sweep-tunnels.ts',
      serviceName: 'edgefleet-tunnel-sweeper',
      description: 'EdgeFleet: closes tunnels whose grant lapsed, that expired or went idle; audits connects',
      timeoutSeconds: SWEEP_TIMEOUT_SECONDS,
      deadLetterQueue: props.deadLetterQueue,
    });
    bindTable(this.sweeper, props.stateTable, HANDLER_ENV.stateTable, 'readwrite', {
      // What its adapters call (lambdas/handlers/scheduled/aws-calls.ts): no deletes, no scans.
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
    });
    bindTable(this.sweeper, props.auditTable, HANDLER_ENV.auditTable, 'write', { appendOnly: true });
    this.sweeper.function.addToRolePolicy(new PolicyStatement({
      actions: ['iot:CloseTunnel', 'iot:DescribeTunnel'], resources: [deployArn({ service: 'iot', resource: 'tunnel', resourceName: '*' })],
    }));
    acknowledgeNag(this.sweeper.role, wildcardFinding({ service: 'iot', resource: 'tunnel', resourceName: '*' }),
      'Tunnel ids are chosen by AWS IoT Secure Tunneling when OpenTunnel runs, so the tunnel resource cannot be named in advance.');
    grantCommandPublish(this.sweeper);
    // A failed run is not retried (the next one a minute later does the same work) but recorded.
    this.sweeper.function.configureAsyncInvoke({ retryAttempts: 0 });
    this.schedule = new EventsRule(this, 'TunnelSweepSchedule', {
      description: 'EdgeFleet: close tunnels whose grant lapsed, expired or idle; audit connects',
      schedule: Schedule.rate(Duration.minutes(1)),
      targets: [new LambdaFunction(this.sweeper.function, { retryAttempts: 0, deadLetterQueue: props.deadLetterQueue })],
    });
  }
}
