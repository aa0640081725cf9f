import type { HostRecord } from '../domain/model.js';

/** What a device needs to connect after its certificate was issued. */
export interface ProvisionedDevice {
  /** IoT certificateId (hex SHA-256 of the DER certificate). */
  readonly certificateId: string;
  readonly certificatePem: string;
  /**
   * CA bundle the device should trust for the broker. Empty on AWS unless configured: IoT Core's
   * ATS endpoint chains to Amazon Root CA 1, which the OS trust store already holds.
   */
  readonly caPem: string;
  readonly endpoint: string;
  readonly port: number;
}

/**
 * The device identity registry (AWS IoT things and certificates; locally a CA). Every method is
 * idempotent: a retried provision of the same thing creates no second thing, a retried revoke
 * or deprovision is a no-op.
 */
export interface DeviceRegistry {
  /** Creates the thing (if absent), signs the CSR, attaches the device policy and the certificate. */
  provision(thingName: string, csrPem: string, attributes: Readonly<Record<string, string>>): Promise<ProvisionedDevice>;
  /** Where devices connect and what they trust (for a repeat call of an already provisioned device). */
  connection(): Promise<Pick<ProvisionedDevice, 'caPem' | 'endpoint' | 'port'>>;
  revoke(certificateId: string): Promise<void>;
  /**
   * Revokes and detaches every certificate of the thing except `keepCertificateId` (the one its
   * host record names): a registration retried after an earlier call provisioned a certificate
   * but never recorded it leaves no second valid certificate. Revoked before detached, so a
   * failure half-way leaves nothing valid that is no longer listed. Returns the ids retired.
   */
  retireOtherCertificates(thingName: string, keepCertificateId: string): Promise<string[]>;
  /** Detaches the certificate (when given) and deletes the thing. */
  deprovision(thingName: string, certificateId?: string): Promise<void>;
  /**
   * Closes the thing's live MQTT session now, if it has one (a rejected host: its certificate
   * stays valid so that a later approval works, but nothing of it may run meanwhile). The local
   * broker does it; on AWS this is the IoT data plane's DeleteConnection, not wired yet (the
   * rules drop such a host's messages either way).
   */
  disconnect?(thingName: string): Promise<void>;
}

/**
 * Checks a PKCS#10 request before anything is stored: it parses, its self-signature verifies,
 * its key is ECDSA P-256. Throws ValidationError (invalid-csr, csr-signature-invalid,
 * csr-key-unsupported); returns the public key as SPKI PEM.
 */
export interface CsrInspector {
  inspect(csrPem: string): Promise<{ publicKeyPem: string }>;
}

export type RegistrationWriteResult =
  | { readonly ok: true }
  /** The token's condition failed (revoked, expired or used up meanwhile): read it again. */
  | { readonly ok: false; readonly reason: 'token' }
  /** The host changed meanwhile (created by a racing device, or its version moved). */
  | { readonly ok: false; readonly reason: 'host' };

/**
 * One atomic write: take one use of the token (only while it is unrevoked, unexpired at `now`
 * and below maxUses) and put the host (absent when `expectedVersion` is undefined, else at that
 * version). Either both happen or neither.
 */
export interface RegistrationStore {
  consumeTokenAndPutHost(tokenId: string, now: string, host: HostRecord, expectedVersion: number | undefined): Promise<RegistrationWriteResult>;
  /**
   * For a token WITHOUT a use limit: puts the host alone (same host condition), leaving the
   * token item out of the write, so thousands of devices sharing one token never contend on it.
   * The token was checked (unrevoked, unexpired) when the request was authenticated.
   */
  putHost(host: HostRecord, expectedVersion: number | undefined): Promise<RegistrationWriteResult>;
  /** Adds one to the token's `uses` (a statistic for unlimited tokens: commutative, never conditional on the count). */
  countUse(tokenId: string): Promise<void>;
}

/** A host's registration turn (domain/admission.ts): the instant it may call the IoT registry. */
export interface RegistrationTurn {
  readonly turnMs: number;
  /** A registration has used it: the host's next one takes a new turn. */
  readonly used: boolean;
}

/**
 * The admission clock and the turns it handed out. Every move of the clock is atomic: two
 * requests never get the same turn, and the clock never moves back.
 */
export interface RegistrationTurns {
  /** The turn `hostId` holds, if any. */
  heldBy(hostId: string): Promise<RegistrationTurn | undefined>;
  /** Takes the next turn (domain `nextTurn`: the clock's instant or now, whichever is later) and moves the clock one step. */
  take(nowMs: number, spacingMs: number): Promise<number>;
  /** Keeps a turn for `hostId` until it comes back (replacing any it held). */
  keep(hostId: string, turnMs: number): Promise<void>;
  /** Uses the turn `hostId` holds, once: false when another request used it first. */
  use(hostId: string): Promise<boolean>;
}
