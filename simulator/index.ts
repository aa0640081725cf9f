/**
 * The simulator's entry point: simulated Kairos hosts, the Kubernetes API they share and a
 * fleet of real agents running on them in one process. Used by `npm start -- --simulate N`
 * (bin/local.ts), the tests and the benchmarks; never by the shipped agent (device/), which
 * the lint rules keep from importing this folder. It may import device/ and lambdas/contracts.
 */
export { simulatorControl, SIMULATOR_CONTROL_PREFIX } from './control-routes.js';
export { startSimulatedAgents, type SimulatedFleet, type SimulatedFleetOptions, type SimulatedHost } from './simulated-fleet.js';
export {
  SimulatedKairos, simulatedDigest, defaultNics, imageKubernetes,
  type SimulatedDisk, type SimulatedFailures, type SimulatedImage, type SimulatedKairosOptions, type SimulatedNic, type SimulatedNode,
} from './simulated-kairos.js';
export { SimulatedKubernetes, type AvailabilityEvent, type SimulatedKubeNode, type SimulatedKubernetesOptions } from './simulated-kubernetes.js';
export { startProcessFleet, type ProcessFleet, type ProcessFleetOptions, type ProcessFleetStats } from './process-fleet.js';
