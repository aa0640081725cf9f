/**
 * The agent as a separate process on a simulated Kairos host: the same agent process as the
 * shipped entry (device/main.ts, same configuration, signals and exit codes), with a
 * SimulatedKairos whose disk lives in the state dir. Used by `npm run bench:agent-rss`, which
 * bundles it like the shipped agent (device/build.ts `bundleAgent`).
 */
import { join } from 'node:path';
import { runAgentProcess } from '../device/run-agent-process.js';
import { SimulatedKairos } from './simulated-kairos.js';

runAgentProcess((config) => new SimulatedKairos({ stateFile: join(config.stateDir, 'simulated-disk.json'), rebootDelayMs: 2000 }));
