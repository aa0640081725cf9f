#!/usr/bin/env node
/**
 * CDK app entry (`cdk.json`: `npx tsx bin/app.ts`). Context: `edgefleet:stackName` (default
 * `EdgeFleet`), `edgefleet:jwtIssuer` + `edgefleet:jwtAudience` (external issuer), and
 * `edgefleet:skipBundling=true` for a quick synth without esbuild and without the console build
 * (the CLI refuses `-c aws:…`; otherwise it builds the web console first when console/dist is missing), and
 * `edgefleet:agentArtifacts=dist/device` to publish and sign an agent build (`npm run device:build`).
 */
import { App } from 'aws-cdk-lib';
import { CONTEXT_KEYS, EdgeFleetStack } from '../lib/edgefleet-stack.js';
import { addNagChecks } from '../lib/nag.js';
import { ensureConsoleBuilt } from '../local/console-site.js';

const app = new App();
if (String(app.node.tryGetContext(CONTEXT_KEYS.skipBundling)) === 'true') {
  app.node.setContext('aws:cdk:bundling-stacks', []);
} else {
  // The stack deploys the web console's build (ConsoleSite): build it when console/dist is missing,
  // as `npm start` does (after changing console sources, run `npm run console:build` yourself).
  ensureConsoleBuilt({ log: (line) => process.stderr.write(`${line}\n`) });
}
const stackName = (app.node.tryGetContext(CONTEXT_KEYS.stackName) as string | undefined) ?? 'EdgeFleet';
if (!/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(stackName)) {
  throw new Error(`${CONTEXT_KEYS.stackName} must be a valid CloudFormation stack name, got '${stackName}'`);
}

new EdgeFleetStack(app, stackName, {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
addNagChecks(app);
app.synth();
