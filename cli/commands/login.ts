/** `edgefleet login`: check a URL + token against the API and save them for later commands. */
import { join } from 'node:path';
import type { Command } from 'commander';
import { configFilePath, dataDirPath, readLocalRuntime, saveConfig } from '../config.js';
import { action, addCommonOptions, examples, type CliRuntime } from '../context.js';
import { CliError, EXIT } from '../errors.js';

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
      .description('save the API URL and token for later commands (checks them first)')
      .option('--data-dir <dir>', "the local runtime's data dir holding local.json (default: $EDGEFLEET_DATA_DIR or ./.edgefleet)"),
  )
    .addHelpText(
      'after',
      `
Without --url/--token, login reads the URL and admin token the local runtime (\`npm start\`)
wrote to <data-dir>/local.json. The config is saved to $EDGEFLEET_CONFIG, default
~/.config/edgefleet/config.json, with mode 0600.
${examples('edgefleet login', 'edgefleet login --data-dir /srv/edgefleet', 'edgefleet login --url https://api.example.com --token "$JWT" --project shops')}`,
    )
    .action(
      action<{ dataDir?: string }>(rt, async (s, o) => {
        const env = s.io.env;
        const dataDir = dataDirPath(env, s.io.cwd, o.dataDir);
        const localPath = join(dataDir, 'local.json');
        // An explicit --data-dir means "that runtime"; otherwise flags, then env, then local.json.
        const local = !s.flags.url || !s.flags.token ? readLocalRuntime(dataDir) : undefined;
        const fromDir = o.dataDir !== undefined;
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
