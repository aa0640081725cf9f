/**
 * The agent as a separate process on a simulated Kairos host: the same agent process as the
 * shipped entry (device/main.ts, same configuration, signals and exit codes), with a
 * SimulatedKairos whose disk lives in the state dir. test/unit/device/build.test.ts bundles it
 * like the shipped agent as the control (it does carry the simulator); `buildAgent({ entry })`
 * (device/build.ts) makes a single executable of it. `npm run bench:agent-rss` runs the real agent.
 */
import { join } from 'node:path';
import { runAgentProcess } from '../device/run-agent-process.js';
import { SimulatedKairos } from './simulated-kairos.js';

runAgentProcess((config) => new SimulatedKairos({ stateFile: join(config.stateDir, 'simulated-disk.json'), rebootDelayMs: 2000 }));
