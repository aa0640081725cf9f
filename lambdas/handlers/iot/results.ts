import { resultMessage } from '../../contracts/mqtt.js';
import type { DeviceDeps } from '../../use-cases/device-messages.js';
import { recordResultWithSecrets } from '../../use-cases/store-kubeconfig.js';
import { lazy } from '../kit.js';
import { awsDeviceDeps, createIotHandler } from './framework.js';

/**
 * Rule `results` (edgefleet/hosts/+/results): drive the command's lifecycle; idempotent. An
 * init node's kubeconfig (export-kubeconfig) goes to the secret store, never further.
 */
export const makeHandler = (deps: () => DeviceDeps) => createIotHandler('results', resultMessage, async (hostId, msg, d) => {
  const { commandId, phase, detail, progress, kubeconfig, bundle } = msg;
  return recordResultWithSecrets(d, hostId, commandId, {
    phase, ...(detail !== undefined ? { detail } : {}), ...(progress !== undefined ? { progress } : {}), ...(bundle ? { bundle } : {}),
  }, kubeconfig ? { kubeconfig } : {});
}, deps);

export const handler = lazy(() => makeHandler(awsDeviceDeps));
