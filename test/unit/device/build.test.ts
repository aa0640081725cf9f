import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { bundleAgent, systemdUnit, type Bundle } from '../../../device/build.js';
import { NATIVE_ASSET, addonHashes, seaBanner } from '../../../device/build-executable.js';

describe('device build artefacts', () => {
  test('the systemd unit runs the executable itself (no Node.js on the host) and does not restart on a terminal refusal', () => {
    const u = systemdUnit('/opt/ef');
    expect(u).toContain('ExecStart=/opt/ef/edgefleet-agent\n');
    expect(u).not.toMatch(/\bnode\b/);
    expect(u).toContain('EDGEFLEET_NATIVE_DIR=/opt/ef/.native');
    expect(u).toContain('RestartPreventExitStatus=78');
    expect(u).toContain('EDGEFLEET_AGENT_CONFIG=/oem/edgefleet/agent.json');
  });
});

/** Names only the simulator's fault injection uses (SimulatedFailures, the simulated disk, the power-off hook). */
const FAULT_INJECTION = ['bootFallback', 'neverReturns', 'failImages', 'joinFailure', 'drainFailure', 'neverReady', 'lowDiskMb', 'imageUnreachable', 'simulated-disk.json', 'onPowerOff'];
const simulatorInputs = (b: Bundle) => b.inputs.filter((f) => f.startsWith('simulator/') || basename(f).startsWith('simulated-'));

describe('the agent bundle (esbuild, what ships to every edge host)', () => {
  let agent: Bundle;
  let simulated: Bundle;
  let executable: Bundle;
  beforeAll(async () => {
    const outfile = join(tmpdir(), 'edgefleet-agent-test.mjs');
    agent = await bundleAgent({ outfile, write: false });
    // What goes into the single executable: the same inputs, CommonJS, behind the SEA loader.
    executable = await bundleAgent({ outfile, write: false, format: 'cjs' });
    // The control: the simulator's process entry, bundled the same way, does carry them.
    simulated = await bundleAgent({ entry: 'simulator/agent-main.ts', outfile, write: false });
  }, 60_000);

  test('is built from the agent: its entry, the agent and the wire contracts', () => {
    expect(agent.inputs).toEqual(expect.arrayContaining(['device/main.ts', 'device/agent.ts', 'lambdas/contracts/mqtt.ts']));
  });

  test('the executable\'s CommonJS bundle has the same inputs and starts with the SEA loader (real require, addon out of the blob)', async () => {
    expect([...executable.inputs].sort()).toEqual([...agent.inputs].sort());
    expect(executable.text!.startsWith(seaBanner(await addonHashes(process.cwd())))).toBe(true);
    expect(executable.text).toContain(`sea.getRawAsset('${NATIVE_ASSET}')`);
    expect(executable.text).not.toMatch(/^import /m);
  });

  test('holds no simulator source file', () => {
    expect(simulatorInputs(agent)).toEqual([]);
    expect(agent.inputs.filter((f) => !f.startsWith('node_modules/') && !f.startsWith('device/') && !f.startsWith('lambdas/contracts/'))).toEqual([]);
  });

  test('holds none of the fault-injection names (which the simulator bundle does hold)', () => {
    expect(simulatorInputs(simulated)).toEqual(expect.arrayContaining(['simulator/agent-main.ts', 'simulator/simulated-kairos.ts']));
    expect(FAULT_INJECTION.filter((s) => !simulated.text!.includes(s))).toEqual([]);
    expect(FAULT_INJECTION.filter((s) => agent.text!.includes(s))).toEqual([]);
  });
});
