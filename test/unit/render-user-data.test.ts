import { parse } from 'yaml';
import { UnprocessableError } from '../../lambdas/domain/errors.js';
import { formatToken, hashSecret } from '../../lambdas/domain/registration-token.js';
import type { TokenRecord } from '../../lambdas/domain/model.js';
import type { AgentSigningKey } from '../../lambdas/ports/agent-artifacts.js';
import type { Deps, RequestContext } from '../../lambdas/use-cases/context.js';
import { createUserData } from '../../lambdas/use-cases/render-user-data.js';

const SECRET = 'c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0';
const TOKEN: TokenRecord = {
  id: 'tok00001', project: 'default', name: 't', secretHash: hashSecret(SECRET), expiresAt: '2099-01-01T00:00:00.000Z', uses: 0,
  autoApprove: false, allowReregistration: false, revoked: false, createdAt: '2026-01-01T00:00:00.000Z', createdBy: 'admin',
};
const CTX: RequestContext = { principal: { subject: 'admin', roles: { default: 'admin' } }, project: 'default', requestId: 'r1' };
const KEY = '-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n';

type UserDataDeps = Deps & { agentSigning?: AgentSigningKey };

/** Only what render-user-data touches; any other dependency throws naming itself. */
function deps(agentSigning?: AgentSigningKey): { deps: UserDataDeps; audit: string[] } {
  const audit: string[] = [];
  const used: Record<string, unknown> = {
    clock: { now: () => new Date('2026-12-01T00:00:00.000Z') },
    ids: { newId: () => 'id1', secret: () => 's' },
    tokens: { get: async (id: string) => (id === TOKEN.id ? TOKEN : undefined) },
    audit: { record: async (e: { action: string; outcome: string }) => { audit.push(`${e.action}:${e.outcome}`); } },
    ...(agentSigning ? { agentSigning } : {}),
  };
  const fake = new Proxy(used, {
    get: (t, p) => (typeof p === 'string' && p in t ? t[p] : p === 'then' || p === 'agentSigning' ? undefined : () => { throw new Error(`render-user-data used deps.${String(p)}`); }),
  });
  return { deps: fake as unknown as UserDataDeps, audit };
}

describe('createUserData(): the agent install mode', () => {
  const body = { token: formatToken(TOKEN.id, SECRET), site: 'shop-1' };

  test('download (default) puts the deployment\'s signing key and the installer into the user-data', async () => {
    const { deps: d } = deps({ publicKeyPem: async () => KEY, sign: async () => new Uint8Array() });
    const doc = parse(await createUserData(d, CTX, 'https://api.example.com', body));
    const files = (doc.stages.boot as Array<{ files?: Array<{ path: string; content: string }> }>).flatMap((s) => s.files ?? []);
    expect(files.find((f) => f.path === '/oem/edgefleet/agent-signing.pub')?.content).toBe(KEY);
    expect(doc.stages.network[0].commands).toEqual(['sh /oem/edgefleet/install-agent.sh']);
  });

  test('where no signing key is wired (an AWS stack deployed without an agent build) the default is baked, and asking for download is 422 agent-artifacts-not-configured, naming baked', async () => {
    const { deps: d } = deps();
    expect(await createUserData(d, CTX, 'https://api.example.com', body)).not.toContain('install-agent.sh');
    const e = await createUserData(d, CTX, 'https://api.example.com', { ...body, agentInstall: 'download' }).then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(UnprocessableError);
    expect(e).toMatchObject({ code: 'agent-artifacts-not-configured', message: expect.stringContaining('"agentInstall": "baked"') });
  });

  test('baked needs no signing key and renders no installer', async () => {
    const { deps: d, audit } = deps();
    const text = await createUserData(d, CTX, 'https://api.example.com', { ...body, agentInstall: 'baked' });
    expect(text).not.toContain('install-agent.sh');
    expect(audit).toContain('user-data.create:success');
  });
});
