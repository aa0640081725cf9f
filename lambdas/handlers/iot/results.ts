import { resultMessage } from '../../contracts/mqtt.js';
import { recordResult, type DeviceDeps } from '../../use-cases/device-messages.js';
import { lazy } from '../kit.js';
import { awsDeviceDeps, createIotHandler } from './framework.js';

/** Rule `results` (edgefleet/hosts/+/results): drive the command's lifecycle; idempotent. */
export const makeHandler = (deps: () => DeviceDeps) => createIotHandler('results', resultMessage, async (hostId, msg, d) => {
  const { commandId, phase, detail, progress } = msg;
  return recordResult(d, hostId, commandId, { phase, ...(detail !== undefined ? { detail } : {}), ...(progress !== undefined ? { progress } : {}) });
}, deps);

export const handler = lazy(() => makeHandler(awsDeviceDeps));
