/**
 * `edgefleet login`: check a URL + token against the API and save them for later commands; or,
 * given only `--url`, sign in through the identity provider in a browser (login-browser.ts).
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { configFilePath, dataDirPath, readLocalRuntime, saveConfig } from '../config.js';
import { action, addCommonOptions, examples, type CliRuntime, type Session } from '../context.js';
import { CliError, EXIT } from '../errors.js';
import { parsePositiveInt } from '../parse.js';
import { signedInConfig } from '../sign-in.js';
import { browserSignIn } from './login-browser.js';

interface LoginOptions {
  dataDir?: string;
  browser: boolean;
  port?: number;
  timeout: number;
}

/** Claims worth showing from a JWT (not verified here: the API verifies it). */
export function describeToken(token: string): { subject?: string; expiresAt?: string; roles?: string } {
  const parts = token.split('.');
  if (parts.length !== 3) return {};
  try {
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as Record<string, unknown>;
    const roleClaim = Object.entries(claims).find(([k]) => /roles?$/i.test(k))?.[1];
    return {
      subject: typeof claims.sub === 'string' ? claims.sub : undefined,
      expiresAt: typeof claims.exp === 'number' ? new Date(claims.exp * 1000).toISOString() : undefined,
      roles: roleClaim === undefined ? undefined : Array.isArray(roleClaim) ? roleClaim.join(', ') : typeof roleClaim === 'string' ? roleClaim : JSON.stringify(roleClaim),
    };
  } catch {
    return {};
  }
}

export function registerLogin(program: Command, rt: CliRuntime): void {
  addCommonOptions(
    program
      .command('login')
      .description('sign in (browser, OIDC) or save an API URL and token for later commands (checks them first)')
      .option('--data-dir <dir>', "the local runtime's data dir holding local.json (default: $EDGEFLEET_DATA_DIR or ./.edgefleet)")
      .option('--no-browser', 'print the sign-in URL instead of opening a browser (e.g. over SSH with a forwarded port)')
      .option('--port <port>', 'loopback port for the sign-in redirect (default: the one the control plane names, else any free port)', parsePositiveInt(65535))
      .option('--timeout <seconds>', 'how long to wait for the browser sign-in', parsePositiveInt(3600), 300),
  )
    .addHelpText(
      'after',
      `
With only --url (the stack output ApiUrl), login signs in through the identity provider the
control plane names at GET /v1/auth/config (Cognito managed login, or the external OIDC issuer):
authorization code flow with PKCE, the browser redirected to http://127.0.0.1:<port>/callback.
Later commands renew the access token with the saved refresh token.
Without --url/--token, login reads the URL and admin token the local runtime (\`npm start\`)
wrote to <data-dir>/local.json. The config is saved to $EDGEFLEET_CONFIG, default
~/.config/edgefleet/config.json, with mode 0600.
${examples('edgefleet login --url https://abc123.execute-api.eu-west-1.amazonaws.com', 'edgefleet login --url "$API_URL" --no-browser', 'edgefleet login', 'edgefleet login --data-dir /srv/edgefleet', 'edgefleet login --url https://api.example.com --token "$JWT" --project shops')}`,
    )
    .action(
      action<LoginOptions>(rt, async (s, o) => {
        const env = s.io.env;
        const dataDir = dataDirPath(env, s.io.cwd, o.dataDir);
        const localPath = join(dataDir, 'local.json');
        // An explicit --data-dir means "that runtime"; otherwise flags, then env, then local.json.
        const local = !s.flags.url || !s.flags.token ? readLocalRuntime(dataDir) : undefined;
        const fromDir = o.dataDir !== undefined;
        // Only a URL (not the local runtime's): sign in through the identity provider.
        const bare = (u: string | undefined) => u?.replace(/\/+$/, '');
        if (s.flags.url && !s.flags.token && !env.EDGEFLEET_TOKEN && !fromDir && bare(local?.url) !== bare(s.flags.url)) {
          await signInWithBrowser(s, bare(s.flags.url)!, o);
          return;
        }
        const url = s.flags.url ?? (fromDir ? local?.url : (env.EDGEFLEET_URL ?? local?.url));
        const token = s.flags.token ?? (fromDir ? local?.adminToken : (env.EDGEFLEET_TOKEN ?? local?.adminToken));
        if (!url || !token) {
          throw new CliError(`no ${!url && !token ? 'API URL and token' : !url ? 'API URL' : 'API token'} to log in with`, EXIT.auth, [
            `looked in: --url/--token, ${fromDir ? '' : 'EDGEFLEET_URL/EDGEFLEET_TOKEN, '}${localPath}`,
            'what to do: start the local runtime with `npm start` (it writes local.json), or pass --url and --token',
          ]);
        }
        const project = s.flags.project ?? env.EDGEFLEET_PROJECT;
        const client = s.makeClient(url.replace(/\/+$/, ''), token, project ?? 'default');
        await client.get('/v1/hosts', {
          what: `log in to ${client.url}`,
          query: { limit: 1 },
          hints: { 401: 'the token was refused: check it, or restart the local runtime and run `edgefleet login` again' },
        });
        const path = configFilePath(env);
        saveConfig(path, { url: client.url, token, ...(project ? { project } : {}), savedAt: new Date().toISOString() });
        const who = describeToken(token);
        if (s.out.isJson) {
          s.out.json({ url: client.url, project: project ?? 'default', subject: who.subject, expiresAt: who.expiresAt, config: path });
          return;
        }
        s.out.line(`Logged in to ${client.url} as ${who.subject ?? '(token without a subject)'}${who.roles ? ` (roles ${who.roles})` : ''}, project ${project ?? 'default'}.`);
        if (who.expiresAt) s.out.line(`The token expires ${who.expiresAt}.`);
        s.out.line(`Saved to ${path} (mode 0600).`);
      }),
    );
}

async function signInWithBrowser(s: Session, url: string, o: LoginOptions): Promise<void> {
  const project = s.flags.project ?? s.io.env.EDGEFLEET_PROJECT;
  const { config, discovery, tokens } = await browserSignIn(s, url, { browser: o.browser, port: o.port, timeoutMs: o.timeout * 1000 });
  const client = s.makeClient(url, tokens.accessToken, project ?? 'default');
  await client.get('/v1/hosts', {
    what: `check the sign-in at ${client.url}`,
    query: { limit: 1 },
    hints: {
      401: `the API refused the new access token: its JWT authorizer must trust ${config.issuer} with audience ${config.clientId} (redeploy the stack if the issuer changed)`,
      403: `you are signed in but have no role in project ${project ?? 'default'}: ask an administrator to add your user to the group ${project ?? 'default'}:viewer (or :operator, :admin)`,
    },
  });
  const path = configFilePath(s.io.env);
  const signIn = { issuer: config.issuer, clientId: config.clientId, tokenEndpoint: discovery.token_endpoint, refreshToken: tokens.refreshToken };
  saveConfig(path, signedInConfig({ url: client.url, project }, tokens, signIn, new Date()));
  const who = describeToken(tokens.accessToken);
  const subject = who.subject ?? '(token without a subject)';
  if (s.out.isJson) {
    s.out.json({ url: client.url, project: project ?? 'default', issuer: config.issuer, subject, expiresAt: who.expiresAt, refreshable: Boolean(tokens.refreshToken), config: path });
    return;
  }
  s.out.line(`Signed in to ${client.url} through ${config.issuer} as ${subject}${who.roles ? ` (roles ${who.roles})` : ''}, project ${project ?? 'default'}.`);
  if (who.expiresAt) s.out.line(`The access token expires ${who.expiresAt}; ${tokens.refreshToken ? 'later commands renew it with the saved refresh token.' : 'the identity provider gave no refresh token: run `edgefleet login --url` again then.'}`);
  s.out.line(`Saved to ${path} (mode 0600).`);
}
