import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parse } from 'yaml';
import { bundleAgent, cloudConfigSnippet, systemdUnit, type Bundle } from '../../../device/build.js';

describe('device build artefacts', () => {
  test('the systemd unit runs the bundle and does not restart on a terminal refusal', () => {
    const u = systemdUnit('/opt/ef');
    expect(u).toContain('ExecStart=/usr/bin/env node /opt/ef/edgefleet-agent.mjs');
    expect(u).toContain('RestartPreventExitStatus=78');
    expect(u).toContain('EDGEFLEET_AGENT_CONFIG=/oem/edgefleet/agent.json');
  });

  test('the cloud-config snippet is valid YAML with Kairos stages that install the unit and the files', () => {
    const text = cloudConfigSnippet('/opt/ef');
    expect(text.startsWith('#cloud-config\n')).toBe(true);
    const doc = parse(text);
    expect(doc.stages.initramfs[0].files[0]).toMatchObject({ path: '/etc/systemd/system/edgefleet-agent.service', content: systemdUnit('/opt/ef') });
    expect(doc.stages['boot.before'][0].downloads.map((d: any) => d.path)).toContain('/opt/ef/edgefleet-agent.mjs');
    expect(doc.stages.boot[0].systemctl.enable).toEqual(['edgefleet-agent']);
  });
});

/** Names only the simulator's fault injection uses (SimulatedFailures, the simulated disk, the power-off hook). */
const FAULT_INJECTION = ['bootFallback', 'neverReturns', 'failImages', 'joinFailure', 'drainFailure', 'neverReady', 'lowDiskMb', 'imageUnreachable', 'simulated-disk.json', 'onPowerOff'];
const simulatorInputs = (b: Bundle) => b.inputs.filter((f) => f.startsWith('simulator/') || basename(f).startsWith('simulated-'));

describe('the agent bundle (esbuild, what ships to every edge host)', () => {
  let agent: Bundle;
  let simulated: Bundle;
  beforeAll(async () => {
    const outfile = join(tmpdir(), 'edgefleet-agent-test.mjs');
    agent = await bundleAgent({ outfile, write: false });
    // The control: the simulator's process entry, bundled the same way, does carry them.
    simulated = await bundleAgent({ entry: 'simulator/agent-main.ts', outfile, write: false });
  }, 60_000);

  test('is built from the agent: its entry, the agent and the wire contracts', () => {
    expect(agent.inputs).toEqual(expect.arrayContaining(['device/main.ts', 'device/agent.ts', 'lambdas/contracts/mqtt.ts']));
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
