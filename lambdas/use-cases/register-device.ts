import type { DeviceRegisterBody, DeviceRegisterResponse } from '../contracts/device.js';
import { decideTurn, turnEarlyMs, turnsAhead, turnSpacingMs, usableTurn } from '../domain/admission.js';
import { ConflictError, ForbiddenError, ThrottledError, UnauthenticatedError, ValidationError } from '../domain/errors.js';
import { hostIdFromUid } from '../domain/host-lifecycle.js';
import type { HostRecord, HostWithPresence, TokenRecord } from '../domain/model.js';
import {
  checkProof, decideRegistration, pairingCodeFrom, POLL_AFTER_SECONDS, type RegistrationDecision,
} from '../domain/registration.js';
import { parseToken, secretMatches } from '../domain/registration-token.js';
import type { CsrInspector, DeviceRegistry, RegistrationStore, RegistrationTurns } from '../ports/device-registry.js';
import type { Deps } from './context.js';
import { refreshAfterLifecycle } from './refresh-health.js';
import { reportSwallowed } from './swallowed-failure.js';

export interface RegisterDeviceDeps extends Deps {
  readonly registry: DeviceRegistry;
  readonly csr: CsrInspector;
  readonly registrations: RegistrationStore;
  /** Registrations admitted to the IoT registry per second, and their turns (domain/admission.ts); absent: unlimited. */
  readonly admission?: { readonly perSecond: number; readonly turns: RegistrationTurns };
}

const invalidToken = () => new UnauthenticatedError('invalid-token', 'the registration token is not valid: check the token in the install configuration');

type Outcome = 'success' | 'denied' | 'failed';

async function auditDevice(deps: RegisterDeviceDeps, project: string, hostId: string, requestId: string, action: string, outcome: Outcome, detail?: string) {
  await deps.audit.record({
    id: deps.ids.newId(), project, time: deps.clock.now().toISOString(), actor: `device:${hostId}`,
    action, resource: `host/${hostId}`, outcome, requestId, ...(detail ? { detail } : {}),
  });
}

function refusal(d: Extract<RegistrationDecision, { kind: 'refuse' }>, hostId: string) {
  const message = `host ${hostId} cannot register: ${d.reason}`;
  return d.http === 'forbidden' ? new ForbiddenError(d.code, message) : new ConflictError(d.code, message);
}

/** The authentic token, or 401 without saying whether the id or the secret was wrong. */
async function authenticate(deps: RegisterDeviceDeps, token: string): Promise<TokenRecord> {
  const parsed = parseToken(token);
  if (!parsed) throw invalidToken();
  const record = await deps.tokens.get(parsed.id);
  if (!record || !secretMatches(parsed.secret, record.secretHash)) throw invalidToken();
  return record;
}

/**
 * Before anything that calls the IoT registry (and before any write but the turn): the host's
 * turn, kept from an earlier refusal or taken now. A turn that is due is used; one ahead is 429
 * with the Retry-After of its instant, and the host keeps it for when it comes back.
 */
async function admit(deps: RegisterDeviceDeps, hostId: string): Promise<void> {
  if (!deps.admission) return;
  const { perSecond, turns } = deps.admission;
  const now = deps.clock.now().getTime();
  const spacing = turnSpacingMs(perSecond);
  const held = usableTurn(await turns.heldBy(hostId), now);
  const turn = held ?? await turns.take(now, spacing);
  const d = decideTurn(turn, now, turnEarlyMs(perSecond));
  if (!d.admitted) {
    if (held === undefined) await turns.keep(hostId, turn);
    throw new ThrottledError('registration-rate-limited', `host ${hostId} cannot register yet: the control plane admits ${perSecond} registrations per second (the AWS IoT registry's rate) and ${turnsAhead(d.waitMs, spacing)} host(s) are ahead of it; its turn is kept for it: retry after ${d.retryAfterSeconds} s (the agent does this by itself)`, { retryAfterSeconds: d.retryAfterSeconds });
  }
  // A turn kept from a refusal is used once: a second request racing with the same turn waits.
  if (held !== undefined && !(await turns.use(hostId))) {
    throw new ThrottledError('registration-in-progress', `another registration call for host ${hostId} used its turn; retry in a few seconds`);
  }
}

const pairingCode = (deps: RegisterDeviceDeps) => pairingCodeFrom(Buffer.from(deps.ids.secret(6), 'base64url'));

const registryAttributes = (host: HostRecord): Record<string, string> => ({ project: host.project, ...(host.site ? { site: host.site } : {}) });

/**
 * The host record names this certificate now: any other of the thing (an earlier call that
 * provisioned one but never recorded it, e.g. it timed out) must not stay valid.
 */
async function retireOthers(deps: RegisterDeviceDeps, host: HostRecord, certificateId: string, requestId: string): Promise<void> {
  const retired = await deps.registry.retireOtherCertificates(host.id, certificateId);
  if (retired.length > 0) {
    await auditDevice(deps, host.project, host.id, requestId, 'device.certificate-retired', 'success', `revoked and detached ${retired.length} certificate(s) the host record does not name: ${retired.join(', ')}`);
  }
}

/** A host approved after it registered (by an operator) gets its certificate on its next poll. */
async function issueCertificate(deps: RegisterDeviceDeps, host: HostWithPresence, csrPem: string, requestId: string): Promise<DeviceRegisterResponse> {
  const p = await deps.registry.provision(host.id, csrPem, registryAttributes(host));
  try {
    await deps.hosts.update(host.id, host.version, { certificateId: p.certificateId, certificatePem: p.certificatePem }, deps.clock.now().toISOString());
  } catch (e) {
    // A racing call stored its own certificate first: this one must not stay valid.
    await deps.registry.revoke(p.certificateId);
    // 429: transient, the agent retries (with backoff) and then receives the stored certificate.
    throw new ThrottledError('registration-in-progress', `another registration call for host ${host.id} is being processed; retry in a few seconds`, { cause: e });
  }
  await retireOthers(deps, host, p.certificateId, requestId);
  return approved(host.id, p.certificatePem, p.caPem, p.endpoint, p.port);
}

const approved = (hostId: string, certificatePem: string, caPem: string, endpoint: string, port: number): DeviceRegisterResponse =>
  ({ status: 'approved', hostId, thingName: hostId, certificatePem, caPem, mqtt: { endpoint, port } });

const pending = (hostId: string, code: string): DeviceRegisterResponse => ({ status: 'pending', hostId, pairingCode: code, pollAfterSeconds: POLL_AFTER_SECONDS });

/**
 * register-device (POST /v1/device/register, no JWT): the registration token authenticates.
 * Decides with the domain, writes the token use and the host in one transaction, issues the
 * certificate once the host is approved. Nothing is written on a refusal.
 */
export async function registerDevice(deps: RegisterDeviceDeps, requestId: string, body: DeviceRegisterBody): Promise<DeviceRegisterResponse> {
  const hostId = hostIdFromUid(body.uid);
  if (!hostId) throw new ValidationError('invalid-uid', `uid "${body.uid}" has no letters or digits to form a host id`, { errors: [{ path: 'body.uid', message: 'needs a letter or digit' }] });
  const token = await authenticate(deps, body.token);
  const audit = (action: string, outcome: Outcome, detail?: string) => auditDevice(deps, token.project, hostId, requestId, action, outcome, detail);
  const { publicKeyPem } = await deps.csr.inspect(body.csr).catch(async (e: unknown) => {
    await audit('device.register', 'denied', `invalid CSR: ${(e as Error).message}`);
    throw e;
  });
  const now = deps.clock.now();
  const host = await deps.hosts.get(hostId);
  const decision = decideRegistration(token, host, publicKeyPem, now);

  if (decision.kind === 'refuse') {
    // Another project's host is not this project's business: audit there would leak it.
    if (decision.code !== 'wrong-project') await audit('device.register', 'denied', `${decision.code}: ${decision.reason}`);
    throw refusal(decision, hostId);
  }

  if (decision.kind === 'repeat') {
    const proof = checkProof(host!.publicKeyPem!, body.uid, body.proof, now);
    if (!proof.ok) {
      await audit('device.register', 'denied', `${proof.code}: ${proof.reason}`);
      throw new UnauthenticatedError(proof.code, proof.reason);
    }
    if (decision.status === 'pending') return pending(hostId, host!.pairingCode ?? '');
    if (!decision.needsCertificate) {
      const p = await deps.registry.connection();
      return approved(hostId, host!.certificatePem!, p.caPem, p.endpoint, p.port);
    }
    await admit(deps, hostId);
    const out = await issueCertificate(deps, host!, body.csr, requestId);
    await audit('device.certificate', 'success', 'certificate issued after approval');
    return out;
  }

  if (decision.status === 'approved' || (decision.kind === 'reregister' && decision.revokeCertificateId)) await admit(deps, hostId);
  const iso = now.toISOString();
  const registration = {
    publicKeyPem, inventory: body.inventory, registeredAt: iso, registrationTokenId: token.id,
    pairingCode: pairingCode(deps), certificateId: undefined, certificatePem: undefined,
  };
  let record: HostRecord;
  if (decision.kind === 'create') {
    record = {
      // The operator's token wins over what the device's install configuration says.
      id: hostId, uid: body.uid, project: token.project, tags: { ...(body.tags ?? {}), ...(token.tags ?? {}) }, status: decision.status, version: 1, createdAt: iso, updatedAt: iso,
      ...(token.site ?? body.site ? { site: token.site ?? body.site } : {}), ...registration,
      ...(decision.status === 'approved' ? { approvedAt: iso, statusReason: 'approved by its registration token' } : {}),
    };
  } else {
    // Pre-registered (keeps site, tags, target cluster) or re-registered (keeps its identity).
    const { presence: _presence, ...stored } = host!;
    record = {
      ...stored, ...registration, status: decision.status, version: stored.version + 1, updatedAt: iso,
      ...(decision.status === 'approved' ? { approvedAt: iso } : { approvedAt: undefined }),
      statusReason: decision.kind === 'reregister' ? 're-registered with a new key' : 'pre-registered host registered',
    };
  }
  if (decision.kind === 'reregister' && decision.revokeCertificateId) {
    // Before the write: once the host forgets the old certificate id, a failed revoke could not be retried.
    await deps.registry.revoke(decision.revokeCertificateId);
  }
  // An approved host is written once, naming its certificate: the certificate is provisioned
  // first (a lost write revokes it below; a call that dies in between leaves one the host never
  // names, which the next registration of the host retires).
  const provisioned = record.status === 'approved' ? await deps.registry.provision(hostId, body.csr, registryAttributes(record)) : undefined;
  const stored: HostRecord = provisioned ? { ...record, certificateId: provisioned.certificateId, certificatePem: provisioned.certificatePem } : record;
  const expectedVersion = decision.kind === 'create' ? undefined : host!.version;
  // Only a limited token is part of the write (its last use can be raced for); an unlimited one
  // is counted afterwards, so a storm on one token never contends on its item.
  const written = token.maxUses === undefined
    ? await deps.registrations.putHost(stored, expectedVersion)
    : await deps.registrations.consumeTokenAndPutHost(token.id, iso, stored, expectedVersion);
  if (!written.ok) {
    // This call's certificate is named by no host: it must not stay valid.
    if (provisioned) await deps.registry.revoke(provisioned.certificateId);
    if (written.reason === 'token') {
      const again = await deps.tokens.get(token.id);
      const d = again ? decideRegistration(again, host, publicKeyPem, now) : undefined;
      const code = d?.kind === 'refuse' ? d.code : 'token-used-up';
      await audit('device.register', 'denied', `${code}: lost the race for the token`);
      throw new ForbiddenError(code, `host ${hostId} cannot register: ${d?.kind === 'refuse' ? d.reason : 'the registration token has no use left'}`);
    }
    throw new ThrottledError('registration-in-progress', `host ${hostId} changed while registering (another registration of this uid?); retry in a few seconds`);
  }
  if (token.maxUses === undefined) {
    await deps.registrations.countUse(token.id).catch((error: unknown) => reportSwallowed({
      metric: 'TokenUseNotCounted', message: `host ${hostId} registered, but the use of registration token ${token.id} was not counted`,
      action: 'none needed: the count of an unlimited token is a statistic; the host is registered', error, hostId,
    }));
  }
  // A new host has nothing but its record yet: its health inputs need no read.
  await refreshAfterLifecycle(deps.health, hostId, decision.kind === 'create' ? { host: stored } : undefined);
  const action = decision.kind === 'reregister' ? 'device.reregister' : 'device.register';
  if (!provisioned) {
    await audit(action, 'success', 'pending approval');
    return pending(hostId, record.pairingCode!);
  }
  await retireOthers(deps, stored, provisioned.certificateId, requestId);
  await audit(action, 'success', `approved (${decision.kind === 'claim-pre-registered' ? 'pre-registered' : decision.kind === 'reregister' ? 're-registration' : 'token auto-approve'}); certificate issued`);
  return approved(hostId, provisioned.certificatePem, provisioned.caPem, provisioned.endpoint, provisioned.port);
}
