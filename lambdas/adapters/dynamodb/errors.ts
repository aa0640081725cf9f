import { ThrottledError, UnavailableError, ValidationError } from '../../domain/errors.js';

const THROTTLES = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded']);

export function isConditionFailure(e: unknown): boolean {
  return (e as { name?: string })?.name === 'ConditionalCheckFailedException';
}

/** Maps DynamoDB errors the caller can act on into the domain error hierarchy; rethrows the rest. */
export function mapDynamoError(e: unknown, what: string): never {
  const name = (e as { name?: string })?.name ?? '';
  if (THROTTLES.has(name)) {
    throw new ThrottledError('throttled', `the database is throttling ${what}; retry in a few seconds`, { cause: e });
  }
  if (name === 'ValidationException' && /start(ing)? key/i.test(String((e as Error).message))) {
    throw new ValidationError('invalid-cursor', 'the cursor does not belong to this list; start again without a cursor', { cause: e });
  }
  if (name === 'ResourceNotFoundException') {
    throw new UnavailableError('table-missing', `the table behind ${what} does not exist; check the deployment`, { cause: e });
  }
  throw e;
}
