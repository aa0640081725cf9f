/** `edgefleet user-data`: the #cloud-config that installs Kairos + agent and registers a host. */
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { z } from 'zod';
import type { userDataBody } from '../../lambdas/contracts/api.js';
import { action, addCommonOptions, examples, type CliRuntime } from '../context.js';
import { UsageError } from '../errors.js';
import { writePrivateFile } from '../private-file.js';
import { collectStrings, collectTags, type Tags } from '../parse.js';
import { readInputFile } from './hosts-import.js';

interface Opts {
  site: string;
  token?: string;
  tokenId?: string;
  tag?: Tags;
  sshKeyFile?: string[];
  hostname?: string;
  agentInstall?: 'download' | 'baked';
  out?: string;
}

/** Public keys from an authorized_keys-style file; refuses private keys outright. */
export function parseSshKeys(text: string, file: string): string[] {
  if (/PRIVATE KEY/.test(text)) {
    throw new UsageError(`${file} holds a PRIVATE key; pass the public key (usually the .pub file) instead`);
  }
  const keys: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    if (!/^(ssh-|ecdsa-|sk-)\S+ \S+/.test(line)) {
      throw new UsageError(`${file} line ${i + 1} is not an OpenSSH public key (expected e.g. "ssh-ed25519 AAAA… user@host")`);
    }
    keys.push(line);
  });
  if (keys.length === 0) throw new UsageError(`${file} holds no public keys`);
  return keys;
}

/** The registration token secret: --token, else EDGEFLEET_REGISTRATION_TOKEN. */
export function registrationSecret(o: Pick<Opts, 'token' | 'tokenId'>, env: Readonly<Record<string, string | undefined>>): string {
  if (o.tokenId) {
    throw new UsageError('--token-id is not supported: the API stores registration tokens hashed, so it needs the secret itself', [
      'pass --token <secret> (printed once by `edgefleet tokens create`), or set EDGEFLEET_REGISTRATION_TOKEN',
      'lost the secret? revoke the token and create a new one',
    ]);
  }
  const token = o.token?.trim() || env.EDGEFLEET_REGISTRATION_TOKEN?.trim();
  if (!token) {
    throw new UsageError('a registration token is needed', [
      'pass --token <secret> (printed once by `edgefleet tokens create`), or set EDGEFLEET_REGISTRATION_TOKEN',
    ]);
  }
  return token;
}

export function buildUserDataBody(o: Opts, token: string, sshKeys: string[]): z.input<typeof userDataBody> {
  return {
    site: o.site,
    token,
    tags: o.tag,
    hostname: o.hostname,
    sshAuthorizedKeys: sshKeys.length ? sshKeys : undefined,
    agentInstall: o.agentInstall,
  };
}

export function registerUserData(program: Command, rt: CliRuntime): void {
  addCommonOptions(
    program
      .command('user-data')
      .description('generate the #cloud-config user-data that installs a host and registers it for a site')
      .requiredOption('--site <site>', 'site the hosts are installed at')
      .option('--token <secret>', 'registration token secret to embed, from `tokens create` (or EDGEFLEET_REGISTRATION_TOKEN)')
      .addOption(new Option('--token-id <id>').hideHelp())
      .option('--tag <key=value>', 'tag hosts get at registration (repeatable)', collectTags)
      .option('--ssh-key-file <file>', 'OpenSSH public key(s) allowed to log in (repeatable)', collectStrings)
      .option('--hostname <name>', 'hostname to set (single-host user-data)', (v) => {
        if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(v)) throw new InvalidArgumentError('lowercase letters, digits and "-"');
        return v;
      })
      .addOption(new Option('--agent-install <mode>', 'download: the host fetches, verifies and installs the agent from the control plane (the default where it publishes one); baked: the image carries it (the default elsewhere)').choices(['download', 'baked']))
      .option('--out <file>', 'write to this file (mode 0600) instead of stdout'),
    { apiToken: false },
  )
    .addHelpText(
      'after',
      `
Here --token is the REGISTRATION token embedded in the user-data. The API token for this
command comes from EDGEFLEET_TOKEN, \`edgefleet login\`, or --token placed before the command:
  edgefleet --token <api-jwt> user-data --site shop-12 --token <registration-secret>
Prefer EDGEFLEET_REGISTRATION_TOKEN to --token: command lines are visible to other users.

The output contains a registration secret: keep the file private.
${examples(
  'EDGEFLEET_REGISTRATION_TOKEN=eft_... edgefleet user-data --site shop-12 --ssh-key-file ~/.ssh/id_ed25519.pub --out user-data.yaml',
  'edgefleet user-data --site shop-12 --token "$REG_TOKEN" --tag env=prod > user-data.yaml',
)}`,
    )
    .action(
      action<Opts>(rt, async (s, o) => {
        const token = registrationSecret(o, s.io.env);
        const keys = (o.sshKeyFile ?? []).flatMap((f) => parseSshKeys(readInputFile(s.path(f), f), f));
        const text = await s.client.request<string>('POST', '/v1/user-data', {
          what: `generate user-data for site "${o.site}"`,
          body: buildUserDataBody(o, token, keys),
          responseType: 'text',
        });
        if (o.out) {
          const path = s.path(o.out);
          writePrivateFile(path, text, o.out);
          s.out.note(`Wrote user-data for site ${o.site} to ${o.out} (mode 0600: it contains a registration secret).`);
          if (s.out.isJson) s.out.json({ site: o.site, file: path, bytes: Buffer.byteLength(text) });
          return;
        }
        if (s.out.isJson) s.out.json({ site: o.site, cloudConfig: text });
        else s.io.stdout(text.endsWith('\n') ? text : `${text}\n`);
      }),
    );
}
