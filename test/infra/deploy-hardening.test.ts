import { Capture, Match } from 'aws-cdk-lib/assertions';
import { IOT_RULES } from '../../lambdas/contracts/iot.js';
import { HANDLER_ENV } from '../../lambdas/contracts/routes.js';
import { REGISTER_ROUTE } from '../../lib/constructs/api.js';
import { SWEEP_TIMEOUT_SECONDS } from '../../lib/constructs/iot-rules.js';
import { logicalIdOf, synthStack } from './helpers.js';

/** What a real deployment needs beyond "it synthesizes" (issue 9): nothing dropped, nothing kept too long. */
describe('deployment hardening', () => {
  const { stack, template } = synthStack();
  const queueId = logicalIdOf(stack.iotRules.failedEvents);
  const queueArn = { 'Fn::GetAtt': [queueId, 'Arn'] };

  it('every IoT rule handler sends events that still fail after its retries to the failed-events queue', () => {
    for (const rule of IOT_RULES) {
      const fnId = logicalIdOf(stack.iotRules.functions[rule.name].function);
      expect(template.findResources('AWS::Lambda::Function', { Properties: { DeadLetterConfig: Match.objectEquals({ TargetArn: queueArn }) } })).toHaveProperty(fnId);
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { FunctionName: { Ref: fnId }, MaximumRetryAttempts: 2 });
    }
  });

  it('the sweep: failed runs and undeliverable schedule events go to the same queue; its timeout fits its batch and the minute', () => {
    const sweeperId = logicalIdOf(stack.iotRules.commandSweeper.function);
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { FunctionName: { Ref: sweeperId }, MaximumRetryAttempts: 0 });
    const sweeper = template.findResources('AWS::Lambda::Function', {
      Properties: { DeadLetterConfig: Match.objectEquals({ TargetArn: queueArn }), Timeout: SWEEP_TIMEOUT_SECONDS },
    });
    expect(sweeper).toHaveProperty(sweeperId);
    // Its (one) target: undeliverable events go to the queue.
    const schedule = template.findResources('AWS::Events::Rule', {
      Properties: { Targets: [Match.objectLike({ DeadLetterConfig: Match.objectEquals({ Arn: queueArn }) })] },
    });
    expect(schedule).toHaveProperty(logicalIdOf(stack.iotRules.sweepSchedule));
    expect(SWEEP_TIMEOUT_SECONDS).toBeGreaterThanOrEqual(30);
    expect(SWEEP_TIMEOUT_SECONDS).toBeLessThan(60);
    // EventBridge may deliver to the queue (queue policy), nothing else may.
    const statements = new Capture();
    template.hasResourceProperties('AWS::SQS::QueuePolicy', { PolicyDocument: { Statement: statements } });
    const allows = (statements.asArray() as { Effect: string; Principal: unknown }[]).filter((s) => s.Effect === 'Allow');
    // Four EventBridge rules dead-letter here: the command and tunnel sweep schedules, the alert rule
    // (contracts/events.ts) and the alert re-notify schedule.
    expect(allows.map((s) => s.Principal)).toEqual(Array(4).fill({ Service: 'events.amazonaws.com' }));
  });

  it('the tunnel sweep: every minute, no retries, failed runs and undeliverable events to the same queue', () => {
    const sweeperId = logicalIdOf(stack.tunnelSweep.sweeper.function);
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { FunctionName: { Ref: sweeperId }, MaximumRetryAttempts: 0 });
    expect(template.findResources('AWS::Lambda::Function', {
      Properties: { DeadLetterConfig: Match.objectEquals({ TargetArn: queueArn }), Timeout: SWEEP_TIMEOUT_SECONDS },
    })).toHaveProperty(sweeperId);
    expect(template.findResources('AWS::Events::Rule', {
      Properties: { ScheduleExpression: 'rate(1 minute)', Targets: [Match.objectLike({ DeadLetterConfig: Match.objectEquals({ Arn: queueArn }) })] },
    })).toHaveProperty(logicalIdOf(stack.tunnelSweep.schedule));
  });

  it('the failed-events queue is encrypted, TLS-only and keeps messages 14 days', () => {
    expect(template.findResources('AWS::SQS::Queue', { Properties: { SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 86400 } })).toHaveProperty(queueId);
  });

  it('the public registration route has its own throttle: the stage\'s limits by default, so storms reach the admission', () => {
    const routeId = Object.keys(template.findResources('AWS::ApiGatewayV2::Route', { Properties: { RouteKey: REGISTER_ROUTE } }))[0]!;
    const stages = template.findResources('AWS::ApiGatewayV2::Stage', {
      Properties: {
        RouteSettings: Match.objectEquals({ [REGISTER_ROUTE]: { ThrottlingRateLimit: 200, ThrottlingBurstLimit: 500 } }),
        DefaultRouteSettings: Match.objectEquals({ ThrottlingRateLimit: 200, ThrottlingBurstLimit: 500 }),
      },
      DependsOn: Match.arrayWith([routeId]),
    });
    expect(stages).toHaveProperty(logicalIdOf(stack.api.stage));
  });

  it('the registration route follows a lowered stage limit, and takes its own when given', () => {
    const lowered = synthStack({}, { api: { throttlingRateLimit: 60, throttlingBurstLimit: 120 } }).template;
    lowered.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      RouteSettings: Match.objectEquals({ [REGISTER_ROUTE]: { ThrottlingRateLimit: 60, ThrottlingBurstLimit: 120 } }),
    });
    const own = synthStack({}, { api: { registerThrottle: { rateLimit: 50, burstLimit: 100 } } }).template;
    own.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      RouteSettings: Match.objectEquals({ [REGISTER_ROUTE]: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 } }),
      DefaultRouteSettings: Match.objectEquals({ ThrottlingRateLimit: 200, ThrottlingBurstLimit: 500 }),
    });
  });

  it('the registration function admits 10 registrations per second to the IoT registry (its rate), under the route throttle', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ [HANDLER_ENV.registerAdmissionPerSecond]: '10' }) },
      Description: 'EdgeFleet HTTP API: device routes',
    });
    const withIt = template.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: Match.objectLike({ [HANDLER_ENV.registerAdmissionPerSecond]: Match.anyValue() }) } } });
    expect(Object.keys(withIt)).toHaveLength(1);
    expect(() => synthStack({}, { api: { registerThrottle: { rateLimit: 20, burstLimit: 40 }, registerAdmission: { perSecond: 30 } } }))
      .toThrow(/registerAdmission.perSecond must be an integer from 1 to 20, got 30/);
  });

  it('a registration throttle above the stage limits is refused at synth', () => {
    expect(() => synthStack({}, { api: { throttlingRateLimit: 50, registerThrottle: { rateLimit: 100, burstLimit: 10 } } }))
      .toThrow(/registerThrottle.rateLimit must be an integer from 1 to 50, got 100/);
  });

  it('state machine logs keep no execution data (task tokens, operation inputs)', () => {
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 7);
    template.resourcePropertiesCountIs('AWS::StepFunctions::StateMachine', { LoggingConfiguration: { IncludeExecutionData: false } }, 7);
  });

  it('the device policy survives stack deletion (attached to every device certificate)', () => {
    template.resourceCountIs('AWS::IoT::Policy', 1);
    template.hasResource('AWS::IoT::Policy', { DeletionPolicy: 'Retain' });
  });
});
