import type { z } from 'zod';
import type { createTokenBody } from '../contracts/api.js';
import { NotFoundError, ValidationError } from '../domain/errors.js';
import type { TokenRecord } from '../domain/model.js';
import { formatToken, hashSecret, resolveExpiry } from '../domain/registration-token.js';
import type { Page, PageRequest } from '../ports/index.js';
import { mutate, read, visible, type Deps, type RequestContext } from './context.js';

export type TokenView = Omit<TokenRecord, 'secretHash'> & { token?: string };

const view = ({ secretHash: _hidden, ...rest }: TokenRecord): TokenView => rest;
const notFound = (id: string) => () => new NotFoundError('token-not-found', `registration token ${id} does not exist in this project`);

/** create-registration-token: the secret is returned once and stored only as a hash. */
export async function createRegistrationToken(deps: Deps, ctx: RequestContext, input: z.infer<typeof createTokenBody>): Promise<TokenView> {
  return mutate(deps, ctx, {
    action: 'tokens:create', audit: 'registration-token.create', resource: 'registration-token/*',
    run: async () => {
      const now = deps.clock.now();
      const expiry = resolveExpiry(input.expiresAt, now);
      if (!expiry.ok) throw new ValidationError('invalid-expiry', expiry.reason, { errors: [{ path: 'expiresAt', message: expiry.reason }] });
      const id = deps.ids.newId();
      const secret = deps.ids.secret(32);
      const record: TokenRecord = {
        id, project: ctx.project, name: input.name, secretHash: hashSecret(secret), expiresAt: expiry.expiresAt,
        ...(input.maxUses !== undefined ? { maxUses: input.maxUses } : {}),
        uses: 0, autoApprove: input.autoApprove ?? false, allowReregistration: input.allowReregistration ?? false,
        ...(input.site ? { site: input.site } : {}), ...(input.tags ? { tags: input.tags } : {}),
        revoked: false, createdAt: now.toISOString(), createdBy: ctx.principal.subject,
      };
      await deps.tokens.create(record);
      return { ...view(record), token: formatToken(id, secret) };
    },
    describe: (t) => ({ resource: `registration-token/${t.id}`, detail: t.name }),
  });
}

export async function getRegistrationToken(deps: Deps, ctx: RequestContext, id: string): Promise<TokenView> {
  read(ctx, 'tokens:read');
  return view(visible(ctx, await deps.tokens.get(id), notFound(id)));
}

export async function listRegistrationTokens(deps: Deps, ctx: RequestContext, page: PageRequest): Promise<Page<TokenView>> {
  read(ctx, 'tokens:read');
  const out = await deps.tokens.list(ctx.project, page);
  return { ...out, items: out.items.map(view) };
}

/** revoke-registration-token: idempotent; a revoked token can never be used again. */
export async function revokeRegistrationToken(deps: Deps, ctx: RequestContext, id: string): Promise<TokenView> {
  return mutate(deps, ctx, {
    action: 'tokens:revoke', audit: 'registration-token.revoke', resource: `registration-token/${id}`,
    run: async () => {
      visible(ctx, await deps.tokens.get(id), notFound(id));
      const revoked = await deps.tokens.revoke(id);
      if (!revoked) throw notFound(id)();
      return view(revoked);
    },
  });
}
