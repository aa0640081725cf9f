import {
  AttachPolicyCommand, AttachThingPrincipalCommand, CreateCertificateFromCsrCommand, CreateThingCommand, DeleteThingCommand,
  DescribeEndpointCommand, DetachThingPrincipalCommand, IoTClient, ListThingPrincipalsCommand, UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { mockClient } from 'aws-sdk-client-mock';
import { IotDeviceRegistry } from '../../lambdas/adapters/iot/device-registry.js';
import { ThrottledError, UnavailableError, ValidationError } from '../../lambdas/domain/errors.js';
import { ADAPTER_ACTIONS } from '../../lambdas/handlers/aws-calls.js';

const iot = mockClient(IoTClient);
const err = (name: string, message = name) => Object.assign(new Error(message), { name });
const CERT_ARN = 'arn:aws:iot:eu-west-1:123456789012:cert/abc';
const registry = (over: Partial<ConstructorParameters<typeof IotDeviceRegistry>[1]> = {}) =>
  new IotDeviceRegistry(new IoTClient({ region: 'eu-west-1' }), { policyName: 'EdgeFleetDevice', ...over });

beforeEach(() => {
  iot.reset();
  iot.on(DescribeEndpointCommand).resolves({ endpointAddress: 'abc-ats.iot.eu-west-1.amazonaws.com' });
  iot.on(CreateThingCommand).resolves({ thingName: 'h1' });
  iot.on(CreateCertificateFromCsrCommand).resolves({ certificateArn: CERT_ARN, certificateId: 'abc', certificatePem: 'PEM' });
  iot.on(AttachPolicyCommand).resolves({});
  iot.on(AttachThingPrincipalCommand).resolves({});
});

describe('IotDeviceRegistry', () => {
  it('provisions: thing, certificate from the CSR (active), device policy, thing principal; ATS endpoint on 8883', async () => {
    const out = await registry().provision('h1', 'CSR', { project: 'p', site: 's' });
    expect(out).toEqual({ certificateId: 'abc', certificatePem: 'PEM', caPem: '', endpoint: 'abc-ats.iot.eu-west-1.amazonaws.com', port: 8883 });
    expect(iot.commandCalls(CreateThingCommand)[0]!.args[0].input).toEqual({ thingName: 'h1', attributePayload: { attributes: { project: 'p', site: 's' }, merge: true } });
    expect(iot.commandCalls(CreateCertificateFromCsrCommand)[0]!.args[0].input).toEqual({ certificateSigningRequest: 'CSR', setAsActive: true });
    expect(iot.commandCalls(AttachPolicyCommand)[0]!.args[0].input).toEqual({ policyName: 'EdgeFleetDevice', target: CERT_ARN });
    expect(iot.commandCalls(AttachThingPrincipalCommand)[0]!.args[0].input).toEqual({ thingName: 'h1', principal: CERT_ARN });
    expect(iot.commandCalls(DescribeEndpointCommand)[0]!.args[0].input).toEqual({ endpointType: 'iot:Data-ATS' });
  });

  it('a retried provision of an existing thing creates no second thing (ResourceAlreadyExists is fine)', async () => {
    iot.on(CreateThingCommand).rejects(err('ResourceAlreadyExistsException'));
    const r = registry({ caPem: 'ROOT', port: 443 });
    await expect(r.provision('h1', 'CSR', {})).resolves.toMatchObject({ certificateId: 'abc', caPem: 'ROOT', port: 443 });
    await r.provision('h1', 'CSR', {});
    expect(iot.commandCalls(CreateThingCommand)).toHaveLength(2);
    // The endpoint is described once per container.
    expect(iot.commandCalls(DescribeEndpointCommand)).toHaveLength(1);
  });

  it('throttling → ThrottledError', async () => {
    iot.on(CreateCertificateFromCsrCommand).rejects(err('ThrottlingException', 'Rate exceeded'));
    await expect(registry().provision('h1', 'CSR', {})).rejects.toBeInstanceOf(ThrottledError);
    iot.on(UpdateCertificateCommand).rejects(err('ThrottlingException'));
    await expect(registry().revoke('abc')).rejects.toMatchObject({ code: 'throttled' });
  });

  it('invalid CSR → ValidationError invalid-csr, and nothing is attached', async () => {
    iot.on(CreateCertificateFromCsrCommand).rejects(err('InvalidRequestException', 'The certificate signing request is not valid'));
    await expect(registry().provision('h1', 'CSR', {})).rejects.toMatchObject({ constructor: ValidationError, code: 'invalid-csr' });
    expect(iot.commandCalls(AttachPolicyCommand)).toHaveLength(0);
    expect(iot.commandCalls(AttachThingPrincipalCommand)).toHaveLength(0);
  });

  it('refuses to provision without a policy name, and surfaces an unavailable service', async () => {
    await expect(registry({ policyName: '' }).provision('h1', 'CSR', {})).rejects.toMatchObject({ code: 'iot-not-configured' });
    iot.on(AttachPolicyCommand).rejects(err('ServiceUnavailableException'));
    await expect(registry().provision('h1', 'CSR', {})).rejects.toBeInstanceOf(UnavailableError);
  });

  it('a certificate whose attachment failed is revoked, so a retry leaves no active orphan', async () => {
    iot.on(AttachThingPrincipalCommand).rejects(err('ThrottlingException'));
    iot.on(UpdateCertificateCommand).resolves({});
    await expect(registry().provision('h1', 'CSR', {})).rejects.toBeInstanceOf(ThrottledError);
    expect(iot.commandCalls(UpdateCertificateCommand)[0]!.args[0].input).toEqual({ certificateId: 'abc', newStatus: 'REVOKED' });
  });

  it('a certificate that cannot be revoked after a failed attachment is named in the error, with the command that revokes it', async () => {
    iot.on(AttachThingPrincipalCommand).rejects(err('ThrottlingException'));
    iot.on(UpdateCertificateCommand).rejects(err('ServiceUnavailableException', 'try later'));
    const e = await registry().provision('h1', 'CSR', {}).catch((x: Error) => x);
    expect(e).toBeInstanceOf(ThrottledError);
    expect((e as Error).message).toMatch(/certificate abc could not be revoked either .*aws iot update-certificate --certificate-id abc --new-status REVOKED/);
  });

  it('unknown errors are not swallowed', async () => {
    iot.on(AttachThingPrincipalCommand).rejects(err('UnauthorizedException'));
    await expect(registry().provision('h1', 'CSR', {})).rejects.toMatchObject({ name: 'UnauthorizedException' });
  });

  it('revoke sets REVOKED; a revoke of an unknown certificate is a no-op', async () => {
    iot.on(UpdateCertificateCommand).resolves({});
    await registry().revoke('abc');
    expect(iot.commandCalls(UpdateCertificateCommand)[0]!.args[0].input).toEqual({ certificateId: 'abc', newStatus: 'REVOKED' });
    iot.on(UpdateCertificateCommand).rejects(err('ResourceNotFoundException'));
    await expect(registry().revoke('gone')).resolves.toBeUndefined();
  });

  it('deprovision revokes, detaches every principal and deletes the thing; twice is fine', async () => {
    iot.on(UpdateCertificateCommand).resolves({});
    iot.on(ListThingPrincipalsCommand).resolves({ principals: [CERT_ARN, `${CERT_ARN}-old`] });
    iot.on(DetachThingPrincipalCommand).resolves({});
    iot.on(DeleteThingCommand).resolves({});
    await registry().deprovision('h1', 'abc');
    expect(iot.commandCalls(DetachThingPrincipalCommand).map((c) => c.args[0].input.principal)).toEqual([CERT_ARN, `${CERT_ARN}-old`]);
    expect(iot.commandCalls(DeleteThingCommand)[0]!.args[0].input).toEqual({ thingName: 'h1' });
    iot.on(ListThingPrincipalsCommand).rejects(err('ResourceNotFoundException'));
    iot.on(DeleteThingCommand).rejects(err('ResourceNotFoundException'));
    await expect(registry().deprovision('h1')).resolves.toBeUndefined();
  });

  it('retireOtherCertificates revokes (first) and detaches every certificate of the thing but the recorded one, over every page', async () => {
    const arn = (id: string) => `arn:aws:iot:eu-west-1:123456789012:cert/${id}`;
    iot.on(UpdateCertificateCommand).resolves({});
    iot.on(DetachThingPrincipalCommand).resolves({});
    iot.on(ListThingPrincipalsCommand, { thingName: 'h1' }).resolves({ principals: [arn('aaa1'), arn('abc')], nextToken: 'p2' });
    iot.on(ListThingPrincipalsCommand, { thingName: 'h1', nextToken: 'p2' }).resolves({ principals: [arn('bbb2')] });
    expect(await registry().retireOtherCertificates('h1', 'abc')).toEqual(['aaa1', 'bbb2']);
    expect(iot.commandCalls(UpdateCertificateCommand).map((c) => c.args[0].input)).toEqual([
      { certificateId: 'aaa1', newStatus: 'REVOKED' }, { certificateId: 'bbb2', newStatus: 'REVOKED' },
    ]);
    expect(iot.commandCalls(DetachThingPrincipalCommand).map((c) => c.args[0].input)).toEqual([
      { thingName: 'h1', principal: arn('aaa1') }, { thingName: 'h1', principal: arn('bbb2') },
    ]);
    // Revoked before detached: a failed detach never leaves a valid certificate that is no longer listed.
    const order = iot.calls().map((c) => (c.args[0] as object).constructor.name).filter((n) => n !== 'ListThingPrincipalsCommand');
    expect(order).toEqual(['UpdateCertificateCommand', 'DetachThingPrincipalCommand', 'UpdateCertificateCommand', 'DetachThingPrincipalCommand']);
  });

  it('retireOtherCertificates keeps the recorded certificate untouched, and a thing already gone is nothing to retire', async () => {
    iot.on(ListThingPrincipalsCommand).resolves({ principals: [CERT_ARN] });
    expect(await registry().retireOtherCertificates('h1', 'abc')).toEqual([]);
    expect(iot.commandCalls(UpdateCertificateCommand)).toHaveLength(0);
    expect(iot.commandCalls(DetachThingPrincipalCommand)).toHaveLength(0);
    iot.on(ListThingPrincipalsCommand).rejects(err('ResourceNotFoundException'));
    expect(await registry().retireOtherCertificates('h1', 'abc')).toEqual([]);
  });

  it('sends exactly the IoT actions listed for it in ADAPTER_ACTIONS (the IAM proof\'s adapter column)', async () => {
    iot.on(UpdateCertificateCommand).resolves({});
    iot.on(ListThingPrincipalsCommand).resolves({ principals: [CERT_ARN] });
    iot.on(DetachThingPrincipalCommand).resolves({});
    iot.on(DeleteThingCommand).resolves({});
    const r = registry();
    await r.provision('h1', 'CSR', {});
    await r.revoke('abc');
    await r.deprovision('h1', 'abc');
    const sent = new Set(iot.calls().map((c) => `iot:${(c.args[0] as object).constructor.name.replace(/Command$/, '')}`));
    expect([...sent].sort()).toEqual([...ADAPTER_ACTIONS['iot/device-registry']].sort());
    // The principal attached and detached is the certificate: IAM authorizes both on `cert`.
    expect(iot.commandCalls(AttachThingPrincipalCommand)[0]!.args[0].input.principal).toMatch(/:cert\//);
  });

  it('a failed endpoint lookup is retried on the next call (not cached)', async () => {
    iot.on(DescribeEndpointCommand).rejectsOnce(err('ThrottlingException')).resolves({ endpointAddress: 'e' });
    const r = registry();
    await expect(r.connection()).rejects.toBeInstanceOf(ThrottledError);
    await expect(r.connection()).resolves.toMatchObject({ endpoint: 'e' });
  });
});
