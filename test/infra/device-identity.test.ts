import { Capture, Match } from 'aws-cdk-lib/assertions';
import { devicePolicyDocument } from '../../lambdas/contracts/iot.js';
import { HANDLER_ENV } from '../../lib/api-routes.js';
import { functionIdOf, logicalIdOf, statementsOfFunction, synthStack, type Statement } from './helpers.js';

const ARN = (kind: string) => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iot:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:${kind}/*`]],
});

describe('DeviceIdentity (IoT policy and registry grants)', () => {
  const { stack, template } = synthStack();
  const policyId = logicalIdOf({ node: { defaultChild: stack.api.devices.policy } });
  const iot = (group: 'device' | 'hosts'): Statement[] =>
    statementsOfFunction(template, functionIdOf(template, group)).filter((s) => [s.Action].flat().some((a) => a.startsWith('iot:')));
  const actionsOn = (st: Statement[], resource: unknown) =>
    st.filter((s) => [s.Resource].flat().some((r) => JSON.stringify(r) === JSON.stringify(resource))).flatMap((s) => [s.Action].flat()).sort();

  it('creates exactly one IoT policy: the contract document with the stack partition, region and account', () => {
    template.resourceCountIs('AWS::IoT::Policy', 1);
    const captured = new Capture();
    template.hasResourceProperties('AWS::IoT::Policy', { PolicyDocument: captured });
    const doc = captured.asObject();
    const expected = JSON.parse(JSON.stringify(devicePolicyDocument('PARTITION', 'REGION', 'ACCOUNT')));
    const rendered = JSON.stringify(doc)
      .replace(/\{"Fn::Join":\["",\[/g, '').replace(/\]\]\}/g, '');
    expect(JSON.stringify(doc)).toContain('${iot:Connection.Thing.ThingName}');
    expect(doc.Statement.map((s: { Action: string }) => s.Action)).toEqual(expected.Statement.map((s: { Action: string }) => s.Action));
    expect(doc.Statement[0].Condition).toEqual({ Bool: { 'iot:Connection.Thing.IsAttached': 'true' } });
    expect(rendered).toContain('AWS::Partition');
    expect(rendered).not.toMatch(/iot:\*|"Action":"\*"/);
  });

  it('the device policy is retained on stack deletion (a policy attached to certificates cannot be deleted)', () => {
    expect(template.findResources('AWS::IoT::Policy', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' })).toHaveProperty(policyId);
  });

  it('device handler: provisioning grants, scoped to things, certificates and the one device policy', () => {
    const st = iot('device');
    expect(st.every((s) => s.Effect === 'Allow')).toBe(true);
    // AWS's service authorization reference: Attach/DetachThingPrincipal and AttachPolicy are on `cert`,
    // ListThingPrincipals on `thing` (retiring a retried registration's other certificates).
    expect(actionsOn(st, ARN('thing'))).toEqual(['iot:CreateThing', 'iot:ListThingPrincipals']);
    expect(actionsOn(st, ARN('cert'))).toEqual(['iot:AttachPolicy', 'iot:AttachThingPrincipal', 'iot:DetachThingPrincipal', 'iot:UpdateCertificate']);
    expect(actionsOn(st, '*')).toEqual(['iot:CreateCertificateFromCsr', 'iot:DescribeEndpoint']);
    const all = st.flatMap((s) => [s.Action].flat());
    for (const forbidden of ['iot:*', 'iot:CreatePolicy', 'iot:DeletePolicy', 'iot:Publish', 'iot:Connect', 'iot:DeleteCertificate']) {
      expect(all).not.toContain(forbidden);
    }
  });

  it('hosts handler: only what decommissioning and the agent-update command need (no provisioning, no wildcard)', () => {
    const st = iot('hosts');
    expect(actionsOn(st, ARN('thing'))).toEqual(['iot:DeleteThing', 'iot:ListThingPrincipals']);
    expect(actionsOn(st, ARN('cert'))).toEqual(['iot:DetachThingPrincipal', 'iot:UpdateCertificate']);
    // The data endpoint for publishing the agent-update command; iot:Publish only on the device command topics.
    expect(actionsOn(st, '*')).toEqual(['iot:DescribeEndpoint']);
    expect(JSON.stringify(st.filter((s) => [s.Action].flat().includes('iot:Publish')).map((s) => s.Resource))).toContain(':topic/edgefleet/hosts/*/commands');
    expect(st.flatMap((s) => [s.Action].flat())).not.toEqual(expect.arrayContaining(['iot:CreateThing']));
  });

  it.each(['meta', 'tokens', 'user-data', 'profiles', 'clusters', 'operations', 'audit'] as const)('%s handler has no IoT permission', (group) => {
    const st = statementsOfFunction(template, functionIdOf(template, group));
    expect(st.flatMap((s) => [s.Action].flat()).filter((a) => a.startsWith('iot:'))).toEqual([]);
  });

  it('passes the policy name to the device and hosts handlers only', () => {
    const withPolicy = template.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { [HANDLER_ENV.iotPolicyName]: Match.objectEquals({ Ref: policyId }) } } } });
    for (const group of ['device', 'hosts'] as const) expect(withPolicy).toHaveProperty(functionIdOf(template, group));
    const without = template.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { [HANDLER_ENV.iotPolicyName]: Match.absent() } } } });
    expect(without).toHaveProperty(functionIdOf(template, 'tokens'));
  });

  it('routes POST /v1/device/register without the JWT authorizer and outputs the policy name', () => {
    template.resourcePropertiesCountIs('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /v1/device/register' }, 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /v1/device/register', AuthorizationType: 'NONE' });
    template.hasOutput('DevicePolicyName', { Value: { Ref: policyId } });
  });
});
