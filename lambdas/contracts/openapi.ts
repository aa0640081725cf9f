import { z } from 'zod';
import * as api from './api.js';
import * as grants from './troubleshoot-grants.js';
import * as tunnels from './tunnels.js';
import { authConfig } from './auth-config.js';
import { deviceRegisterBody, deviceRegisterResponse } from './device.js';
import { listQuery, page, problem } from './common.js';
import * as alerts from './alerts.js';
import * as templates from './templates.js';
import * as rollouts from './rollouts.js';
import { createDiagnosticsBody, diagnosticsList, diagnosticsView } from './diagnostics.js';
import { API_ROUTES, routeKey } from './routes.js';

interface Doc {
  readonly summary: string;
  readonly body?: z.ZodType;
  readonly query?: z.ZodObject;
  readonly response?: z.ZodType;
  /** A non-JSON response body: its media type (a string schema). */
  readonly text?: string;
  readonly status?: number;
  /** Another success answer of the same route (e.g. a dry run's 200 beside the 202). */
  readonly also?: { readonly status: number; readonly response: z.ZodType; readonly description: string };
}

/** What each route takes and returns; a test keeps this in step with the route table. */
export const ROUTE_DOCS: Readonly<Record<string, Doc>> = {
  'GET /healthz': { summary: 'Liveness check' },
  'GET /v1/openapi.json': { summary: 'This document' },
  'GET /v1/auth/config': { summary: 'How operators sign in (OIDC issuer, CLI client id, scopes): read by `edgefleet login --url`', response: authConfig },
  'POST /v1/registration-tokens': { summary: 'Create a registration token (the secret is returned once)', body: api.createTokenBody, response: api.registrationToken, status: 201 },
  'GET /v1/registration-tokens': { summary: 'List registration tokens', query: listQuery, response: api.tokenPage },
  'GET /v1/registration-tokens/{id}': { summary: 'Get a registration token', response: api.registrationToken },
  'DELETE /v1/registration-tokens/{id}': { summary: 'Revoke a registration token', response: api.registrationToken },
  'POST /v1/alert-rules': { summary: 'Create an alert rule (a webhook rule\'s HMAC key is returned once, as `secret`)', body: alerts.createAlertRuleBody, response: alerts.alertRule, status: 201 },
  'GET /v1/alert-rules': { summary: 'List alert rules', query: listQuery, response: page(alerts.alertRule) },
  'GET /v1/alert-rules/{ruleId}': { summary: 'Get an alert rule', response: alerts.alertRule },
  'DELETE /v1/alert-rules/{ruleId}': { summary: 'Delete an alert rule and its webhook key', status: 204 },
  'POST /v1/user-data': { summary: 'Render the Kairos #cloud-config for a site (text/cloud-config)', body: api.userDataBody },
  'POST /v1/hosts': { summary: 'Pre-register a host', body: api.createHostBody, response: api.host, status: 201 },
  'POST /v1/hosts/batch': { summary: 'Pre-register up to 10,000 hosts', body: api.batchHostsBody, response: api.batchHostsResult },
  'GET /v1/hosts': { summary: 'List hosts', query: api.listHostsQuery, response: api.hostPage },
  'GET /v1/hosts/{hostId}': { summary: 'Get a host', response: api.host },
  'PATCH /v1/hosts/{hostId}': { summary: 'Change a host (name, site, tags)', body: api.patchHostBody, response: api.host },
  'DELETE /v1/hosts/{hostId}': { summary: 'Delete a host, or decommission an approved one', response: api.host },
  'POST /v1/hosts/{hostId}/approve': { summary: 'Approve a pending host', body: api.approveHostBody, response: api.host },
  'POST /v1/hosts/{hostId}/reject': { summary: 'Reject a pending host', body: api.rejectHostBody, response: api.host },
  'POST /v1/hosts/{hostId}/agent-update': {
    summary: "Move a host's agent to the published version (operator): 202 with the agent-update operation; it ends succeeded when the host reports the new version, failed with the reason (refused download, fell back to the previous version and why, deadline passed)",
    body: api.agentUpdateBody, response: api.operation, status: 202,
  },
  'POST /v1/hosts/{hostId}/decommission': { summary: 'Decommission a host: revoke its certificate and delete its IoT thing (the record stays until DELETE)', body: api.decommissionHostBody, response: api.host },
  'POST /v1/hosts/{hostId}/tunnels': { summary: 'Open a remote-shell tunnel (AWS IoT Secure Tunneling) to a host; needs hosts:troubleshoot; the source access token is returned once (202 without it while the project requires approval)', body: tunnels.openTunnelBody, response: tunnels.openedTunnel, status: 201 },
  'GET /v1/hosts/{hostId}/tunnels': { summary: "A host's tunnels, newest first (an expired one shows closed: expired)", query: tunnels.listTunnelsQuery, response: tunnels.tunnelList },
  'DELETE /v1/hosts/{hostId}/tunnels/{tunnelId}': { summary: 'Close a tunnel: both sides are disconnected and the temporary user removed', response: tunnels.tunnel },
  'POST /v1/hosts/{hostId}/tunnels/{tunnelId}/approve': { summary: "Approve a pending tunnel request (second-person approval): an admin, or an operator holding a troubleshoot grant, never the requester; nothing opens and no token is returned: the requester starts it", response: tunnels.tunnel },
  'POST /v1/hosts/{hostId}/tunnels/{tunnelId}/start': { summary: 'The requester opens their approved tunnel; the source access token is returned once, to them only', response: tunnels.openedTunnel, status: 201 },
  'GET /v1/troubleshoot-settings': { summary: "The project's remote-shell settings (approval: required | none)", response: grants.troubleshootSettings },
  'PATCH /v1/troubleshoot-settings': { summary: 'Require (or not) a second person to approve every tunnel in the project (admin)', body: grants.troubleshootSettings, response: grants.troubleshootSettings },
  'POST /v1/troubleshoot-grants': { summary: 'Grant remote shell (hosts:troubleshoot) in this project to a token subject, optionally until a time (admin)', body: grants.createGrantBody, response: grants.troubleshootGrant, status: 201 },
  'GET /v1/troubleshoot-grants': { summary: "The project's troubleshoot grants (admin)", query: listQuery, response: grants.grantList },
  'DELETE /v1/troubleshoot-grants/{grantId}': { summary: "Revoke a troubleshoot grant: the holder's open tunnels in the project close at once (reason revoked) and their temporary users are removed (admin)", response: grants.revokedGrant },
  'POST /v1/profiles': { summary: 'Create a cluster profile', body: api.createProfileBody, response: api.profile, status: 201 },
  'GET /v1/profiles': { summary: 'List cluster profiles', query: listQuery, response: api.profilePage },
  'GET /v1/profiles/{name}': { summary: 'Get a cluster profile', response: api.profile },
  'POST /v1/profiles/{name}/versions': { summary: 'Add a profile version (layers); publish makes it immutable', body: api.createProfileVersionBody, response: api.profileVersion, status: 201 },
  'GET /v1/profiles/{name}/versions': { summary: 'List profile versions, newest first', query: listQuery, response: api.profileVersionPage },
  'GET /v1/profiles/{name}/versions/{version}': { summary: 'Get a profile version', response: api.profileVersion },
  'POST /v1/profiles/{name}/versions/{version}/publish': { summary: 'Publish a draft profile version', response: api.profileVersion },
  'POST /v1/clusters': { summary: 'Create a cluster: claim its hosts and start the create-cluster workflow (follow operationId)', body: api.createClusterBody, response: api.cluster, status: 202 },
  'GET /v1/clusters': { summary: 'List clusters', query: listQuery, response: api.clusterPage },
  'GET /v1/clusters/{clusterId}': { summary: 'Get a cluster', response: api.cluster },
  'GET /v1/clusters/{clusterId}/kubeconfig': {
    summary: "The cluster's admin kubeconfig (application/yaml; admin only, audited): fetched from the init node once after the create, kept in the secret store; 409 kubeconfig-not-ready until then",
    text: 'application/yaml',
  },
  'DELETE /v1/clusters/{clusterId}': { summary: 'Delete a cluster: reset every host (statereset), release the hosts, remove the cluster (follow operationId)', response: api.cluster, status: 202 },
  'POST /v1/clusters/{clusterId}/scale': { summary: 'Scale a pool out (add approved hosts) or in (drain, remove and reset hosts)', body: api.scaleClusterBody, response: api.cluster, status: 202 },
  'POST /v1/clusters/{clusterId}/reconfigure': { summary: 'Move the cluster to another profile version when every change is a restart, reload or no-op (repaves and reboots go through upgrades)', body: api.reconfigureClusterBody, response: api.cluster, status: 202 },
  'POST /v1/clusters/{clusterId}/upgrades': {
    summary: 'Start a rolling upgrade to another version of the cluster profile (per-node plan, zero downtime for ≥ 2 nodes); with dryRun: true, answer 200 with the plan and start nothing',
    body: api.createUpgradeBody, response: api.operation, status: 202,
    also: { status: 200, response: api.upgradePreview, description: 'The dry run: the plan, the node order and whether the upgrade would start (nothing changed)' },
  },
  'GET /v1/clusters/{clusterId}/upgrades/{upgradeId}': { summary: 'An upgrade: its plan and each node\'s state', response: api.operation },
  'POST /v1/clusters/{clusterId}/upgrades/{upgradeId}/pause': { summary: 'Pause an upgrade after the node in progress', response: api.operation },
  'POST /v1/clusters/{clusterId}/upgrades/{upgradeId}/resume': { summary: 'Resume a paused upgrade from each node\'s real state', response: api.operation, status: 202 },
  'POST /v1/clusters/{clusterId}/upgrades/{upgradeId}/cancel': { summary: 'Cancel an upgrade (nodes already upgraded stay upgraded; the cluster is degraded until it is consistent)', response: api.operation },
  'POST /v1/clusters/{clusterId}/detach': { summary: 'Detach a cluster from its template (it keeps running; no rollout of the template reaches it)', body: templates.detachClusterBody, response: api.cluster },
  'POST /v1/cluster-templates': { summary: 'Create a cluster template (profile or version channel, variables, topology rules, selector, upgrade policy)', body: templates.createTemplateBody, response: templates.clusterTemplate, status: 201 },
  'GET /v1/cluster-templates': { summary: 'List cluster templates', query: listQuery, response: page(templates.clusterTemplate) },
  'GET /v1/cluster-templates/{templateId}': { summary: 'Get a cluster template (secret variables masked)', response: templates.clusterTemplate },
  'PATCH /v1/cluster-templates/{templateId}': { summary: 'Change a cluster template (what it builds next; attached clusters are unchanged)', body: templates.patchTemplateBody, response: templates.clusterTemplate },
  'DELETE /v1/cluster-templates/{templateId}': { summary: 'Delete a cluster template (refused while clusters are attached, unless ?detach=true)', query: templates.deleteTemplateQuery, response: z.object({ detached: z.array(z.string()) }) },
  'GET /v1/sites': { summary: 'Sites: hosts seen, the template that matches, the cluster, or why there is none yet', query: templates.listSitesQuery, response: page(templates.siteStatus) },
  'PATCH /v1/sites/{site}': { summary: "Set a site's IANA time zone: maintenance windows of rollouts are evaluated in it", body: rollouts.patchSiteBody, response: rollouts.siteSettings },
  'POST /v1/rollouts': { summary: 'Roll a profile version out over many clusters (a template\'s, cluster ids, or a site/tag selector): canary wave, growing waves, abort thresholds, windows, deferral', body: rollouts.createRolloutBody, response: rollouts.rolloutView, status: 202 },
  'GET /v1/rollouts': { summary: 'List rollouts, newest first', query: rollouts.listRolloutsQuery, response: page(rollouts.rolloutView) },
  'GET /v1/rollouts/{rolloutId}': { summary: 'A rollout: counts per state and per wave, ETA, failed and deferred clusters with their reasons', response: rollouts.rolloutView },
  'GET /v1/rollouts/{rolloutId}/clusters': { summary: "A rollout's target clusters with their state and reason", query: rollouts.listRolloutTargetsQuery, response: page(rollouts.rolloutTarget) },
  'POST /v1/rollouts/{rolloutId}/pause': { summary: 'Pause: running cluster upgrades finish, no new one starts', body: rollouts.rolloutActionBody, response: rollouts.rolloutView },
  'POST /v1/rollouts/{rolloutId}/resume': { summary: 'Resume a paused rollout', body: rollouts.rolloutActionBody, response: rollouts.rolloutView },
  'POST /v1/rollouts/{rolloutId}/cancel': { summary: 'Cancel: running cluster upgrades finish, no new one starts; the rollout ends cancelled', body: rollouts.rolloutActionBody, response: rollouts.rolloutView },
  'POST /v1/rollouts/{rolloutId}/promote': { summary: 'Promote past the canary wave (policy promotion: manual)', body: rollouts.rolloutActionBody, response: rollouts.rolloutView },
  'GET /v1/operations': { summary: 'List operations', query: api.listOperationsQuery, response: api.operationPage },
  'GET /v1/operations/{operationId}': { summary: 'Get an operation', response: api.operation },
  'GET /v1/audit-events': { summary: 'List audit events', query: api.listAuditQuery, response: api.auditPage },
  'POST /v1/hosts/{hostId}/diagnostics': {
    summary: 'Ask a host for a diagnostics bundle (journals over the window, Kairos state, disk, network, Kubernetes; secrets redacted on the host): 202, then follow GET …/diagnostics/{id}',
    body: createDiagnosticsBody, response: diagnosticsView, status: 202,
  },
  'GET /v1/hosts/{hostId}/diagnostics': { summary: "A host's diagnostics requests with their state, newest first (at most 50; `more` when it has more); no download URL: GET one for it", response: diagnosticsList },
  'GET /v1/hosts/{hostId}/diagnostics/{diagnosticsId}': { summary: 'A diagnostics request: requested, collecting, uploaded (with a short-lived download URL, audited) or failed with the reason', response: diagnosticsView },
  'POST /v1/device/register': { summary: 'Device registration (registration token, uid, CSR): 200 approved with its certificate, 202 pending approval', body: deviceRegisterBody, response: deviceRegisterResponse },
};

const json = (s: z.ZodType) => z.toJSONSchema(s, { unrepresentable: 'any', io: 'input' });

/** OpenAPI 3.1 document generated from the route table and the zod schemas. */
export function buildOpenApi(version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of API_ROUTES) {
    const doc = ROUTE_DOCS[routeKey(r)];
    if (!doc) continue;
    const params = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const query = doc.query ? Object.keys(doc.query.shape).map((name) => ({ name, in: 'query', required: false, schema: json((doc.query!.shape as Record<string, z.ZodType>)[name]!) })) : [];
    paths[r.path] ??= {};
    paths[r.path]![r.method.toLowerCase()] = {
      summary: doc.summary,
      ...(r.auth === 'jwt' ? { security: [{ bearer: [] }] } : { security: [] }),
      parameters: [...params, ...query, ...(r.auth === 'jwt' ? [{ name: 'x-edgefleet-project', in: 'header', required: false, schema: { type: 'string', default: 'default' } }] : [])],
      ...(doc.body ? { requestBody: { required: true, content: { 'application/json': { schema: json(doc.body) } } } } : {}),
      responses: {
        [String(doc.status ?? 200)]: {
          description: 'Success',
          ...(doc.response ? { content: { 'application/json': { schema: json(doc.response) } } } : {}),
          ...(doc.text ? { content: { [doc.text]: { schema: { type: 'string' } } } } : {}),
        },
        ...(doc.also ? { [String(doc.also.status)]: { description: doc.also.description, content: { 'application/json': { schema: json(doc.also.response) } } } } : {}),
        default: { description: 'Problem', content: { 'application/problem+json': { schema: json(problem) } } },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'EdgeFleet API', version },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    paths,
  };
}
