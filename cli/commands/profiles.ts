/** `edgefleet profiles`: cluster profiles (OS + Kubernetes + layers) and their versions. */
import { InvalidArgumentError, type Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { createProfileVersionBody, type profile, type profileVersion } from '../../lambdas/contracts/api.js';
import { semver } from '../../lambdas/contracts/common.js';
import { seg } from '../client.js';
import { IDEMPOTENCY_HELP, action, addCommonOptions, addPageOptions, examples, type CliRuntime, type PageOpts, type Session } from '../context.js';
import { CliError, EXIT } from '../errors.js';
import type { Column } from '../output.js';
import { parseProfileRef } from '../parse.js';
import { readInputFile } from './hosts-import.js';

type Profile = z.infer<typeof profile>;
type ProfileVersion = z.infer<typeof profileVersion>;
type Layer = ProfileVersion['layers'][number];

const layerText = (l: Layer): string => `${l.type}:${l.pack}@${l.version}`;

const PROFILE_COLUMNS: Column<Profile>[] = [
  { header: 'NAME', value: (p) => p.name },
  { header: 'LATEST', value: (p) => p.latestVersion },
  { header: 'DESCRIPTION', value: (p) => p.description },
  { header: 'UPDATED', value: (p) => p.updatedAt },
];
const VERSION_COLUMNS: Column<ProfileVersion>[] = [
  { header: 'VERSION', value: (v) => v.version },
  { header: 'STATUS', value: (v) => v.status, status: true },
  { header: 'LAYERS', value: (v) => v.layers.map(layerText).join(' ') },
  { header: 'CREATED', value: (v) => v.createdAt },
];

/**
 * Reads a layers file (YAML or JSON): `layers: [...]` or a bare array. Returns the request body
 * for a new version, checked against the API schema; problems name the layer and field.
 */
export function parseLayersFile(text: string, file: string, version: string, publish: boolean): z.infer<typeof createProfileVersionBody> {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new CliError(`${file} is not valid YAML or JSON: ${(err as Error).message}`, EXIT.invalid);
  }
  const layers = Array.isArray(doc) ? doc : (doc as { layers?: unknown } | null)?.layers;
  if (!Array.isArray(layers)) {
    throw new CliError(`${file} must hold a list of layers, or an object with "layers:"`, EXIT.invalid, [
      'example:',
      '  layers:',
      '    - {type: os, pack: ubuntu, version: "24.04", image: "quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.5.0-k3sv1.31.2-k3s1"}',
      '    - {type: k8s, pack: k3s, version: 1.31.2}',
    ]);
  }
  // Profile variables (issue 11) sit next to the layers: `variables: [{name, type, default, required, secret, regex}]`.
  const variables = Array.isArray(doc) ? undefined : (doc as { variables?: unknown }).variables;
  const parsed = createProfileVersionBody.safeParse({ version, layers, ...(variables !== undefined ? { variables } : {}), publish: publish || undefined });
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const [head, index, ...rest] = i.path.map(String);
      const where = head === 'layers' && index !== undefined ? `layer ${Number(index) + 1}${rest.length ? ` ${rest.join('.')}` : ''}` : i.path.join('.') || 'layers';
      return `- ${where}: ${i.message}`;
    });
    throw new CliError(`${file}: the profile version is not valid; nothing was sent`, EXIT.invalid, lines);
  }
  return parsed.data;
}

function showVersion(s: Session, v: ProfileVersion): void {
  if (s.out.isJson) return s.out.json(v);
  s.out.details([
    ['Profile', v.name],
    ['Version', v.version],
    ['Status', v.status],
    ['Published', v.publishedAt],
    ['Created', `${v.createdAt} by ${v.createdBy}`],
  ]);
  s.out.line('');
  s.out.table(
    v.layers,
    [
      { header: 'TYPE', value: (l) => l.type },
      { header: 'PACK', value: (l) => l.pack },
      { header: 'VERSION', value: (l) => l.version },
      { header: 'IMAGE', value: (l) => l.image },
    ],
    '(no layers)',
  );
}

const notFound = (name: string): string => `list profiles with \`edgefleet profiles list\` (profile "${name}", check --project)`;

export function registerProfiles(program: Command, rt: CliRuntime): void {
  const profiles = program
    .command('profiles')
    .description('cluster profiles: the OS, Kubernetes and add-on layers a cluster runs')
    .addHelpText('after', examples('edgefleet profiles create edge-k3s --description "k3s on Ubuntu"', 'edgefleet profiles add-version edge-k3s --version 1.0.0 --file layers.yaml --publish'));

  addCommonOptions(
    profiles
      .command('create')
      .description('create a profile (then add versions to it)')
      .argument('<name>', 'lowercase letters, digits and "-"')
      .option('--description <text>', 'what it is for')
      .option('--idempotency-key <key>', IDEMPOTENCY_HELP),
  ).action(
    action<{ description?: string; idempotencyKey?: string }, [string]>(rt, async (s, o, name) => {
      const p = await s.client.post<Profile>('/v1/profiles', {
        what: `create profile "${name}"`,
        body: { name, description: o.description },
        idempotencyKey: s.idempotencyKey(o.idempotencyKey),
        hints: { 409: `profile "${name}" already exists; add a version with \`edgefleet profiles add-version ${name} ...\`` },
      });
      if (s.out.isJson) return s.out.json(p);
      s.out.line(`Created profile ${p.name}. Next: edgefleet profiles add-version ${p.name} --version 1.0.0 --file layers.yaml --publish`);
    }),
  );

  addCommonOptions(addPageOptions(
    profiles
      .command('list')
      .description('list profiles')),
  ).action(
    action<PageOpts>(rt, async (s, o) => {
      s.out.page(await s.client.list<Profile>('/v1/profiles', { what: 'list profiles', ...o }), PROFILE_COLUMNS, 'No profiles. Create one with `edgefleet profiles create <name>`.');
    }),
  );

  addCommonOptions(
    profiles
      .command('get')
      .description('show a profile, or one version of it with <name>@<version>')
      .argument('<name>', 'profile name, or name@version'),
  )
    .addHelpText('after', examples('edgefleet profiles get edge-k3s', 'edgefleet profiles get edge-k3s@1.0.0'))
    .action(
      action<object, [string]>(rt, async (s, _o, arg) => {
        if (arg.includes('@')) {
          const ref = parseProfileRef(arg);
          const v = await s.client.get<ProfileVersion>(`/v1/profiles/${seg(ref.name)}/versions/${seg(ref.version)}`, {
            what: `get profile version ${arg}`,
            hints: { 404: `list the versions with \`edgefleet profiles versions ${ref.name}\`` },
          });
          return showVersion(s, v);
        }
        const p = await s.client.get<Profile>(`/v1/profiles/${seg(arg)}`, { what: `get profile "${arg}"`, hints: { 404: notFound(arg) } });
        if (s.out.isJson) return s.out.json(p);
        s.out.details([
          ['Name', p.name],
          ['Description', p.description],
          ['Latest version', p.latestVersion],
          ['Project', p.project],
          ['Created', p.createdAt],
          ['Updated', p.updatedAt],
        ]);
      }),
    );

  addCommonOptions(addPageOptions(
    profiles
      .command('versions')
      .description("list a profile's versions")
      .argument('<name>', 'profile name')),
  ).action(
    action<PageOpts, [string]>(rt, async (s, o, name) => {
      const page = await s.client.list<ProfileVersion>(`/v1/profiles/${seg(name)}/versions`, { what: `list versions of profile "${name}"`, ...o });
      s.out.page(page, VERSION_COLUMNS, `Profile ${name} has no versions yet.`);
    }),
  );

  addCommonOptions(
    profiles
      .command('add-version')
      .description('add a version to a profile from a layers file (YAML or JSON)')
      .argument('<name>', 'profile name')
      .requiredOption('--version <semver>', 'the new version, e.g. 1.2.0', (v) => {
        if (!semver.safeParse(v).success) throw new InvalidArgumentError('expected a semantic version such as 1.2.0');
        return v;
      })
      .requiredOption('--file <path>', 'YAML/JSON holding `layers: [...]` or a list of layers')
      .option('--publish', 'publish it at once (published versions are immutable and usable by clusters)')
      .option('--idempotency-key <key>', IDEMPOTENCY_HELP),
  )
    .addHelpText(
      'after',
      `
Layers file:
  layers:
    - {type: os, pack: ubuntu, version: "22.04"}
    - {type: k8s, pack: k3s, version: v1.30.4+k3s1}
    - {type: cni, pack: flannel, version: 0.25.0}
${examples('edgefleet profiles add-version edge-k3s --version 1.1.0 --file layers.yaml --publish')}`,
    )
    .action(
      action<{ version: string; file: string; publish?: boolean; idempotencyKey?: string }, [string]>(rt, async (s, o, name) => {
        const body = parseLayersFile(readInputFile(s.path(o.file), o.file), o.file, o.version, Boolean(o.publish));
        const v = await s.client.post<ProfileVersion>(`/v1/profiles/${seg(name)}/versions`, {
          what: `add version ${o.version} to profile "${name}"`,
          body,
          idempotencyKey: s.idempotencyKey(o.idempotencyKey),
          hints: { 404: notFound(name), 409: `version ${o.version} of ${name} already exists; choose a new version number` },
        });
        if (s.out.isJson) return s.out.json(v);
        s.out.line(`Added ${name}@${v.version} (${v.status}): ${v.layers.map(layerText).join(' ')}`);
        if (v.status !== 'published') s.out.line(`Publish it when ready: edgefleet profiles publish ${name} ${v.version}`);
      }),
    );

  addCommonOptions(
    profiles
      .command('publish')
      .description('publish a draft version (it becomes immutable and usable by clusters)')
      .argument('<name>', 'profile name')
      .argument('<version>', 'version to publish'),
  ).action(
    action<object, [string, string]>(rt, async (s, _o, name, version) => {
      const v = await s.client.post<ProfileVersion>(`/v1/profiles/${seg(name)}/versions/${seg(version)}/publish`, {
        what: `publish ${name}@${version}`,
        hints: { 404: `list the versions with \`edgefleet profiles versions ${name}\`` },
      });
      if (s.out.isJson) return s.out.json(v);
      s.out.line(`Published ${name}@${version}.`);
    }),
  );
}
