#!/usr/bin/env -S npx tsx
/**
 * `npm start`: the whole EdgeFleet control plane on this machine.
 *   --port <n>        API port on 127.0.0.1 (default 8080; 0 = any free port)
 *   --data-dir <dir>  where local data lives (default .edgefleet)
 *   --simulate <n>    also start n simulated edge hosts (the real agent code with a simulated
 *                     Kairos) that register through the real HTTP and MQTT paths
 *   --host-timeout <s> seconds one host may take for one workflow step (default 1800)
 *   --simulate-procs <p> run the simulated hosts in p worker processes (default 1: in this one)
 *   --register-rate <n> registrations admitted to the registry per second (default unlimited;
 *                     the stack's default on AWS is 10, the IoT registry's rate)
 *   --function-concurrency <n> invocations of one function at a time on this machine (default
 *                     unbounded, as on AWS; the others wait for a slot, their timeout counting
 *                     from their start: for a registration storm on a small machine)
 */
import { parseArgs } from 'node:util';
import path from 'node:path';
import { startLocal } from '../local/runtime.js';
import { ensureConsoleBuilt } from '../local/console-site.js';
import { SIMULATOR_CONTROL_PREFIX, simulatorControl, startProcessFleet, startSimulatedAgents, type SimulatedFleet } from '../simulator/index.js';

function fail(message: string): never {
  process.stderr.write(`edgefleet: ${message}\n`);
  process.exit(2);
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        port: { type: 'string', default: '8080' },
        'data-dir': { type: 'string', default: '.edgefleet' },
        simulate: { type: 'string' },
        'log-level': { type: 'string', default: 'WARN' },
        'host-timeout': { type: 'string', default: '1800' },
        'register-rate': { type: 'string' },
        'simulate-procs': { type: 'string', default: '1' },
        'agent-artifacts': { type: 'string' },
        'function-concurrency': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    });
  } catch (e) {
    return fail(`${(e as Error).message}; see npm start -- --help`);
  }
})();

if (values.help) {
  process.stdout.write('usage: npm start -- [--port 8080] [--data-dir .edgefleet] [--log-level WARN] [--simulate N [--simulate-procs P]] [--host-timeout 1800] [--register-rate N] [--function-concurrency N] [--agent-artifacts dist/device]\n');
  process.exit(0);
}
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be a number from 0 to 65535, got "${values.port}"`);
const simulate = values.simulate === undefined ? 0 : Number(values.simulate);
if (!Number.isInteger(simulate) || simulate < 0 || simulate > 5000) fail(`--simulate must be a number of hosts from 0 to 5000, got "${values.simulate}"`);

const simulateProcs = Number(values['simulate-procs']);
if (!Number.isInteger(simulateProcs) || simulateProcs < 1 || simulateProcs > 64) fail(`--simulate-procs must be a number of processes from 1 to 64, got "${values['simulate-procs']}"`);

const hostTimeoutSeconds = Number(values['host-timeout']);
if (!Number.isInteger(hostTimeoutSeconds) || hostTimeoutSeconds < 10 || hostTimeoutSeconds > 86_400) fail(`--host-timeout must be a number of seconds from 10 to 86400, got "${values['host-timeout']}"`);

const registerRate = values['register-rate'] === undefined ? undefined : Number(values['register-rate']);
if (registerRate !== undefined && (!Number.isInteger(registerRate) || registerRate < 1 || registerRate > 10_000)) fail(`--register-rate must be a number of registrations per second from 1 to 10000, got "${values['register-rate']}"`);

const functionConcurrency = values['function-concurrency'] === undefined ? undefined : Number(values['function-concurrency']);
if (functionConcurrency !== undefined && (!Number.isInteger(functionConcurrency) || functionConcurrency < 1 || functionConcurrency > 1000)) fail(`--function-concurrency must be a number of invocations from 1 to 1000 (Lambda's default account concurrency), got "${values['function-concurrency']}"`);

try {
  ensureConsoleBuilt({ log: (line) => process.stdout.write(`${line}\n`) });
  const rt = await startLocal({ port, dataDir: values['data-dir'], logLevel: values['log-level'], hostTimeoutSeconds, ...(registerRate !== undefined ? { registerAdmissionPerSecond: registerRate } : {}), ...(functionConcurrency !== undefined ? { functionConcurrency } : {}), ...(values['agent-artifacts'] ? { agentArtifactsDir: values['agent-artifacts'] } : {}) });
  const rel = path.relative(process.cwd(), rt.dataDir) || '.';
  process.stdout.write(`EdgeFleet control plane is running.\n  Console:    ${rt.consoleUrl}\n              (the link signs you in once; after that, paste the admin token)\n  API:        ${rt.url}\n  OpenAPI:    ${rt.url}/v1/openapi.json\n  Data:       ${rel}/\n`);
  if (rt.firstStart) process.stdout.write(`  Admin token (first start; also saved in ${rel}/local.json):\n    ${rt.adminToken}\n`);
  else process.stdout.write(`  Admin token: in ${rel}/local.json (run \`npm run edgefleet -- login\`)\n`);
  process.stdout.write(`  MQTT:       ${rt.iot.mqttUrl}\n`);
  if (rt.resumed.length > 0) process.stdout.write(`  Resumed:    ${rt.resumed.length} operation(s) that were running when it stopped (${rt.resumed.join(', ')})\n`);
  let fleet: SimulatedFleet | undefined;
  let stopFleet: () => Promise<void> = async () => undefined;
  if (simulate > 0) {
    // A real registration token, used by the real agent code over the real HTTP and MQTT paths.
    const res = await fetch(`${rt.url}/v1/registration-tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${rt.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'npm start --simulate', autoApprove: true, allowReregistration: true, site: 'simulated', maxUses: simulate * 2 }),
    });
    if (!res.ok) throw new Error(`could not create the simulator's registration token: ${res.status} ${await res.text()}`);
    const { token } = (await res.json()) as { token: string };
    const common = { apiUrl: rt.url, registrationToken: token, project: 'default', count: simulate, stateDir: path.join(rt.dataDir, 'simulated'), site: 'simulated', tunnelEndpoint: rt.tunnelRelay.endpoint };
    if (simulateProcs > 1) {
      const split = await startProcessFleet({ ...common, procs: simulateProcs, uidPrefix: 'sim' });
      stopFleet = () => split.stop();
      const started = Date.now();
      // Memory per simulated host, once they are all online (or after 10 minutes, whatever is online then).
      const timer = setInterval(() => {
        const s = split.stats();
        if (s.online < simulate && Date.now() - started < 600_000) return;
        clearInterval(timer);
        process.stdout.write(`  Simulated:  ${s.online}/${simulate} online in ${simulateProcs} processes, ${Math.round(s.agentRssBytes / 1024 / Math.max(1, s.online))} KB of memory per simulated host\n`);
      }, 1000);
      timer.unref();
    } else {
      fleet = startSimulatedAgents(common);
      stopFleet = () => fleet?.stop() ?? Promise.resolve();
      // Local only: stop or start one simulated host (e.g. to see an alert fire; README "Alerts").
      rt.addLocalRoute(simulatorControl(fleet, rt.adminToken));
    }
    process.stdout.write(`  Simulating: ${simulate} edge host(s) (sim-1 … sim-${simulate})${simulateProcs > 1 ? ` in ${simulateProcs} processes` : ''}; watch them with \`npm run edgefleet -- hosts watch\`\n`);
    if (fleet) process.stdout.write(`  Stop/start one: curl -X POST -H "authorization: Bearer $TOKEN" ${rt.url}${SIMULATOR_CONTROL_PREFIX}sim-2/stop (or /start)\n`);
  }
  process.stdout.write('Press Ctrl-C to stop.\n');
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: stopping the control plane…\n`);
    stopFleet().then(() => rt.stop()).then(() => process.exit(0), (e: unknown) => { process.stderr.write(`edgefleet: clean stop failed: ${String(e)}\n`); process.exit(1); });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
} catch (e) {
  fail(`the control plane could not start: ${(e as Error).message}`);
}
