import { createHash } from 'node:crypto';
import {
  CreateSecretCommand, DeleteSecretCommand, GetSecretValueCommand, PutSecretValueCommand, type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { ConflictError, ThrottledError, UnavailableError, ValidationError } from '../../domain/errors.js';
import type { SecretStore } from '../../ports/workflow.js';

const THROTTLES = new Set(['ThrottlingException', 'TooManyRequestsException', 'LimitExceededException']);
/** Characters Secrets Manager allows in a secret name. */
const NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
/** Days a deleted secret can still be restored (the minimum Secrets Manager allows). */
export const RECOVERY_WINDOW_DAYS = 7;

const errorName = (e: unknown) => (e as { name?: string })?.name ?? '';
const pendingDeletion = (e: unknown) => errorName(e) === 'InvalidRequestException'
  && /(marked|scheduled) for deletion/i.test(String((e as Error).message));

/**
 * The ClientRequestToken of a secret's first version: a UUID-shaped hash of its name, so a
 * retried CreateSecret (SDK retry, Lambda retry) is recognised as the same request.
 */
export function creationToken(fullName: string): string {
  const h = createHash('sha256').update(`edgefleet-secret:${fullName}`).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * SecretStore on AWS Secrets Manager: the secret `name` is stored as `${prefix}${name}`.
 * Values never appear in an error message or a log line; only names do.
 */
export class SecretsManagerSecretStore implements SecretStore {
  constructor(private readonly client: SecretsManagerClient, private readonly prefix: string) {}

  async ensure(name: string, generate: () => string): Promise<string> {
    const id = this.fullName(name);
    const existing = await this.read(id);
    if (existing !== undefined) return existing;
    const value = generate();
    try {
      await this.client.send(new CreateSecretCommand({ Name: id, SecretString: value, ClientRequestToken: creationToken(id) }));
      return value;
    } catch (e) {
      if (errorName(e) !== 'ResourceExistsException') this.fail(e, `creating secret ${id}`);
    }
    // A concurrent ensure created it first: its value is the one everybody uses.
    for (let attempt = 0; ; attempt++) {
      const winner = await this.read(id);
      if (winner !== undefined) return winner;
      if (attempt >= 3) {
        throw new UnavailableError('secret-unreadable', `secret ${id} exists but cannot be read yet; retry in a few seconds`);
      }
      await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
    }
  }

  async get(name: string): Promise<string | undefined> {
    return this.read(this.fullName(name));
  }

  async put(name: string, value: string): Promise<void> {
    const id = this.fullName(name);
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.client.send(new PutSecretValueCommand({ SecretId: id, SecretString: value }));
        return;
      } catch (e) {
        if (errorName(e) !== 'ResourceNotFoundException') this.fail(e, `setting secret ${id}`);
      }
      try {
        await this.client.send(new CreateSecretCommand({ Name: id, SecretString: value }));
        return;
      } catch (e) {
        // Created by a concurrent put in between: set the value on it.
        if (errorName(e) !== 'ResourceExistsException') this.fail(e, `creating secret ${id}`);
      }
    }
    throw new UnavailableError('secret-unwritable', `secret ${id} kept appearing and disappearing while it was set; retry in a few seconds`);
  }

  async delete(name: string): Promise<void> {
    const id = this.fullName(name);
    try {
      // ForceDeleteWithoutRecovery is not sent: the API refuses it together with RecoveryWindowInDays.
      await this.client.send(new DeleteSecretCommand({ SecretId: id, RecoveryWindowInDays: RECOVERY_WINDOW_DAYS }));
    } catch (e) {
      if (errorName(e) === 'ResourceNotFoundException' || pendingDeletion(e)) return;
      this.fail(e, `deleting secret ${id}`);
    }
  }

  /** The current value, or undefined when the secret does not exist (or is scheduled for deletion). */
  private async read(id: string): Promise<string | undefined> {
    try {
      const out = await this.client.send(new GetSecretValueCommand({ SecretId: id }));
      if (out.SecretString === undefined) {
        throw new ConflictError('secret-not-text', `secret ${id} holds binary data, not text; delete it or choose another secret prefix`);
      }
      return out.SecretString;
    } catch (e) {
      if (errorName(e) === 'ResourceNotFoundException' || pendingDeletion(e)) return undefined;
      this.fail(e, `reading secret ${id}`);
    }
  }

  private fullName(name: string): string {
    const id = `${this.prefix}${name}`;
    if (!NAME.test(id)) {
      throw new ValidationError('invalid-secret-name', `secret name ${JSON.stringify(id)} is not valid for Secrets Manager (1–512 of A-Z a-z 0-9 / _ + = . @ -)`);
    }
    return id;
  }

  private fail(e: unknown, what: string): never {
    if (e instanceof ConflictError) throw e;
    const name = errorName(e);
    if (THROTTLES.has(name)) throw new ThrottledError('throttled', `Secrets Manager is throttling ${what}; retry in a few seconds`, { cause: e });
    if (pendingDeletion(e)) {
      throw new ConflictError('secret-pending-deletion',
        `${what} failed: a secret with this name is scheduled for deletion; restore it (aws secretsmanager restore-secret) or wait until it is gone`, { cause: e });
    }
    if (name === 'InternalServiceError' || name === 'ServiceUnavailableException') {
      throw new UnavailableError('secrets-unavailable', `Secrets Manager is unavailable while ${what}; retry shortly`, { cause: e });
    }
    if (name === 'AccessDeniedException') {
      throw new UnavailableError('secrets-access-denied', `${what} was denied; check that the function's role may use secrets under ${this.prefix}`, { cause: e });
    }
    throw e;
  }
}
