/**
 * The shipped agent's entry (bundled by build.ts into the single executables dist/device/edgefleet-agent-linux-<arch>): the
 * agent process on the real Kairos CLI. Simulated hosts have their own entry
 * (simulator/agent-main.ts); nothing here can select one.
 */
import { AllowListRunner, ExecFileRunner } from './command-runner.js';
import { KairosCli } from './kairos.js';
import { runAgentProcess } from './run-agent-process.js';

runAgentProcess(() => new KairosCli(new AllowListRunner(new ExecFileRunner())));
