import {
  AttachPolicyCommand, AttachThingPrincipalCommand, CreateCertificateFromCsrCommand, CreateThingCommand, DeleteThingCommand,
  DescribeEndpointCommand, DetachThingPrincipalCommand, ListThingPrincipalsCommand, UpdateCertificateCommand, type IoTClient,
} from '@aws-sdk/client-iot';
import { ThrottledError, UnavailableError, ValidationError } from '../../domain/errors.js';
import type { DeviceRegistry, ProvisionedDevice } from '../../ports/device-registry.js';

export interface IotRegistryConfig {
  /** Name of the per-thing device policy (CfnPolicy from contracts/iot.ts devicePolicyDocument). */
  readonly policyName: string;
  /**
   * CA bundle handed to devices. Empty by default: the ATS endpoint chains to Amazon Root CA 1,
   * which devices take from their OS trust store.
   */
  readonly caPem?: string;
  /** @default 8883 */
  readonly port?: number;
}

const THROTTLES = new Set(['ThrottlingException', 'TooManyRequestsException', 'LimitExceededException']);
const nameOf = (e: unknown) => (e as { name?: string })?.name ?? '';

/** Maps IoT errors the caller can act on into the domain hierarchy; rethrows the rest. */
export function mapIotError(e: unknown, what: string): never {
  const name = nameOf(e);
  if (THROTTLES.has(name)) throw new ThrottledError('throttled', `AWS IoT is throttling ${what}; retry in a few seconds`, { cause: e });
  if (name === 'InvalidRequestException' && /csr|certificate signing request/i.test(String((e as Error).message))) {
    throw new ValidationError('invalid-csr', `AWS IoT refused the CSR: ${(e as Error).message}`, { cause: e, errors: [{ path: 'body.csr', message: 'refused by AWS IoT' }] });
  }
  if (name === 'ServiceUnavailableException' || name === 'InternalFailureException') {
    throw new UnavailableError('iot-unavailable', `AWS IoT is unavailable while ${what}; retry shortly`, { cause: e });
  }
  throw e;
}

/** Runs `op`, treating the listed error names as success (idempotency). */
async function tolerate<T>(op: () => Promise<T>, ok: readonly string[], what: string): Promise<T | undefined> {
  try {
    return await op();
  } catch (e) {
    if (ok.includes(nameOf(e))) return undefined;
    mapIotError(e, what);
  }
}

/** DeviceRegistry on AWS IoT Core: things, certificates from CSRs, the device policy. */
export class IotDeviceRegistry implements DeviceRegistry {
  private endpoint?: Promise<string>;

  constructor(private readonly iot: IoTClient, private readonly config: IotRegistryConfig) {}

  async connection(): Promise<Pick<ProvisionedDevice, 'caPem' | 'endpoint' | 'port'>> {
    // Cached per container: the ATS endpoint of an account and region never changes.
    this.endpoint ??= this.iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }))
      .then((o) => {
        if (!o.endpointAddress) throw new UnavailableError('iot-endpoint-missing', 'AWS IoT returned no iot:Data-ATS endpoint');
        return o.endpointAddress;
      })
      .catch((e: unknown) => { this.endpoint = undefined; return mapIotError(e, 'describing the endpoint'); });
    return { caPem: this.config.caPem ?? '', endpoint: await this.endpoint, port: this.config.port ?? 8883 };
  }

  async provision(thingName: string, csrPem: string, attributes: Readonly<Record<string, string>>): Promise<ProvisionedDevice> {
    if (!this.config.policyName) throw new UnavailableError('iot-not-configured', 'the device policy name is not configured for this function');
    // The thing exists after a retried provision or a re-registration: that is fine.
    await tolerate(() => this.iot.send(new CreateThingCommand({ thingName, attributePayload: { attributes: { ...attributes }, merge: true } })),
      ['ResourceAlreadyExistsException'], `creating thing ${thingName}`);
    const cert = await this.iot.send(new CreateCertificateFromCsrCommand({ certificateSigningRequest: csrPem, setAsActive: true }))
      .catch((e: unknown) => mapIotError(e, `signing the CSR of ${thingName}`));
    if (!cert.certificateArn || !cert.certificateId || !cert.certificatePem) throw new UnavailableError('iot-certificate-missing', 'AWS IoT returned no certificate');
    try {
      await this.iot.send(new AttachPolicyCommand({ policyName: this.config.policyName, target: cert.certificateArn }))
        .catch((e: unknown) => mapIotError(e, `attaching the device policy to ${thingName}'s certificate`));
      await this.iot.send(new AttachThingPrincipalCommand({ thingName, principal: cert.certificateArn }))
        .catch((e: unknown) => mapIotError(e, `attaching the certificate to ${thingName}`));
    } catch (e) {
      // The caller retries with a new certificate: this one must not stay active. If revoking it
      // fails too, the error says so (nothing is swallowed): the operator revokes it by hand.
      const notRevoked = await this.revoke(cert.certificateId).then(() => undefined, (r: unknown) => (r instanceof Error ? r.message : String(r)));
      if (notRevoked !== undefined && e instanceof Error) {
        e.message += `; the new certificate ${cert.certificateId} could not be revoked either (${notRevoked}): ` +
          `revoke it with \`aws iot update-certificate --certificate-id ${cert.certificateId} --new-status REVOKED\``;
      }
      throw e;
    }
    return { certificateId: cert.certificateId, certificatePem: cert.certificatePem, ...(await this.connection()) };
  }

  async revoke(certificateId: string): Promise<void> {
    await tolerate(() => this.iot.send(new UpdateCertificateCommand({ certificateId, newStatus: 'REVOKED' })),
      ['ResourceNotFoundException'], `revoking certificate ${certificateId}`);
  }

  async retireOtherCertificates(thingName: string, keepCertificateId: string): Promise<string[]> {
    const retired: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await tolerate(() => this.iot.send(new ListThingPrincipalsCommand({ thingName, ...(nextToken ? { nextToken } : {}) })),
        ['ResourceNotFoundException'], `listing ${thingName}'s certificates`);
      for (const principal of page?.principals ?? []) {
        const certificateId = /:cert\/([0-9a-f]+)$/.exec(principal)?.[1];
        if (!certificateId || certificateId === keepCertificateId) continue;
        // Revoked first: if the detach fails, the certificate is already unusable.
        await this.revoke(certificateId);
        await tolerate(() => this.iot.send(new DetachThingPrincipalCommand({ thingName, principal })), ['ResourceNotFoundException'],
          `detaching certificate ${certificateId} from ${thingName}`);
        retired.push(certificateId);
      }
      nextToken = page?.nextToken;
    } while (nextToken);
    return retired;
  }

  async deprovision(thingName: string, certificateId?: string): Promise<void> {
    if (certificateId) await this.revoke(certificateId);
    // Every principal ever attached (old certificates of re-registrations too) is detached.
    const listed = await tolerate(() => this.iot.send(new ListThingPrincipalsCommand({ thingName })), ['ResourceNotFoundException'], `listing ${thingName}'s certificates`);
    for (const principal of listed?.principals ?? []) {
      await tolerate(() => this.iot.send(new DetachThingPrincipalCommand({ thingName, principal })), ['ResourceNotFoundException'], `detaching a certificate from ${thingName}`);
    }
    await tolerate(() => this.iot.send(new DeleteThingCommand({ thingName })), ['ResourceNotFoundException'], `deleting thing ${thingName}`);
  }
}
