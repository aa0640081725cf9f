import { consoleLog, startAgent } from './agent.js';
import { ExecFileRunner } from './command-runner.js';
import { ConfigError, loadConfig } from './config.js';
import { KairosCli, type KairosExecutor } from './kairos.js';
import { SimulatedKairos } from './simulated-kairos.js';
import { join } from 'node:path';

/** systemd: do not restart on a configuration problem or a terminal refusal (RestartPreventExitStatus). */
export const EXIT_CONFIG = 78;

async function main(): Promise<number> {
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
  const executor: KairosExecutor = process.env.EDGEFLEET_SIMULATE === '1'
    ? new SimulatedKairos({ stateFile: join(config.stateDir, 'simulated-disk.json'), rebootDelayMs: 2000 })
    : new KairosCli(new ExecFileRunner());
  const agent = startAgent({ config, executor, log: consoleLog });
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

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`edgefleet-agent: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
