/** `edgefleet tokens`: registration tokens that edge hosts use to register themselves. */
import type { Command } from 'commander';
import type { z } from 'zod';
import type { createTokenBody, registrationToken } from '../../lambdas/contracts/api.js';
import { seg } from '../client.js';
import { IDEMPOTENCY_HELP, action, addCommonOptions, addPageOptions, examples, type CliRuntime, type PageOpts, type Session } from '../context.js';
import { formatTags, type Column } from '../output.js';
import { collectTags, parseExpiry, parsePositiveInt, type Tags } from '../parse.js';

type Token = z.infer<typeof registrationToken>;

export function tokenState(t: Token, now = Date.now()): string {
  if (t.revoked) return 'revoked';
  if (Date.parse(t.expiresAt) <= now) return 'expired';
  if (t.maxUses !== undefined && t.uses >= t.maxUses) return 'used-up';
  return 'active';
}

const COLUMNS: Column<Token>[] = [
  { header: 'ID', value: (t) => t.id },
  { header: 'NAME', value: (t) => t.name },
  { header: 'STATE', value: (t) => tokenState(t), status: true },
  { header: 'SITE', value: (t) => t.site },
  { header: 'USES', value: (t) => (t.maxUses !== undefined ? `${t.uses}/${t.maxUses}` : String(t.uses)) },
  { header: 'EXPIRES', value: (t) => t.expiresAt },
  { header: 'AUTO-APPROVE', value: (t) => (t.autoApprove ? 'yes' : 'no') },
  { header: 'TAGS', value: (t) => formatTags(t.tags) },
];

function showToken(s: Session, t: Token): void {
  s.out.details([
    ['ID', t.id],
    ['Name', t.name],
    ['State', tokenState(t)],
    ['Site', t.site],
    ['Tags', formatTags(t.tags)],
    ['Uses', t.maxUses !== undefined ? `${t.uses} of ${t.maxUses}` : String(t.uses)],
    ['Expires', t.expiresAt],
    ['Auto-approve', t.autoApprove ? 'yes' : 'no'],
    ['Re-registration', t.allowReregistration ? 'allowed' : 'not allowed'],
    ['Project', t.project],
    ['Created', `${t.createdAt} by ${t.createdBy}`],
  ]);
}

interface CreateOpts {
  name: string;
  expiresAt?: string;
  maxUses?: number;
  autoApprove?: boolean;
  allowReregistration?: boolean;
  site?: string;
  tag?: Tags;
  idempotencyKey?: string;
}

export function buildTokenBody(o: CreateOpts): z.input<typeof createTokenBody> {
  return {
    name: o.name,
    expiresAt: o.expiresAt,
    maxUses: o.maxUses,
    autoApprove: o.autoApprove || undefined,
    allowReregistration: o.allowReregistration || undefined,
    site: o.site,
    tags: o.tag,
  };
}

export function registerTokens(program: Command, rt: CliRuntime): void {
  const tokens = program
    .command('tokens')
    .description('registration tokens: what an edge host presents to register itself')
    .addHelpText('after', examples('edgefleet tokens create --name shop-12 --site shop-12 --expires-at 30d', 'edgefleet tokens list'));

  addCommonOptions(
    tokens
      .command('create')
      .description('create a registration token (the secret is printed once)')
      .requiredOption('--name <name>', 'a name for people, e.g. the site or the rollout wave')
      .option('--expires-at <time>', 'ISO time, or a duration from now such as 30d (server default if omitted)', (v) => parseExpiry(v))
      .option('--max-uses <n>', 'how many hosts may register with it', parsePositiveInt(100_000))
      .option('--auto-approve', 'hosts registering with it are approved without review')
      .option('--allow-reregistration', 'a re-installed host with the same hardware id may register again')
      .option('--site <site>', 'site given to hosts that register with it')
      .option('--tag <key=value>', 'tag given to hosts that register with it (repeatable)', collectTags)
      .option('--idempotency-key <key>', IDEMPOTENCY_HELP),
  )
    .addHelpText('after', examples('edgefleet tokens create --name shop-12 --site shop-12 --max-uses 3 --expires-at 7d --tag env=prod'))
    .action(
      action<CreateOpts>(rt, async (s, o) => {
        const t = await s.client.post<Token>('/v1/registration-tokens', {
          what: `create registration token "${o.name}"`,
          body: buildTokenBody(o),
          idempotencyKey: s.idempotencyKey(o.idempotencyKey),
        });
        if (s.out.isJson) {
          s.out.json(t);
          s.out.note('note: the "token" value is shown only once; store it now.');
          return;
        }
        s.out.line(`Created registration token ${t.id} ("${t.name}"), expires ${t.expiresAt}.`);
        s.out.line('');
        s.out.line(`  Token: ${t.token ?? '(not returned: it may have been created by an earlier run with this idempotency key)'}`);
        s.out.line('');
        s.out.line('This token is shown only once and cannot be retrieved later: store it now (e.g. in your');
        s.out.line(`provisioning secrets). If it is lost, revoke it (edgefleet tokens revoke ${t.id}) and create another.`);
        s.out.line(`Next: edgefleet user-data --site ${t.site ?? '<site>'} --token <the token above> --out user-data.yaml`);
      }),
    );

  addCommonOptions(addPageOptions(
    tokens
      .command('list')
      .description('list registration tokens (secrets are never shown)')),
  ).action(
    action<PageOpts>(rt, async (s, o) => {
      const page = await s.client.list<Token>('/v1/registration-tokens', { what: 'list registration tokens', ...o });
      s.out.page(page, COLUMNS, 'No registration tokens. Create one with `edgefleet tokens create --name <name>`.');
    }),
  );

  addCommonOptions(tokens.command('get').description('show one registration token').argument('<id>', 'token id')).action(
    action<object, [string]>(rt, async (s, _o, id) => {
      const t = await s.client.get<Token>(`/v1/registration-tokens/${seg(id)}`, {
        what: `get registration token "${id}"`,
        hints: { 404: 'list tokens with `edgefleet tokens list` (and check --project)' },
      });
      if (s.out.isJson) s.out.json(t);
      else showToken(s, t);
    }),
  );

  addCommonOptions(
    tokens
      .command('revoke')
      .description('revoke a registration token: hosts can no longer register with it')
      .argument('<id>', 'token id'),
  ).action(
    action<object, [string]>(rt, async (s, _o, id) => {
      const res = await s.client.delete<Token | undefined>(`/v1/registration-tokens/${seg(id)}`, {
        what: `revoke registration token "${id}"`,
        hints: { 404: 'list tokens with `edgefleet tokens list` (and check --project)' },
      });
      if (s.out.isJson) s.out.json(res ?? { id, revoked: true });
      else s.out.line(`Revoked registration token ${id}. Hosts already registered with it are not affected.`);
    }),
  );
}
