/**
 * Errors the CLI reports, their exit codes, and how they are written for an operator.
 * Everything here is pure: no I/O, so it is unit-tested directly.
 */
import type { Problem } from '../lambdas/contracts/common.js';

export const EXIT = {
  ok: 0,
  unexpected: 1,
  usage: 2,
  notFound: 3,
  conflict: 4,
  auth: 5,
  invalid: 6,
  unavailable: 7,
  /** A watched rollout ended `incomplete`: the clusters it reached succeeded, others were skipped (deferred too long, deleted, detached). */
  rolloutIncomplete: 8,
  /** A watched rollout was `aborted` by its failure thresholds. */
  rolloutAborted: 9,
  /** A watched rollout was `cancelled`, or `superseded` by a newer one. */
  rolloutCancelled: 10,
  /** Ctrl-C stopped a watch (the shell convention 128 + SIGINT); the operation keeps running. */
  interrupted: 130,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The exit-code table, shown in `edgefleet --help` and in the README section. */
export const EXIT_CODE_TABLE: ReadonlyArray<readonly [ExitCode, string]> = [
  [EXIT.ok, 'success'],
  [EXIT.unexpected, 'unexpected error (a bug, or a response the CLI does not understand)'],
  [EXIT.usage, 'usage error: unknown command, bad or missing flags, unreadable input file'],
  [EXIT.notFound, 'not found (HTTP 404)'],
  [EXIT.conflict, 'conflict or version mismatch (HTTP 409/412): re-read and retry; or the watched operation failed or was cancelled'],
  [EXIT.auth, 'not authenticated or forbidden (HTTP 401/403), or no API URL/token configured'],
  [EXIT.invalid, 'invalid request (HTTP 400/413/415/422), invalid import or layers file, rows refused by `hosts import`, or an image build the compatibility matrix refuses'],
  [EXIT.unavailable, 'control plane unreachable, timed out, throttled (429) or failing (5xx)'],
  [EXIT.rolloutIncomplete, '`rollouts watch`: the rollout ended incomplete (some clusters skipped: deferred too long, deleted or detached)'],
  [EXIT.rolloutAborted, '`rollouts watch`: the rollout was aborted by its failure thresholds'],
  [EXIT.rolloutCancelled, '`rollouts watch`: the rollout was cancelled or superseded by a newer one'],
  [EXIT.interrupted, 'Ctrl-C stopped a watch (the operation keeps running; watch it again to resume)'],
];

/** An error with a message for the operator, extra lines of advice, and an exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    readonly hints: readonly string[] = [],
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export class UsageError extends CliError {
  constructor(message: string, hints: readonly string[] = []) {
    super(message, EXIT.usage, hints);
    this.name = 'UsageError';
  }
}

/** The API answered with an error status. */
export class ApiError extends Error {
  constructor(
    /** What the CLI was doing, e.g. `approve host "hw-1"`. */
    readonly what: string,
    readonly status: number,
    readonly problem: Problem | undefined,
    /** Set when the body was not a problem document (e.g. an HTML page from a proxy). */
    readonly rawBody: string | undefined,
    /** Advice for this command by HTTP status, replacing the generic advice. */
    readonly hintsByStatus: Readonly<Partial<Record<number, string>>> = {},
    readonly requestIdHeader?: string,
  ) {
    super(problem?.detail ?? `HTTP ${status}`);
    this.name = 'ApiError';
  }

  get requestId(): string | undefined {
    return this.problem?.requestId ?? this.requestIdHeader;
  }
}

/** The API could not be reached at all (refused, DNS, TLS, timeout). */
export class UnreachableError extends Error {
  constructor(
    readonly what: string,
    readonly url: string,
    readonly reason: string,
  ) {
    super(`cannot reach ${url}: ${reason}`);
    this.name = 'UnreachableError';
  }
}

export function exitCodeForStatus(status: number): ExitCode {
  if (status >= 200 && status < 300) return EXIT.ok;
  if (status === 404) return EXIT.notFound;
  if (status === 409 || status === 412) return EXIT.conflict;
  if (status === 401 || status === 403) return EXIT.auth;
  if (status === 400 || status === 413 || status === 415 || status === 422) return EXIT.invalid;
  if (status === 429 || status === 408 || status >= 500) return EXIT.unavailable;
  return EXIT.unexpected;
}

/** Context that makes advice concrete: where the URL and token came from, which project. */
export interface ErrorContext {
  url?: string;
  tokenSource?: string;
  project?: string;
  /** The Idempotency-Key a creating POST used, so a retry can reuse it. */
  idempotencyKey?: string;
}

const UNREACHABLE_HINT =
  'is `npm start` running (for the local runtime)? Set EDGEFLEET_URL or pass --url, or run `edgefleet login`';

function genericHint(err: ApiError, ctx: ErrorContext): string | undefined {
  const code = err.problem?.code;
  if (code === 'version-mismatch' || err.status === 412) {
    return 'someone else changed it after this command read it; run the command again to apply your change on top of the new version';
  }
  switch (err.status) {
    case 401:
      return `the API token${ctx.tokenSource ? ` (from ${ctx.tokenSource})` : ''} was refused: it may be expired or for another control plane; run \`edgefleet login\` or set EDGEFLEET_TOKEN`;
    case 403:
      return `your token is not allowed to do this in project "${ctx.project ?? 'default'}"; use --project for another project, or ask an admin for the operator role`;
    case 404:
      return 'check the id or name (list them with the matching `list` command) and the project (--project)';
    case 409:
      return 'the resource is not in a state that allows this; inspect it with the matching `get` command';
    case 413:
      return 'the request is too large; split the input into smaller pieces';
    case 429:
      return 'the control plane is throttling requests; wait a little and retry';
    default:
      if (err.status >= 500) {
        return 'the control plane failed while handling this; retry, and if it keeps failing give the request id to whoever runs the control plane';
      }
      return undefined;
  }
}

/** The text written to stderr for any error, and the process exit code. */
export function describeError(err: unknown, ctx: ErrorContext = {}): { text: string; exitCode: ExitCode } {
  const lines: string[] = [];
  let exitCode: ExitCode;
  if (err instanceof ApiError) {
    exitCode = exitCodeForStatus(err.status);
    const p = err.problem;
    const code = p?.code ? `code ${p.code}, HTTP ${err.status}` : `HTTP ${err.status}`;
    const detail = p ? conciseDetail(p) : describeRawBody(err.rawBody);
    // Server details often already say "cannot <do X>"; do not say it twice.
    lines.push(/^cannot /i.test(detail) ? `error: ${detail} (${code})` : `error: cannot ${err.what}: ${detail} (${code})`);
    for (const fe of p?.errors ?? []) lines.push(`  - ${fe.path || '(body)'}: ${fe.message}`);
    const hint = err.hintsByStatus[err.status] ?? genericHint(err, ctx);
    if (hint) lines.push(`  what to do: ${hint}`);
    if (exitCode === EXIT.unavailable && ctx.idempotencyKey) {
      lines.push(`  to retry safely (no duplicate is created), add: --idempotency-key ${ctx.idempotencyKey}`);
    }
    if (err.requestId) lines.push(`  request id: ${err.requestId} (quote it when asking for support)`);
  } else if (err instanceof UnreachableError) {
    exitCode = EXIT.unavailable;
    lines.push(`error: cannot ${err.what}: cannot reach the EdgeFleet API at ${err.url} (${err.reason})`);
    lines.push(`  what to do: ${UNREACHABLE_HINT}`);
    if (ctx.idempotencyKey) {
      lines.push(`  to retry safely (no duplicate is created), add: --idempotency-key ${ctx.idempotencyKey}`);
    }
  } else if (err instanceof CliError) {
    exitCode = err.exitCode;
    lines.push(`error: ${err.message}`);
    for (const h of err.hints) lines.push(`  ${h}`);
  } else {
    exitCode = EXIT.unexpected;
    const msg = err instanceof Error ? (err.stack ?? err.message) : String(err);
    lines.push(`error: unexpected failure: ${msg}`);
    lines.push('  this is a bug in the edgefleet CLI; please report it with the command you ran');
  }
  return { text: lines.join('\n') + '\n', exitCode };
}

/** The problem detail without the field errors it may repeat (they are listed below it). */
function conciseDetail(p: Problem): string {
  const detail = p.detail || p.title;
  const first = p.errors?.[0];
  if (!first) return detail;
  const at = detail.indexOf(`${first.path}: ${first.message}`);
  return at > 0 ? detail.slice(0, at).replace(/[\s:;,-]+$/, '') : detail;
}

function describeRawBody(body: string | undefined): string {
  const text = (body ?? '').replace(/\s+/g, ' ').trim();
  if (!text) return 'the API returned an error without details';
  return `unexpected response: ${text.length > 200 ? `${text.slice(0, 200)}…` : text}`;
}

/** Turns a fetch failure into a short reason an operator recognises. */
export function networkReason(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'timed out waiting for a response';
  const code = e?.cause?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host name not found';
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connection timed out';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return 'connection closed by the server';
    default:
      if (code && /CERT|SSL|TLS/i.test(code)) return `TLS error ${code}`;
      return e?.cause?.message ?? e?.message ?? 'network error';
  }
}
