import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isSea } from 'node:sea';
import { consoleLog, startAgent } from './agent.js';
import { ConfigError, loadConfig, type AgentConfig } from './config.js';
import type { KairosExecutor } from './kairos.js';
import { writeFileAtomic } from './state-store.js';

/** systemd: do not restart on a configuration problem or a terminal refusal (RestartPreventExitStatus). */
export const EXIT_CONFIG = 78;

/**
 * The agent as a process: loads the configuration, starts the agent on the executor that
 * `executorFor` builds, stops it on SIGTERM/SIGINT and exits with what systemd should know
 * (78 on a configuration error or a terminal refusal, 1 on a failure, else 0). The shipped
 * entry (main.ts) passes the real Kairos CLI; the simulator's process entry a simulated host.
 */
export function runAgentProcess(executorFor: (config: AgentConfig) => KairosExecutor): void {
  main(executorFor).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`edgefleet-agent: ${(e as Error).stack ?? e}\n`);
      process.exit(1);
    },
  );
}

async function main(executorFor: (config: AgentConfig) => KairosExecutor): Promise<number> {
  let config;
  try {
    config = await loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`edgefleet-agent: ${e.message}\n`);
      return EXIT_CONFIG;
    }
    throw e;
  }
  if (config.caBundle && process.env.EDGEFLEET_CA_BUNDLE_APPLIED !== '1') return relaunchWithCaBundle(config.stateDir, config.caBundle);
  const agent = startAgent({ config, executor: executorFor(config), log: consoleLog });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    consoleLog('info', `${signal}: stopping`);
    void agent.stop();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  await agent.done;
  if (agent.state.phase === 'refused') {
    process.stderr.write(`\nedgefleet-agent: ${agent.state.message}\n`);
    return EXIT_CONFIG;
  }
  return agent.state.phase === 'failed' ? 1 : 0;
}

/**
 * Node reads extra trusted CAs (NODE_EXTRA_CA_CERTS) only at start: write the config's
 * caBundle (e.g. a TLS-inspecting proxy's CA) into the state dir and run the agent again as a
 * child with it, forwarding stop signals.
 */
async function relaunchWithCaBundle(stateDir: string, caBundle: string): Promise<number> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const bundle = join(stateDir, 'api-ca-bundle.pem');
  await writeFileAtomic(bundle, caBundle.endsWith('\n') ? caBundle : `${caBundle}\n`);
  // A single executable is its own script (its argv[1] repeats the executable's path).
  const args = isSea() ? process.argv.slice(2) : [...process.execArgv, ...process.argv.slice(1)];
  const child = spawn(process.execPath, args, {
    stdio: 'inherit',
    env: { ...process.env, NODE_EXTRA_CA_CERTS: bundle, EDGEFLEET_CA_BUNDLE_APPLIED: '1' },
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => child.kill(signal));
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}
