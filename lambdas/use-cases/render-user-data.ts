import type { z } from 'zod';
import type { userDataBody } from '../contracts/api.js';
import { UnprocessableError, ValidationError } from '../domain/errors.js';
import type { AgentSigningKey } from '../ports/agent-artifacts.js';
import { parseToken, secretMatches, usability } from '../domain/registration-token.js';
import { renderUserData } from '../domain/user-data.js';
import type { AgentGuardFiles } from '../domain/agent-install.js';
import { AGENT_LAYOUT, agentGuardScript, guardUnits } from '../contracts/agent-layout.js';
import { mutate, type Deps, type RequestContext } from './context.js';

/**
 * render-user-data: checks the registration token belongs to this project and is usable, then
 * renders the site's cloud-config. Audited: the document carries a credential.
 */
export async function createUserData(deps: Deps & { readonly agentSigning?: AgentSigningKey }, ctx: RequestContext, apiUrl: string, input: z.infer<typeof userDataBody>): Promise<string> {
  const parsed = parseToken(input.token);
  return mutate(deps, ctx, {
    action: 'user-data:create', audit: 'user-data.create', resource: `registration-token/${parsed?.id ?? 'invalid'}`,
    run: async () => {
      const bad = (why: string) => new ValidationError('invalid-token', why, { errors: [{ path: 'token', message: why }] });
      if (!parsed) throw bad('token is not an EdgeFleet registration token (eft_…); create one with POST /v1/registration-tokens');
      const t = await deps.tokens.get(parsed.id);
      if (!t || t.project !== ctx.project || !secretMatches(parsed.secret, t.secretHash)) throw bad('token does not match any registration token in this project');
      const u = usability(t, deps.clock.now());
      if (!u.ok) throw new ValidationError(u.code, u.reason, { errors: [{ path: 'token', message: u.reason }] });
      // Where the deployment publishes no signed agent (an AWS stack deployed without
      // edgefleet:agentArtifacts), the default is the image's own agent (baked); a download there is refused.
      const agentInstall = input.agentInstall ?? (deps.agentSigning ? 'download' : 'baked');
      if (agentInstall === 'download' && !deps.agentSigning) {
        throw new UnprocessableError('agent-artifacts-not-configured', 'this deployment publishes no signed agent artifacts, so the host could not download the agent: render the user-data with "agentInstall": "baked" (the default here) for an image that carries the agent, or publish the agent (npm run device:build, then deploy the stack with -c edgefleet:agentArtifacts=dist/device)');
      }
      const agentSigningKeyPem = agentInstall === 'download' ? await deps.agentSigning?.publicKeyPem() : undefined;
      return renderUserData({
        agentInstall, agentLayout: AGENT_LAYOUT, ...(agentSigningKeyPem ? { agentSigningKeyPem, agentGuard: installedAgentGuard() } : {}), ...(input.caBundle ? { caBundle: input.caBundle } : {}),
        apiUrl, registrationToken: input.token, project: ctx.project, site: input.site,
        tags: { ...(t.tags ?? {}), ...(input.tags ?? {}) },
        ...(input.hostname ? { hostname: input.hostname } : {}),
        ...(input.sshAuthorizedKeys ? { sshAuthorizedKeys: input.sshAuthorizedKeys } : {}),
        ...(input.network ? { network: input.network } : {}),
        ...(input.installDevice ? { installDevice: input.installDevice } : {}),
        ...(input.remoteAccess === false ? { remoteAccess: false } : {}),
      });
    },
    describe: () => ({ detail: `site ${input.site}` }),
  });
}

/** The guard the agent writes before an update (one definition, contracts/agent-layout.ts), for the installer to write at install. */
export function installedAgentGuard(): AgentGuardFiles {
  return { script: agentGuardScript(AGENT_LAYOUT.installDir), units: guardUnits(AGENT_LAYOUT.installDir) };
}
