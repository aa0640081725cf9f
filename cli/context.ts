/**
 * Per-invocation state shared by the commands: the I/O the CLI was given, the global flags
 * (accepted before the command or on the command itself), lazily resolved configuration,
 * the API client, and what the error reporter needs to give concrete advice.
 */
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import type { ImageBuildRenderer } from '../lambdas/contracts/image-build.js';
import { ApiClient, type FetchFn, type TokenRenewal } from './client.js';
import { requireConnection, resolveConfig, type Env, type GlobalFlags, type ResolvedConfig } from './config.js';
import { type ErrorContext, type ExitCode, EXIT } from './errors.js';
import { FORMATS, Output, type Format } from './output.js';
import { parsePositiveInt } from './parse.js';
import { savedTokenRenewal } from './sign-in.js';

export interface CliIo {
  env: Env;
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  cwd: string;
  /** Defaults to the global fetch. */
  fetch?: FetchFn;
  /** Whether stdout is a terminal (colors). Defaults to false. */
  isTTY?: boolean;
  /** The pure image build-context renderer (lambdas/domain, which the CLI may not import: the entry point passes it). */
  imageBuild?: ImageBuildRenderer;
}

export interface CommonFlags extends GlobalFlags {
  output?: Format;
}

const LEAF_HAS_API_TOKEN = new WeakSet<Command>();

/** Adds --url/--token/--project/--output to a command, so they also work after it. */
export function addCommonOptions(cmd: Command, opts: { apiToken?: boolean } = {}): Command {
  cmd.option('--url <url>', 'EdgeFleet API URL (or EDGEFLEET_URL)');
  if (opts.apiToken !== false) {
    cmd.option('--token <jwt>', 'API token (or EDGEFLEET_TOKEN)');
    LEAF_HAS_API_TOKEN.add(cmd);
  }
  cmd.option('--project <name>', 'project (or EDGEFLEET_PROJECT; default "default")');
  cmd.addOption(new Option('-o, --output <format>', 'output format').choices(FORMATS));
  return cmd;
}

/** The flags of a paged list: --limit, --cursor, --all. */
export interface PageOpts {
  limit?: number;
  cursor?: string;
  all?: boolean;
}

/** Adds --limit/--cursor/--all (PageOpts) to a list command. */
export function addPageOptions(cmd: Command): Command {
  return cmd
    .option('--limit <n>', 'page size (max 100)', parsePositiveInt(100))
    .option('--cursor <cursor>', 'continue from a previous page')
    .option('--all', 'fetch every page');
}

function rootOf(cmd: Command): Command {
  let c = cmd;
  while (c.parent) c = c.parent;
  return c;
}

/** Global flags: the command's own value wins over one given before the command. */
export function commonFlags(cmd: Command): CommonFlags {
  const root = rootOf(cmd).opts<CommonFlags>();
  const leaf = cmd === rootOf(cmd) ? {} : cmd.opts<CommonFlags>();
  return {
    url: leaf.url ?? root.url,
    token: (LEAF_HAS_API_TOKEN.has(cmd) ? leaf.token : undefined) ?? root.token,
    project: leaf.project ?? root.project,
    output: leaf.output ?? root.output,
  };
}

export class CliRuntime {
  readonly errorContext: ErrorContext = {};
  exitCode: ExitCode = EXIT.ok;

  constructor(readonly io: CliIo) {}

  get color(): boolean {
    return Boolean(this.io.isTTY) && !this.io.env.NO_COLOR && this.io.env.TERM !== 'dumb';
  }

  session(cmd: Command): Session {
    return new Session(this, cmd, commonFlags(cmd));
  }
}

export class Session {
  readonly out: Output;
  private resolved?: ResolvedConfig;
  private apiClient?: ApiClient;

  constructor(
    private readonly rt: CliRuntime,
    readonly command: Command,
    readonly flags: CommonFlags,
  ) {
    this.out = new Output(rt.io, flags.output ?? 'table', rt.color);
  }

  get io(): CliIo {
    return this.rt.io;
  }

  get config(): ResolvedConfig {
    if (!this.resolved) {
      this.resolved = resolveConfig({ flags: this.flags, env: this.io.env, cwd: this.io.cwd });
      Object.assign(this.rt.errorContext, {
        url: this.resolved.url,
        tokenSource: this.resolved.tokenSource,
        project: this.resolved.project,
      });
    }
    return this.resolved;
  }

  get client(): ApiClient {
    if (!this.apiClient) {
      const { url, token } = requireConnection(this.config);
      const signIn = this.config.signIn;
      const renewal = signIn ? savedTokenRenewal(signIn.path, signIn.saved, this.io.fetch ?? globalThis.fetch) : undefined;
      this.apiClient = this.makeClient(url, token, this.config.project, renewal);
    }
    return this.apiClient;
  }

  makeClient(url: string, token: string, project: string, renewal?: TokenRenewal): ApiClient {
    Object.assign(this.rt.errorContext, { url, project });
    return new ApiClient({ url, token, project, fetch: this.io.fetch, renewal });
  }

  /** The Idempotency-Key for this invocation: the given one, or a fresh UUID. */
  idempotencyKey(given?: string): string {
    const key = given?.trim() || randomUUID();
    this.rt.errorContext.idempotencyKey = key;
    return key;
  }

  /** A path the operator typed, relative to the working directory. */
  path(p: string): string {
    return resolve(this.io.cwd, p);
  }

  /** Ends the command with this exit code after its output (e.g. partial import). */
  fail(code: ExitCode): void {
    this.rt.exitCode = code;
  }
}

/**
 * Wraps a command handler: commander passes `(...args, opts, command)`; the handler gets the
 * session, the command's options and its positional arguments.
 */
export function action<O, A extends string[] = string[]>(
  rt: CliRuntime,
  handler: (s: Session, opts: O, ...args: A) => Promise<void>,
): (...received: unknown[]) => Promise<void> {
  return async (...received: unknown[]) => {
    const cmd = received[received.length - 1] as Command;
    const args = received.slice(0, -2) as A;
    await handler(rt.session(cmd), cmd.opts<O & object>() as O, ...args);
  };
}

/** The examples block appended to a command's help. */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}

export const IDEMPOTENCY_HELP = 'reuse this Idempotency-Key so a retried command does not create twice (default: a fresh UUID)';
