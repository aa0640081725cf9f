import { ValidationError } from '../lambdas/domain/errors.js';
import type { DeviceRegistry, ProvisionedDevice } from '../lambdas/ports/device-registry.js';
import type { LocalCa } from './local-ca.js';

/** Port of the local MQTT broker when it is not known yet (IoT Core's port). */
export const DEFAULT_LOCAL_MQTT_PORT = 8883;

export interface LocalBrokerAddress {
  readonly endpoint: string;
  readonly port: number;
  /** Closes live sessions of a revoked certificate or a deleted thing (the local broker). */
  readonly closeSessions?: (match: { thing: string } | { certificateId: string }) => void;
}

/**
 * The DeviceRegistry on one machine: the local CA signs CSRs and keeps the revocation list;
 * "things" are the set of provisioned names (the broker trusts the certificate's CN).
 */
export class LocalDeviceRegistry implements DeviceRegistry {
  private readonly things = new Map<string, Set<string>>();

  constructor(private readonly ca: LocalCa, private broker: LocalBrokerAddress = { endpoint: 'localhost', port: DEFAULT_LOCAL_MQTT_PORT }) {}

  /** The broker may start after the registry (its port is chosen at listen time). */
  setBroker(broker: LocalBrokerAddress): void {
    this.broker = broker;
  }

  async provision(thingName: string, csrPem: string): Promise<ProvisionedDevice> {
    let issued;
    try {
      issued = await this.ca.signCsr(csrPem, thingName);
    } catch (e) {
      throw new ValidationError('invalid-csr', (e as Error).message, { cause: e, errors: [{ path: 'body.csr', message: (e as Error).message }] });
    }
    const certs = this.things.get(thingName) ?? new Set<string>();
    certs.add(issued.certificateId);
    this.things.set(thingName, certs);
    return { certificateId: issued.certificateId, certificatePem: issued.certificatePem, ...(await this.connection()) };
  }

  async connection() {
    return { caPem: this.ca.caPem, endpoint: this.broker.endpoint, port: this.broker.port };
  }

  /** Revokes the certificate and closes every live session using it (as IoT Core does). */
  async revoke(certificateId: string): Promise<void> {
    if (!this.ca.isRevoked(certificateId)) this.ca.revoke(certificateId);
    this.broker.closeSessions?.({ certificateId });
  }

  /** Revokes (closing their sessions) and forgets every certificate of the thing but `keep`. */
  async retireOtherCertificates(thingName: string, keep: string): Promise<string[]> {
    const certs = this.things.get(thingName);
    const retired = [...(certs ?? [])].filter((id) => id !== keep);
    for (const id of retired) {
      await this.revoke(id);
      certs!.delete(id);
    }
    return retired;
  }

  /** The certificates attached to a thing (ListThingPrincipals), for tests and diagnosis. */
  certificatesOf(thingName: string): string[] {
    return [...(this.things.get(thingName) ?? [])];
  }

  /** Closes the thing's live session (a rejected host); its certificate stays valid. */
  async disconnect(thingName: string): Promise<void> {
    this.broker.closeSessions?.({ thing: thingName });
  }

  /** Revokes the certificate (when given), deletes the thing and closes its live session. */
  async deprovision(thingName: string, certificateId?: string): Promise<void> {
    if (certificateId) await this.revoke(certificateId);
    this.things.delete(thingName);
    this.broker.closeSessions?.({ thing: thingName });
  }
}
