import { pendingCommandsRequest } from '../../contracts/mqtt.js';
import { sendPendingCommands, type DeviceDeps } from '../../use-cases/device-messages.js';
import { lazy } from '../kit.js';
import { awsDeviceDeps, createIotHandler } from './framework.js';

/** Rule `pending-commands` (edgefleet/hosts/+/commands/pending): re-send what the device has not acknowledged. */
export const makeHandler = (deps: () => DeviceDeps) => createIotHandler('pending-commands', pendingCommandsRequest, async (hostId, _msg, d) => {
  const out = await sendPendingCommands(d, hostId);
  return `sent:${out.sent.length} timed-out:${out.timedOut.length}`;
}, deps);

export const handler = lazy(() => makeHandler(awsDeviceDeps));
