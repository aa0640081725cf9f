import { IOT_RULES } from '../../lambdas/contracts/iot.js';
import { REGISTER_ROUTE } from '../../lib/constructs/api.js';
import { SWEEP_TIMEOUT_SECONDS } from '../../lib/constructs/iot-rules.js';
import { logicalIdOf, synthStack } from './helpers.js';

/** What a real deployment needs beyond "it synthesizes" (issue 9): nothing dropped, nothing kept too long. */
describe('deployment hardening', () => {
  const { stack, template } = synthStack();
  const resources = template.toJSON().Resources as Record<string, any>;
  const queueId = logicalIdOf(stack.iotRules.failedEvents);
  const queueArn = { 'Fn::GetAtt': [queueId, 'Arn'] };

  it('every IoT rule handler sends events that still fail after its retries to the failed-events queue', () => {
    const configs = Object.values(template.findResources('AWS::Lambda::EventInvokeConfig'));
    for (const rule of IOT_RULES) {
      const fnId = logicalIdOf(stack.iotRules.functions[rule.name].function);
      expect({ rule: rule.name, dlq: resources[fnId].Properties.DeadLetterConfig }).toEqual({ rule: rule.name, dlq: { TargetArn: queueArn } });
      const config = configs.find((c: any) => c.Properties.FunctionName.Ref === fnId);
      expect(config?.Properties.MaximumRetryAttempts).toBe(2);
    }
  });

  it('the sweep: failed runs and undeliverable schedule events go to the same queue; its timeout fits its batch and the minute', () => {
    const sweeperId = logicalIdOf(stack.iotRules.commandSweeper.function);
    const config = Object.values(template.findResources('AWS::Lambda::EventInvokeConfig')).find((c: any) => c.Properties.FunctionName.Ref === sweeperId) as any;
    expect(config.Properties.MaximumRetryAttempts).toBe(0);
    expect(resources[sweeperId].Properties.DeadLetterConfig).toEqual({ TargetArn: queueArn });
    const target = resources[logicalIdOf(stack.iotRules.sweepSchedule)].Properties.Targets[0];
    expect(target.DeadLetterConfig).toEqual({ Arn: queueArn });
    expect(resources[sweeperId].Properties.Timeout).toBe(SWEEP_TIMEOUT_SECONDS);
    expect(SWEEP_TIMEOUT_SECONDS).toBeGreaterThanOrEqual(30);
    expect(SWEEP_TIMEOUT_SECONDS).toBeLessThan(60);
    // EventBridge may deliver to the queue (queue policy), nothing else may.
    const policy = Object.values(template.findResources('AWS::SQS::QueuePolicy'))[0] as any;
    const allows = policy.Properties.PolicyDocument.Statement.filter((s: any) => s.Effect === 'Allow');
    expect(allows.map((s: any) => s.Principal)).toEqual([{ Service: 'events.amazonaws.com' }]);
  });

  it('the failed-events queue is encrypted, TLS-only and keeps messages 14 days', () => {
    expect(resources[queueId].Properties).toEqual(expect.objectContaining({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 86400 }));
  });

  it('the public registration route has its own throttle, below the stage default', () => {
    const stageProps = resources[logicalIdOf(stack.api.stage)].Properties;
    expect(stageProps.RouteSettings).toEqual({ [REGISTER_ROUTE]: { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 } });
    expect(stageProps.DefaultRouteSettings).toEqual({ ThrottlingRateLimit: 200, ThrottlingBurstLimit: 500 });
    const routeId = Object.entries(template.findResources('AWS::ApiGatewayV2::Route', { Properties: { RouteKey: REGISTER_ROUTE } }))[0]![0];
    expect(resources[logicalIdOf(stack.api.stage)].DependsOn).toContain(routeId);
  });

  it('a registration throttle above the stage limits is refused at synth', () => {
    expect(() => synthStack({}, { api: { throttlingRateLimit: 50, registerThrottle: { rateLimit: 100, burstLimit: 10 } } }))
      .toThrow(/registerThrottle.rateLimit must be an integer from 1 to 50, got 100/);
  });

  it('state machine logs keep no execution data (task tokens, operation inputs)', () => {
    const machines = Object.values(template.findResources('AWS::StepFunctions::StateMachine')) as any[];
    expect(machines).toHaveLength(6);
    for (const m of machines) expect(m.Properties.LoggingConfiguration.IncludeExecutionData).toBe(false);
  });

  it('the device policy survives stack deletion (attached to every device certificate)', () => {
    const policies = Object.values(template.findResources('AWS::IoT::Policy')) as any[];
    expect(policies.map((p) => p.DeletionPolicy)).toEqual(['Retain']);
  });
});
