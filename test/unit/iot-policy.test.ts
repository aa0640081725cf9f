import { devicePolicyDocument } from '../../lambdas/contracts/iot.js';
import { globMatch, isAllowed, type IotAction } from '../../local/iot-policy.js';

const policy = devicePolicyDocument();
const THING = 'host-1';
const ask = (action: IotAction, resource: string, thing = THING, attached = 'true') => isAllowed(policy, {
  action, resource, variables: { 'iot:Connection.Thing.ThingName': thing }, context: { 'iot:Connection.Thing.IsAttached': attached },
});

describe('device policy, evaluated', () => {
  it.each<[IotAction, string, boolean]>([
    ['iot:Connect', 'client/host-1', true],
    ['iot:Connect', 'client/host-2', false],
    ['iot:Publish', 'topic/edgefleet/hosts/host-1/status', true],
    ['iot:Publish', 'topic/edgefleet/hosts/host-1/results', true],
    ['iot:Publish', 'topic/edgefleet/hosts/host-1/commands/pending', true],
    ['iot:Publish', 'topic/edgefleet/hosts/host-1/commands', false],
    ['iot:Publish', 'topic/edgefleet/hosts/host-2/status', false],
    ['iot:Publish', 'topic/edgefleet/hosts/host-1/status/extra', false],
    ['iot:Publish', 'topic/$aws/events/presence/connected/host-1', false],
    ['iot:Subscribe', 'topicfilter/edgefleet/hosts/host-1/commands', true],
    ['iot:Subscribe', 'topicfilter/edgefleet/hosts/host-1/#', false],
    ['iot:Subscribe', 'topicfilter/edgefleet/hosts/+/commands', false],
    ['iot:Subscribe', 'topicfilter/edgefleet/hosts/host-2/commands', false],
    ['iot:Subscribe', 'topic/edgefleet/hosts/host-1/commands', false],
    ['iot:Receive', 'topic/edgefleet/hosts/host-1/commands', true],
    ['iot:Receive', 'topic/edgefleet/hosts/host-2/commands', false],
  ])('%s %s → %s', (action, resource, expected) => {
    expect(ask(action, resource)).toBe(expected);
  });

  it('needs the certificate attached to the thing to connect', () => {
    expect(ask('iot:Connect', 'client/host-1', THING, 'false')).toBe(false);
    expect(isAllowed(policy, { action: 'iot:Connect', resource: 'client/host-1', variables: { 'iot:Connection.Thing.ThingName': THING } })).toBe(false);
  });

  it('a thing name with wildcard characters never widens the policy', () => {
    expect(ask('iot:Publish', 'topic/edgefleet/hosts/*/status', '*')).toBe(false);
    expect(ask('iot:Connect', 'client/?', '?')).toBe(false);
  });

  it('an unknown policy variable matches nothing; an explicit Deny wins', () => {
    expect(isAllowed(policy, { action: 'iot:Publish', resource: 'topic/edgefleet/hosts/host-1/status', variables: {} })).toBe(false);
    const withDeny = { ...policy, Statement: [...(policy.Statement as object[]), { Effect: 'Deny', Action: 'iot:Publish', Resource: 'arn:aws:iot:*:*:topic/edgefleet/hosts/*/results' }] };
    expect(isAllowed(withDeny, { action: 'iot:Publish', resource: 'topic/edgefleet/hosts/host-1/results', variables: { 'iot:Connection.Thing.ThingName': THING } })).toBe(false);
    expect(isAllowed(withDeny, { action: 'iot:Publish', resource: 'topic/edgefleet/hosts/host-1/status', variables: { 'iot:Connection.Thing.ThingName': THING } })).toBe(true);
  });

  it('globMatch: whole string, * and ? only, regex characters literal', () => {
    expect(globMatch('a*c', 'abbbc')).toBe(true);
    expect(globMatch('a?c', 'abc')).toBe(true);
    expect(globMatch('a.c', 'abc')).toBe(false);
    expect(globMatch('a+', 'aa')).toBe(false);
    expect(globMatch('ab', 'abc')).toBe(false);
  });
});
