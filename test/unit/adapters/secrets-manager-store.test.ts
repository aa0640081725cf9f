import {
  CreateSecretCommand, DeleteSecretCommand, GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { creationToken, SecretsManagerSecretStore } from '../../../lambdas/adapters/secrets/secrets-manager-store.js';
import { ConflictError, ThrottledError, UnavailableError, ValidationError } from '../../../lambdas/domain/errors.js';

const sm = mockClient(SecretsManagerClient);
const err = (name: string, message = name) => Object.assign(new Error(message), { name });
const store = () => new SecretsManagerSecretStore(new SecretsManagerClient({ region: 'eu-west-1' }), 'edgefleet/prod/');
const VALUE = 'K10-super-secret-join-token';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

beforeEach(() => { sm.reset(); });

describe('SecretsManagerSecretStore.put', () => {
  it('puts a new value on an existing secret', async () => {
    sm.on(PutSecretValueCommand).resolves({});
    await store().put('clusters/c1/kubeconfig', VALUE);
    expect(sm.commandCalls(PutSecretValueCommand)[0]!.args[0].input).toEqual({ SecretId: 'edgefleet/prod/clusters/c1/kubeconfig', SecretString: VALUE });
    expect(sm.commandCalls(CreateSecretCommand)).toHaveLength(0);
  });

  it('creates the secret with the value when it does not exist yet', async () => {
    sm.on(PutSecretValueCommand).rejects(err('ResourceNotFoundException'));
    sm.on(CreateSecretCommand).resolves({});
    await store().put('clusters/c1/kubeconfig', VALUE);
    expect(sm.commandCalls(CreateSecretCommand)[0]!.args[0].input).toEqual({ Name: 'edgefleet/prod/clusters/c1/kubeconfig', SecretString: VALUE });
  });

  it('puts on top of a secret created concurrently', async () => {
    sm.on(PutSecretValueCommand).rejectsOnce(err('ResourceNotFoundException')).resolves({});
    sm.on(CreateSecretCommand).rejects(err('ResourceExistsException'));
    await store().put('clusters/c1/kubeconfig', VALUE);
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(2);
  });

  it('a denied write names the prefix, never the value', async () => {
    sm.on(PutSecretValueCommand).rejects(err('AccessDeniedException'));
    const e = await store().put('clusters/c1/kubeconfig', VALUE).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UnavailableError);
    expect((e as Error).message).toMatch(/edgefleet\/prod\//);
    expect((e as Error).message).not.toContain(VALUE);
  });
});

describe('SecretsManagerSecretStore.ensure', () => {
  it('returns an existing secret without generating or creating one', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: 'existing' });
    let generated = 0;
    expect(await store().ensure('cluster/c1/join-token', () => { generated++; return VALUE; })).toBe('existing');
    expect(generated).toBe(0);
    expect(sm.commandCalls(GetSecretValueCommand)[0]!.args[0].input).toEqual({ SecretId: 'edgefleet/prod/cluster/c1/join-token' });
    expect(sm.commandCalls(CreateSecretCommand)).toHaveLength(0);
  });

  it('creates an absent secret with a request token derived from its name, and returns the generated value', async () => {
    sm.on(GetSecretValueCommand).rejects(err('ResourceNotFoundException'));
    sm.on(CreateSecretCommand).resolves({});
    expect(await store().ensure('cluster/c1/join-token', () => VALUE)).toBe(VALUE);
    const input = sm.commandCalls(CreateSecretCommand)[0]!.args[0].input;
    expect(input).toEqual({ Name: 'edgefleet/prod/cluster/c1/join-token', SecretString: VALUE, ClientRequestToken: creationToken('edgefleet/prod/cluster/c1/join-token') });
    expect(input.ClientRequestToken).toMatch(UUID);
  });

  it('uses the winner\'s value when a concurrent ensure created the secret first', async () => {
    sm.on(GetSecretValueCommand).rejectsOnce(err('ResourceNotFoundException')).resolves({ SecretString: 'winner' });
    sm.on(CreateSecretCommand).rejects(err('ResourceExistsException'));
    expect(await store().ensure('c2', () => VALUE)).toBe('winner');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('refuses a name scheduled for deletion with a pointer to restore-secret, never echoing the value', async () => {
    sm.on(GetSecretValueCommand).rejects(err('InvalidRequestException', "You can't perform this operation on the secret because it was marked for deletion."));
    sm.on(CreateSecretCommand).rejects(err('InvalidRequestException', "You can't create this secret because a secret with this name is already scheduled for deletion."));
    const e = await store().ensure('c3', () => VALUE).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConflictError);
    expect((e as ConflictError).code).toBe('secret-pending-deletion');
    expect((e as Error).message).toMatch(/edgefleet\/prod\/c3.*restore-secret/);
    expect((e as Error).message).not.toContain(VALUE);
  });

  it.each([
    ['ThrottlingException', ThrottledError],
    ['InternalServiceError', UnavailableError],
    ['AccessDeniedException', UnavailableError],
  ])('maps %s from CreateSecret to %p without the value in the message', async (name, type) => {
    sm.on(GetSecretValueCommand).rejects(err('ResourceNotFoundException'));
    sm.on(CreateSecretCommand).rejects(err(name));
    const e = await store().ensure('c4', () => VALUE).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(type);
    expect((e as Error).message).toContain('edgefleet/prod/c4');
    expect((e as Error).message).not.toContain(VALUE);
  });

  it('rejects names Secrets Manager would refuse before calling it', async () => {
    await expect(store().ensure('bad name!', () => VALUE)).rejects.toBeInstanceOf(ValidationError);
    expect(sm.calls()).toHaveLength(0);
  });
});

describe('SecretsManagerSecretStore.get and delete', () => {
  it.each([
    ['ResourceNotFoundException', 'Secrets Manager can\'t find the specified secret.'],
    ['InvalidRequestException', 'You can\'t perform this operation on the secret because it was marked for deletion.'],
  ])('get: %s means absent', async (name, message) => {
    sm.on(GetSecretValueCommand).rejects(err(name, message));
    expect(await store().get('gone')).toBeUndefined();
  });

  it('get: a binary secret is a conflict, not a value', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1]) });
    await expect(store().get('bin')).rejects.toMatchObject({ code: 'secret-not-text' });
  });

  it('delete schedules deletion with a 7-day recovery window', async () => {
    sm.on(DeleteSecretCommand).resolves({});
    await store().delete('c5');
    expect(sm.commandCalls(DeleteSecretCommand)[0]!.args[0].input).toEqual({ SecretId: 'edgefleet/prod/c5', RecoveryWindowInDays: 7 });
  });

  it.each([
    ['ResourceNotFoundException', 'not found'],
    ['InvalidRequestException', 'You can\'t perform this operation on the secret because it was already scheduled for deletion.'],
  ])('delete: %s is fine (already absent)', async (name, message) => {
    sm.on(DeleteSecretCommand).rejects(err(name, message));
    await expect(store().delete('c6')).resolves.toBeUndefined();
  });

  it('delete: other errors are reported', async () => {
    sm.on(DeleteSecretCommand).rejects(err('ThrottlingException'));
    await expect(store().delete('c7')).rejects.toBeInstanceOf(ThrottledError);
  });
});

describe('SecretsManagerSecretStore.put', () => {
  it('sets a new value on an existing secret', async () => {
    sm.on(PutSecretValueCommand).resolves({});
    await store().put('clusters/c1/vars/PASSWORD', VALUE);
    expect(sm.commandCalls(PutSecretValueCommand)[0]!.args[0].input).toEqual({ SecretId: 'edgefleet/prod/clusters/c1/vars/PASSWORD', SecretString: VALUE });
    expect(sm.commandCalls(CreateSecretCommand)).toHaveLength(0);
  });

  it('creates an absent secret; a concurrent create makes it set the value on the winner\'s secret', async () => {
    sm.on(PutSecretValueCommand).rejectsOnce(err('ResourceNotFoundException')).resolves({});
    sm.on(CreateSecretCommand).rejectsOnce(err('ResourceExistsException'));
    await store().put('clusters/c1/vars/PASSWORD', VALUE);
    expect(sm.commandCalls(CreateSecretCommand)[0]!.args[0].input).toEqual({ Name: 'edgefleet/prod/clusters/c1/vars/PASSWORD', SecretString: VALUE });
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(2);
  });

  it('reports a denial naming the secret, never the value', async () => {
    sm.on(PutSecretValueCommand).rejects(err('AccessDeniedException'));
    const e = await store().put('clusters/c1/vars/PASSWORD', VALUE).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UnavailableError);
    expect(String((e as Error).message)).toContain('clusters/c1/vars/PASSWORD');
    expect(String((e as Error).message)).not.toContain(VALUE);
  });
});

describe('creationToken', () => {
  it('is a stable UUID-shaped hash of the name', () => {
    expect(creationToken('a')).toBe(creationToken('a'));
    expect(creationToken('a')).not.toBe(creationToken('b'));
    expect(creationToken('a')).toMatch(UUID);
  });
});
