/**
 * The one error hierarchy. Every error the API can return is one of these; the HTTP middleware
 * maps `kind` to a status code and `code` is the stable machine-readable identifier.
 */
export type ErrorKind =
  | 'validation'
  | 'unprocessable'
  | 'unauthenticated'
  | 'forbidden'
  | 'not-found'
  | 'conflict'
  | 'precondition-failed'
  | 'payload-too-large'
  | 'unsupported-media-type'
  | 'throttled'
  | 'unavailable'
  | 'internal';

export interface FieldError {
  readonly path: string;
  readonly message: string;
}

export interface ErrorOptions {
  readonly cause?: unknown;
  readonly errors?: readonly FieldError[];
}

export abstract class EdgeFleetError extends Error {
  abstract readonly kind: ErrorKind;
  readonly errors?: readonly FieldError[];
  constructor(readonly code: string, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.errors = options.errors;
  }
}

export class ValidationError extends EdgeFleetError {
  readonly kind = 'validation' as const;
}
/**
 * The request is well-formed but breaks a rule of what it refers to (a profile version whose
 * OS image carries another Kubernetes, a variable the profile does not declare): 422.
 */
export class UnprocessableError extends EdgeFleetError {
  readonly kind = 'unprocessable' as const;
}
export class UnauthenticatedError extends EdgeFleetError {
  readonly kind = 'unauthenticated' as const;
}
export class ForbiddenError extends EdgeFleetError {
  readonly kind = 'forbidden' as const;
}
export class NotFoundError extends EdgeFleetError {
  readonly kind = 'not-found' as const;
}
export class ConflictError extends EdgeFleetError {
  readonly kind = 'conflict' as const;
}
/** The caller's `version` no longer matches the stored resource. */
export class VersionMismatchError extends EdgeFleetError {
  readonly kind = 'precondition-failed' as const;
  constructor(resource: string, expected: number, options: ErrorOptions = {}) {
    super('version-mismatch', `${resource} was changed by someone else (you sent version ${expected}); read it again and retry with the current version`, options);
  }
}
export class PayloadTooLargeError extends EdgeFleetError {
  readonly kind = 'payload-too-large' as const;
}
export class UnsupportedMediaTypeError extends EdgeFleetError {
  readonly kind = 'unsupported-media-type' as const;
}
export class ThrottledError extends EdgeFleetError {
  readonly kind = 'throttled' as const;
  /** When to come back (the `Retry-After` header); @default 2 */
  readonly retryAfterSeconds?: number;
  constructor(code: string, message: string, options: ErrorOptions & { readonly retryAfterSeconds?: number } = {}) {
    super(code, message, options);
    if (options.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
  }
}
export class UnavailableError extends EdgeFleetError {
  readonly kind = 'unavailable' as const;
}
export class InternalError extends EdgeFleetError {
  readonly kind = 'internal' as const;
}
